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

export class QuickXorHash {
  private lanes = new Uint8Array(CLASSES);
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
    for (; i + CLASSES <= n; i += CLASSES) {
      for (let k = 0; k < CLASSES; k++) lanes[k]! ^= data[i + k]!;
    }
    for (; i < n; i++) lanes[lane++]! ^= data[i]!;
    this.length += n;
    return this;
  }

  /** A copy with the same state: lets an upload fragment be hashed tentatively and dropped if cut off. */
  clone(): QuickXorHash {
    const copy = new QuickXorHash();
    copy.lanes.set(this.lanes);
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
