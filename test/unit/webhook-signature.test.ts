import { describe, expect, it } from 'vitest';
import { parseSignatureHeader, qontoSignature, qontoSignatureHeader, verifyQontoSignature } from '../../src/webhooks/signature.js';

// Qonto's published example: body {"test":"data"}, t = 1704110400, secret test-secret.
const VECTOR = { body: '{"test":"data"}', t: 1_704_110_400, secret: 'test-secret', hex: '56aff06dc227db80d6568a5070f912c601c31f20451745d257cbc0b5dfa93805' };
const header = `t=${VECTOR.t},v1=${VECTOR.hex}`;

describe('Qonto webhook signatures', () => {
  it('computes the published test vector, over the raw bytes as over the text', () => {
    expect(qontoSignature(VECTOR.secret, VECTOR.t, VECTOR.body)).toBe(VECTOR.hex);
    expect(qontoSignature(VECTOR.secret, VECTOR.t, new TextEncoder().encode(VECTOR.body))).toBe(VECTOR.hex);
    expect(qontoSignatureHeader(VECTOR.secret, VECTOR.t, VECTOR.body)).toBe(header);
  });

  it('accepts a genuine delivery within 5 minutes either way, under any secret in force', () => {
    const check = (nowSec: number, secrets = [VECTOR.secret]) => verifyQontoSignature({ header, body: VECTOR.body, secrets, nowSec });
    expect(check(VECTOR.t)).toEqual({ ok: true, timestamp: VECTOR.t });
    expect(check(VECTOR.t + 300)).toMatchObject({ ok: true });
    expect(check(VECTOR.t - 300)).toMatchObject({ ok: true });
    expect(check(VECTOR.t, ['old-secret', VECTOR.secret])).toMatchObject({ ok: true });
    // Spaces, another order, an unknown scheme, an upper-case hex, a second v1 (a rotation on Qonto's side).
    const other = 'ab'.repeat(32);
    expect(verifyQontoSignature({ header: ` v2=zz , v1=${other}, v1=${VECTOR.hex.toUpperCase()} , t=${VECTOR.t}`, body: VECTOR.body, secrets: [VECTOR.secret], nowSec: VECTOR.t })).toMatchObject({ ok: true });
  });

  it('refuses a stale or future timestamp, a forged signature, a changed body and a wrong secret', () => {
    const check = (over: Partial<Parameters<typeof verifyQontoSignature>[0]>) =>
      verifyQontoSignature({ header, body: VECTOR.body, secrets: [VECTOR.secret], nowSec: VECTOR.t, ...over });
    expect(check({ nowSec: VECTOR.t + 301 })).toEqual({ ok: false, reason: 'stale' });
    expect(check({ nowSec: VECTOR.t - 301 })).toEqual({ ok: false, reason: 'stale' });
    expect(check({ body: '{"test":"data" }' })).toEqual({ ok: false, reason: 'mismatch' });
    expect(check({ secrets: ['another-secret'] })).toEqual({ ok: false, reason: 'mismatch' });
    expect(check({ secrets: [] })).toEqual({ ok: false, reason: 'mismatch' });
    expect(check({ secrets: [''] })).toEqual({ ok: false, reason: 'mismatch' });
    // The timestamp is signed too: the same v1 with another t does not pass.
    expect(check({ header: `t=${VECTOR.t + 1},v1=${VECTOR.hex}`, nowSec: VECTOR.t + 1 })).toEqual({ ok: false, reason: 'mismatch' });
  });

  it('reads a header that is not `t=…,v1=…` as malformed', () => {
    for (const bad of [undefined, null, '', 'garbage', `t=${VECTOR.t}`, `v1=${VECTOR.hex}`, `t=abc,v1=${VECTOR.hex}`, `t=${VECTOR.t},t=${VECTOR.t},v1=${VECTOR.hex}`, `t=${VECTOR.t},v1=xyz`, `t=${VECTOR.t},v1=${VECTOR.hex.slice(2)}`, `t=-5,v1=${VECTOR.hex}`, `${'x'.repeat(2_000)}`]) {
      expect(parseSignatureHeader(bad), String(bad)).toBeNull();
      expect(verifyQontoSignature({ header: bad, body: VECTOR.body, secrets: [VECTOR.secret], nowSec: VECTOR.t })).toEqual({ ok: false, reason: 'malformed' });
    }
  });
});
