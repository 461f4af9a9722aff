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

function xorBlocks(acc: Uint32Array, words: Uint32Array, count: number): void {
  for (let w = 0; w < count; w += CLASSES / 4) {
    for (let k = 0; k < CLASSES / 4; k++) acc[k]! ^= words[w + k]!;
  }
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
