/**
 * quickXorHash (reference §5.3), the simulator's own implementation: the OneDrive client has an
 * independent one, so the two cross-check each other. The 160-bit state is kept as 20 little-endian
 * bytes; byte i of the stream is XORed in at bit offset (11·i) mod 160, wrapping past bit 159.
 */
const WIDTH_BITS = 160;
const SHIFT = 11;
const STATE_BYTES = WIDTH_BITS / 8;

export class QuickXorHash {
  private state = new Uint8Array(STATE_BYTES);
  private length = 0;
  /** Bit offset for the next byte, i.e. (11 · length) mod 160, kept incrementally. */
  private shift = 0;

  update(data: Uint8Array): this {
    const state = this.state;
    let shift = this.shift;
    for (let i = 0; i < data.length; i++) {
      const b = data[i]!;
      const index = shift >> 3;
      const bits = shift & 7;
      state[index]! ^= (b << bits) & 0xff;
      if (bits !== 0) state[(index + 1) % STATE_BYTES]! ^= b >> (8 - bits);
      shift += SHIFT;
      if (shift >= WIDTH_BITS) shift -= WIDTH_BITS;
    }
    this.shift = shift;
    this.length += data.length;
    return this;
  }

  /** A copy with the same state: lets an upload fragment be hashed tentatively and dropped if cut off. */
  clone(): QuickXorHash {
    const copy = new QuickXorHash();
    copy.state.set(this.state);
    copy.length = this.length;
    copy.shift = this.shift;
    return copy;
  }

  /** Base64 of the 20-byte state with the total length (u64 little-endian) XORed into bytes 12..19. */
  digest(): string {
    const out = Buffer.from(this.state);
    let len = BigInt(this.length);
    for (let i = 12; i < STATE_BYTES; i++) {
      out[i]! ^= Number(len & 0xffn);
      len >>= 8n;
    }
    return out.toString('base64');
  }
}
