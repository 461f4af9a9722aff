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

/** XORs every row of 40 words of `rows` into `lanes`, the 40 lanes held in locals meanwhile (twice
 * the speed of XORing into the array word by word). */
function foldRows(lanes: Uint32Array, rows: Uint32Array): void {
  const l = lanes;
  let w0 = l[0]!, w1 = l[1]!, w2 = l[2]!, w3 = l[3]!, w4 = l[4]!, w5 = l[5]!, w6 = l[6]!, w7 = l[7]!;
  let w8 = l[8]!, w9 = l[9]!, w10 = l[10]!, w11 = l[11]!, w12 = l[12]!, w13 = l[13]!, w14 = l[14]!, w15 = l[15]!;
  let w16 = l[16]!, w17 = l[17]!, w18 = l[18]!, w19 = l[19]!, w20 = l[20]!, w21 = l[21]!, w22 = l[22]!, w23 = l[23]!;
  let w24 = l[24]!, w25 = l[25]!, w26 = l[26]!, w27 = l[27]!, w28 = l[28]!, w29 = l[29]!, w30 = l[30]!, w31 = l[31]!;
  let w32 = l[32]!, w33 = l[33]!, w34 = l[34]!, w35 = l[35]!, w36 = l[36]!, w37 = l[37]!, w38 = l[38]!, w39 = l[39]!;
  for (let r = 0; r < rows.length; r += WORDS) {
    w0 ^= rows[r]!; w1 ^= rows[r + 1]!; w2 ^= rows[r + 2]!; w3 ^= rows[r + 3]!; w4 ^= rows[r + 4]!; w5 ^= rows[r + 5]!; w6 ^= rows[r + 6]!; w7 ^= rows[r + 7]!;
    w8 ^= rows[r + 8]!; w9 ^= rows[r + 9]!; w10 ^= rows[r + 10]!; w11 ^= rows[r + 11]!; w12 ^= rows[r + 12]!; w13 ^= rows[r + 13]!; w14 ^= rows[r + 14]!; w15 ^= rows[r + 15]!;
    w16 ^= rows[r + 16]!; w17 ^= rows[r + 17]!; w18 ^= rows[r + 18]!; w19 ^= rows[r + 19]!; w20 ^= rows[r + 20]!; w21 ^= rows[r + 21]!; w22 ^= rows[r + 22]!; w23 ^= rows[r + 23]!;
    w24 ^= rows[r + 24]!; w25 ^= rows[r + 25]!; w26 ^= rows[r + 26]!; w27 ^= rows[r + 27]!; w28 ^= rows[r + 28]!; w29 ^= rows[r + 29]!; w30 ^= rows[r + 30]!; w31 ^= rows[r + 31]!;
    w32 ^= rows[r + 32]!; w33 ^= rows[r + 33]!; w34 ^= rows[r + 34]!; w35 ^= rows[r + 35]!; w36 ^= rows[r + 36]!; w37 ^= rows[r + 37]!; w38 ^= rows[r + 38]!; w39 ^= rows[r + 39]!;
  }
  l[0] = w0; l[1] = w1; l[2] = w2; l[3] = w3; l[4] = w4; l[5] = w5; l[6] = w6; l[7] = w7;
  l[8] = w8; l[9] = w9; l[10] = w10; l[11] = w11; l[12] = w12; l[13] = w13; l[14] = w14; l[15] = w15;
  l[16] = w16; l[17] = w17; l[18] = w18; l[19] = w19; l[20] = w20; l[21] = w21; l[22] = w22; l[23] = w23;
  l[24] = w24; l[25] = w25; l[26] = w26; l[27] = w27; l[28] = w28; l[29] = w29; l[30] = w30; l[31] = w31;
  l[32] = w32; l[33] = w33; l[34] = w34; l[35] = w35; l[36] = w36; l[37] = w37; l[38] = w38; l[39] = w39;
}

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
    // Whole rows are XORed as 32-bit words (4 classes at a time), read in place when the data is
    // 4-byte aligned, else from an aligned scratch copy: the byte loop over every uploaded byte took
    // a tenth of a core in the benchmark.
    const words = this.laneWords;
    const aligned = (data.byteOffset + i) % 4 === 0;
    while (i + CLASSES <= n) {
      const rows = aligned ? Math.floor((n - i) / CLASSES) : Math.min(ROWS, Math.floor((n - i) / CLASSES));
      if (aligned) foldRows(words, new Uint32Array(data.buffer, data.byteOffset + i, rows * WORDS));
      else {
        ROW_BYTES.set(data.subarray(i, i + rows * CLASSES));
        foldRows(words, ROW_WORDS.subarray(0, rows * WORDS));
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
