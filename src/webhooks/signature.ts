import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Qonto's webhook signature (docs/webhooks.md): the `X-Qonto-Signature` header is `t=<unix seconds>,v1=<hex>`,
 * where hex is HMAC-SHA256 keyed with the subscription's secret over `"<t>.<raw body>"`. A delivery is
 * genuine when one `v1` matches under one of the secrets (several while a secret is being replaced),
 * and fresh when `t` is within the tolerance of our clock, both ways (a replay of an old delivery, or a
 * clock far ahead, is refused). Pure: the caller passes the raw bytes as received and the time.
 */

/** Qonto refuses nothing older than 5 minutes on its side; neither do we. */
export const SIGNATURE_TOLERANCE_SEC = 5 * 60;

export type SignatureCheck = { ok: true; timestamp: number } | { ok: false; reason: 'malformed' | 'stale' | 'mismatch' };

interface ParsedHeader {
  timestamp: number;
  signatures: string[];
}

const HEX_SHA256 = /^[0-9a-f]{64}$/;

/** `t=…,v1=…[,v1=…]`, in any order, spaces around the parts tolerated; null when it is not that. */
export function parseSignatureHeader(header: string | undefined | null): ParsedHeader | null {
  if (!header || header.length > 1_000) return null;
  let timestamp: number | null = null;
  const signatures: string[] = [];
  for (const part of header.split(',')) {
    const eq = part.indexOf('=');
    if (eq < 0) return null;
    const key = part.slice(0, eq).trim();
    const value = part.slice(eq + 1).trim();
    if (key === 't') {
      if (timestamp !== null || !/^\d{1,12}$/.test(value)) return null;
      timestamp = Number(value);
    } else if (key === 'v1') {
      // Lowercase hex of a SHA-256: anything else cannot match, and is not worth comparing.
      if (!HEX_SHA256.test(value.toLowerCase())) return null;
      signatures.push(value.toLowerCase());
    }
    // Other schemes (a future v2) are ignored, as long as a v1 is there.
  }
  return timestamp === null || signatures.length === 0 ? null : { timestamp, signatures };
}

/** The `v1` hex for `body` sent at `timestamp` (seconds) under `secret`. */
export function qontoSignature(secret: string, timestamp: number, body: Uint8Array | string): string {
  return createHmac('sha256', secret).update(`${timestamp}.`).update(body).digest('hex');
}

/** The header a sender puts on a delivery (the simulator, tests). */
export function qontoSignatureHeader(secret: string, timestamp: number, body: Uint8Array | string): string {
  return `t=${timestamp},v1=${qontoSignature(secret, timestamp, body)}`;
}

/** Checks a delivery: `nowSec` is our clock in seconds; `secrets` the subscription secrets in force. */
export function verifyQontoSignature(input: {
  header: string | undefined | null;
  body: Uint8Array | string;
  secrets: readonly string[];
  nowSec: number;
  toleranceSec?: number;
}): SignatureCheck {
  const parsed = parseSignatureHeader(input.header);
  if (!parsed) return { ok: false, reason: 'malformed' };
  if (Math.abs(input.nowSec - parsed.timestamp) > (input.toleranceSec ?? SIGNATURE_TOLERANCE_SEC)) return { ok: false, reason: 'stale' };
  for (const secret of input.secrets) {
    if (secret === '') continue;
    const expected = Buffer.from(qontoSignature(secret, parsed.timestamp, input.body), 'hex');
    // Every candidate is compared in full, in constant time: the answer tells an attacker nothing
    // about how much of a guess was right.
    let match = false;
    for (const given of parsed.signatures) match = timingSafeEqual(expected, Buffer.from(given, 'hex')) || match;
    if (match) return { ok: true, timestamp: parsed.timestamp };
  }
  return { ok: false, reason: 'mismatch' };
}
