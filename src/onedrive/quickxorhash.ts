/**
 * OneDrive's quickXorHash (the only content hash guaranteed on personal drives), streaming.
 *
 * Byte i is XORed into a 160-bit register at bit (11·i) mod 160, rotating. The shift depends only on
 * i mod 160, so all bytes in the same position class can be XOR-folded first and shifted once at the
 * end: updating is a single XOR per byte (a 32-bit XOR per 4 bytes on aligned input).
 */
const WIDTH_BYTES = 20; // 160 bits
const CLASSES = 160; // shift positions before the pattern repeats
const LENGTH_OFFSET = 12; // the total length (u64 LE) is XORed into bytes 12..19

/** Shared by every instance: update() is synchronous, so no two calls use it at once. */
const SCRATCH_BLOCKS = 64; // 10 kB
const SCRATCH_WORDS = new Uint32Array(SCRATCH_BLOCKS * (CLASSES / 4));
const SCRATCH_BYTES = new Uint8Array(SCRATCH_WORDS.buffer);

/**
 * XORs each 40-word block of `words[0, count)` into `acc`. Written out word by word with the register
 * held in locals: about twice the speed of a loop over `acc` (5.5 against 2.6 GB/s here), which
 * matters because every byte of every receipt passes through it on the worker's main thread.
 */
function xorBlocks(acc: Uint32Array, w: Uint32Array, count: number): void {
  let a0 = acc[0]!, a1 = acc[1]!, a2 = acc[2]!, a3 = acc[3]!, a4 = acc[4]!, a5 = acc[5]!, a6 = acc[6]!, a7 = acc[7]!, a8 = acc[8]!, a9 = acc[9]!;
  let b0 = acc[10]!, b1 = acc[11]!, b2 = acc[12]!, b3 = acc[13]!, b4 = acc[14]!, b5 = acc[15]!, b6 = acc[16]!, b7 = acc[17]!, b8 = acc[18]!, b9 = acc[19]!;
  let c0 = acc[20]!, c1 = acc[21]!, c2 = acc[22]!, c3 = acc[23]!, c4 = acc[24]!, c5 = acc[25]!, c6 = acc[26]!, c7 = acc[27]!, c8 = acc[28]!, c9 = acc[29]!;
  let d0 = acc[30]!, d1 = acc[31]!, d2 = acc[32]!, d3 = acc[33]!, d4 = acc[34]!, d5 = acc[35]!, d6 = acc[36]!, d7 = acc[37]!, d8 = acc[38]!, d9 = acc[39]!;
  for (let i = 0; i < count; i += CLASSES / 4) {
    a0 ^= w[i]!; a1 ^= w[i + 1]!; a2 ^= w[i + 2]!; a3 ^= w[i + 3]!; a4 ^= w[i + 4]!; a5 ^= w[i + 5]!; a6 ^= w[i + 6]!; a7 ^= w[i + 7]!; a8 ^= w[i + 8]!; a9 ^= w[i + 9]!;
    b0 ^= w[i + 10]!; b1 ^= w[i + 11]!; b2 ^= w[i + 12]!; b3 ^= w[i + 13]!; b4 ^= w[i + 14]!; b5 ^= w[i + 15]!; b6 ^= w[i + 16]!; b7 ^= w[i + 17]!; b8 ^= w[i + 18]!; b9 ^= w[i + 19]!;
    c0 ^= w[i + 20]!; c1 ^= w[i + 21]!; c2 ^= w[i + 22]!; c3 ^= w[i + 23]!; c4 ^= w[i + 24]!; c5 ^= w[i + 25]!; c6 ^= w[i + 26]!; c7 ^= w[i + 27]!; c8 ^= w[i + 28]!; c9 ^= w[i + 29]!;
    d0 ^= w[i + 30]!; d1 ^= w[i + 31]!; d2 ^= w[i + 32]!; d3 ^= w[i + 33]!; d4 ^= w[i + 34]!; d5 ^= w[i + 35]!; d6 ^= w[i + 36]!; d7 ^= w[i + 37]!; d8 ^= w[i + 38]!; d9 ^= w[i + 39]!;
  }
  acc[0] = a0; acc[1] = a1; acc[2] = a2; acc[3] = a3; acc[4] = a4; acc[5] = a5; acc[6] = a6; acc[7] = a7; acc[8] = a8; acc[9] = a9;
  acc[10] = b0; acc[11] = b1; acc[12] = b2; acc[13] = b3; acc[14] = b4; acc[15] = b5; acc[16] = b6; acc[17] = b7; acc[18] = b8; acc[19] = b9;
  acc[20] = c0; acc[21] = c1; acc[22] = c2; acc[23] = c3; acc[24] = c4; acc[25] = c5; acc[26] = c6; acc[27] = c7; acc[28] = c8; acc[29] = c9;
  acc[30] = d0; acc[31] = d1; acc[32] = d2; acc[33] = d3; acc[34] = d4; acc[35] = d5; acc[36] = d6; acc[37] = d7; acc[38] = d8; acc[39] = d9;
}

export class QuickXorHash {
  /** fold[k] = XOR of every byte at an offset ≡ k (mod 160); 4-byte aligned for the word path. */
  private readonly foldWords = new Uint32Array(CLASSES / 4);
  private readonly fold = new Uint8Array(this.foldWords.buffer);
  /** Offset class of the next byte. */
  private position = 0;
  private length = 0;

  update(chunk: Uint8Array): this {
    const n = chunk.length;
    let j = 0;
    let pos = this.position;
    const fold = this.fold;
    // Head: bytes until the next byte falls into class 0, or the chunk runs out.
    while (j < n && pos !== 0) {
      fold[pos]! ^= chunk[j++]!;
      if (++pos === CLASSES) pos = 0;
    }
    // Whole 160-byte blocks, as 40 words when the input is 4-byte aligned.
    const blocks = Math.floor((n - j) / CLASSES);
    if (blocks > 0 && (chunk.byteOffset + j) % 4 === 0) {
      const words = new Uint32Array(chunk.buffer, chunk.byteOffset + j, blocks * (CLASSES / 4));
      xorBlocks(this.foldWords, words, words.length);
      j += blocks * CLASSES;
    } else if (blocks > 0) {
      // Unaligned input (fetch's chunks are arbitrary slices) is copied into an aligned scratch buffer,
      // SCRATCH_BLOCKS blocks at a time: a copy and the word loop are ~4x faster than the byte loop.
      for (let left = blocks; left > 0; ) {
        const take = Math.min(left, SCRATCH_BLOCKS);
        SCRATCH_BYTES.set(chunk.subarray(j, j + take * CLASSES));
        xorBlocks(this.foldWords, SCRATCH_WORDS, take * (CLASSES / 4));
        j += take * CLASSES;
        left -= take;
      }
    }
    // Tail.
    while (j < n) {
      fold[pos]! ^= chunk[j++]!;
      if (++pos === CLASSES) pos = 0;
    }
    this.position = pos;
    this.length += n;
    return this;
  }

  /** The base64 digest (28 characters) of everything fed so far; the state is left untouched. */
  digest(): string {
    const out = new Uint8Array(WIDTH_BYTES);
    for (let k = 0; k < CLASSES; k++) {
      const b = this.fold[k]!;
      if (b === 0) continue;
      const shift = (11 * k) % CLASSES;
      const byte = shift >> 3;
      const bit = shift & 7;
      out[byte]! ^= (b << bit) & 0xff;
      // The high bits spill into the next byte, wrapping from bit 159 to bit 0.
      if (bit !== 0) out[(byte + 1) % WIDTH_BYTES]! ^= b >> (8 - bit);
    }
    let len = this.length;
    for (let i = 0; i < 8; i++) {
      out[LENGTH_OFFSET + i]! ^= len % 256;
      len = Math.floor(len / 256);
    }
    return Buffer.from(out).toString('base64');
  }
}

export function quickXorHash(data: Uint8Array): string {
  return new QuickXorHash().update(data).digest();
}
