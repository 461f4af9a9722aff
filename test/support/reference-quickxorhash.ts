/** quickXorHash exactly as docs/contracts-graph.md, quickXorHash, describes it, one BigInt shift per byte:
 * slow, but independent of both the client's and the simulator's implementations. */
export function referenceQuickXorHash(data: Uint8Array): string {
  const mask = (1n << 160n) - 1n;
  let a = 0n;
  for (let i = 0; i < data.length; i++) {
    const v = BigInt(data[i]!) << BigInt((11 * i) % 160);
    a ^= (v | (v >> 160n)) & mask;
  }
  const out = Buffer.alloc(20);
  for (let i = 0; i < 20; i++) out[i] = Number((a >> BigInt(8 * i)) & 0xffn);
  const len = BigInt(data.length);
  for (let i = 0; i < 8; i++) out[12 + i]! ^= Number((len >> BigInt(8 * i)) & 0xffn);
  return out.toString('base64');
}
