/**
 * quickXorHash (docs/contracts-graph.md, quickXorHash), the simulator's own implementation: the OneDrive client has an
 * independent one, so the two cross-check each other (and both are checked against the plain
 * definition in the tests). Byte i of the stream is XORed in at bit offset (11·i) mod 160, so bytes
 * 160 apart land on the same bits: they are first XORed together in `lanes` (one byte per offset
 * class), and only `digest` spreads the 160 lanes over the 160-bit state. The simulator hashes every
 * uploaded byte, so this matters for benchmarks.
 */
const WIDTH_BITS = 160;
const SHIFT = 11;
const STATE_BYTES = WIDTH_BITS / 8;
/** Offset classes: byte i belongs to class i mod 160. */
const CLASSES = WIDTH_BITS;

const WORDS = CLASSES / 4;
const ROWS = 128;
const ROW_WORDS = new Uint32Array(ROWS * WORDS);
const ROW_BYTES = new Uint8Array(ROW_WORDS.buffer);

export class QuickXorHash {
  private laneWords = new Uint32Array(WORDS);
  private lanes = new Uint8Array(this.laneWords.buffer);
  private length = 0;

  update(data: Uint8Array): this {
    const lanes = this.lanes;
    let lane = this.length % CLASSES;
    let i = 0;
    const n = data.length;
    // Up to the first whole row of 160 classes, then whole rows, then the rest.
    for (; i < n && lane !== 0; i++) {
      lanes[lane]! ^= data[i]!;
      lane = lane + 1 === CLASSES ? 0 : lane + 1;
    }
    // Whole rows are copied into an aligned scratch buffer and XORed as 32-bit words (4 classes at a
    // time): the byte loop over every uploaded byte took a tenth of a core in the benchmark.
    const words = this.laneWords;
    while (i + CLASSES <= n) {
      const rows = Math.min(ROWS, Math.floor((n - i) / CLASSES));
      ROW_BYTES.set(data.subarray(i, i + rows * CLASSES));
      for (let r = 0; r < rows * WORDS; r += WORDS) {
        for (let k = 0; k < WORDS; k++) words[k]! ^= ROW_WORDS[r + k]!;
      }
      i += rows * CLASSES;
    }
    for (; i < n; i++) lanes[lane++]! ^= data[i]!;
    this.length += n;
    return this;
  }

  /** A copy with the same state: lets an upload fragment be hashed tentatively and dropped if cut off. */
  clone(): QuickXorHash {
    const copy = new QuickXorHash();
    copy.laneWords.set(this.laneWords);
    copy.length = this.length;
    return copy;
  }

  /** Base64 of the 20-byte state with the total length (u64 little-endian) XORed into bytes 12..19. */
  digest(): string {
    const out = Buffer.alloc(STATE_BYTES);
    for (let k = 0; k < CLASSES; k++) {
      const b = this.lanes[k]!;
      const shift = (SHIFT * k) % WIDTH_BITS;
      const index = shift >> 3;
      const bits = shift & 7;
      out[index]! ^= (b << bits) & 0xff;
      if (bits !== 0) out[(index + 1) % STATE_BYTES]! ^= b >> (8 - bits);
    }
    let len = BigInt(this.length);
    for (let i = 12; i < STATE_BYTES; i++) {
      out[i]! ^= Number(len & 0xffn);
      len >>= 8n;
    }
    return out.toString('base64');
  }
}
