/**
 * Key lists: `ENCRYPTION_KEY` (and `PAYLOAD_KEY`) hold either one key, or `id:key,id:key,…` where
 * the first key seals or signs and every key opens or verifies — so a key is rotated by putting the
 * new one first and dropping the old one once nothing sealed with it is left.
 *
 * Sealed data names its key by a fingerprint of the key bytes, not by the label: relabelling a key,
 * or moving from the single-key form to a list, leaves everything sealed before readable.
 */
import { createHash } from 'node:crypto';

export const KEY_BYTES = 32;

/** First key = current (seals, signs); the rest still open and verify. Never empty. */
export type KeyList = readonly [Buffer, ...Buffer[]];

/** 4 bytes that tell which key sealed a blob (not secret: a one-way hash of the key). */
export function keyFingerprint(key: Buffer): Buffer {
  return createHash('sha256').update('sealer-key-id\0').update(key).digest().subarray(0, 4);
}

/** Accepts 64 hex characters or base64/base64url of exactly 32 bytes. Never echoes the key. */
export function parseKey(text: string, source: string): Buffer {
  const value = text.trim();
  if (/^[0-9a-fA-F]{64}$/.test(value)) return Buffer.from(value, 'hex');
  if (/^[A-Za-z0-9+/_-]+={0,2}$/.test(value)) {
    const bytes = Buffer.from(value.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
    if (bytes.length === KEY_BYTES) return bytes;
    throw new Error(`${source} must encode exactly ${KEY_BYTES} bytes (64 hex characters or 44 base64 characters); it encodes ${bytes.length}`);
  }
  throw new Error(`${source} must be ${KEY_BYTES} bytes written as 64 hex characters or as base64`);
}

/** `key` alone, or `id:key,id:key,…` (ids: letters, digits, `.`, `_`, `-`; unique). */
export function parseKeyList(text: string, source: string): KeyList {
  const value = text.trim();
  // Neither hex nor base64 contains ':' or ',': a value without them is the single-key form.
  if (!/[:,]/.test(value)) return [parseKey(value, source)];
  const ids = new Set<string>();
  const keys = value.split(',').map((entry, i) => {
    const match = /^\s*([A-Za-z0-9._-]{1,32}):(.+)$/.exec(entry);
    if (!match) throw new Error(`${source}: entry ${i + 1} must be id:key (id of letters, digits, '.', '_' or '-')`);
    const [, id, key] = match as unknown as [string, string, string];
    if (ids.has(id)) throw new Error(`${source}: key id "${id}" appears twice`);
    ids.add(id);
    return parseKey(key, `${source} (key "${id}")`);
  });
  const fingerprints = new Set(keys.map((k) => keyFingerprint(k).toString('hex')));
  if (fingerprints.size !== keys.length) throw new Error(`${source}: the same key is listed twice`);
  return keys as unknown as KeyList;
}
