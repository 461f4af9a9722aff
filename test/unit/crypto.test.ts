import { randomBytes } from 'node:crypto';
import { mkdtempSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createSealer, KEY_FILE_NAME, loadOrCreateKeys } from '../../src/auth/crypto.js';
import { parseKeyList } from '../../src/auth/keys.js';

const AAD = 'token-cache:microsoft:int-1';

describe('sealer (AES-256-GCM)', () => {
  const sealer = createSealer(randomBytes(32));
  const plain = Buffer.from('{"RefreshToken":{"secret":"M.C5-very-secret"}}');

  it('round-trips, with a fresh IV each time and no plaintext in the blob', () => {
    const a = sealer.seal(plain, AAD);
    const b = sealer.seal(plain, AAD);
    expect(a.equals(b)).toBe(false);
    expect(a.includes(Buffer.from('very-secret'))).toBe(false);
    expect(sealer.open(a, AAD).equals(plain)).toBe(true);
    expect(sealer.open(b, AAD).equals(plain)).toBe(true);
    expect(sealer.open(sealer.seal(Buffer.alloc(0), AAD), AAD).length).toBe(0);
  });

  it('refuses any tampered byte (header, IV, tag or ciphertext) and truncation', () => {
    const sealed = sealer.seal(plain, AAD);
    for (let i = 0; i < sealed.length; i++) {
      const bad = Buffer.from(sealed);
      bad[i] = (bad[i] ?? 0) ^ 0x01;
      expect(() => sealer.open(bad, AAD), `byte ${i}`).toThrow();
    }
    expect(() => sealer.open(sealed.subarray(0, 20), AAD)).toThrow(/truncated/);
    expect(() => sealer.open(sealed.subarray(0, sealed.length - 1), AAD)).toThrow(/authentication/);
  });

  it('binds a blob to its purpose (associated data) and to its key', () => {
    const sealed = sealer.seal(plain, AAD);
    expect(() => sealer.open(sealed, 'token-cache:microsoft:int-2')).toThrow(/authentication/);
    expect(() => createSealer(randomBytes(32)).open(sealed, AAD)).toThrow(/another key, one that ENCRYPTION_KEY does not list/);
    expect(() => createSealer(randomBytes(16))).toThrow(/32 bytes/);
  });
});

describe('loadOrCreateKeys', () => {
  const dataDir = () => mkdtempSync(join(tmpdir(), 'key-'));

  it('generates <dataDir>/encryption.key with mode 0600 and reuses it', async () => {
    const dir = join(dataDir(), 'nested');
    const [key] = await loadOrCreateKeys({ dataDir: dir });
    expect(key?.length).toBe(32);
    const file = join(dir, KEY_FILE_NAME);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(await loadOrCreateKeys({ dataDir: dir })).toEqual([key]);
  });

  it('gives processes racing on one data directory the same key', async () => {
    const dir = dataDir();
    const keys = await Promise.all(Array.from({ length: 8 }, async () => (await loadOrCreateKeys({ dataDir: dir }))[0]));
    for (const k of keys) expect(k.equals(keys[0] ?? Buffer.alloc(0))).toBe(true);
  });

  it('accepts ENCRYPTION_KEY as hex or base64 (and then writes no file)', async () => {
    const raw = randomBytes(32);
    const dir = dataDir();
    expect(await loadOrCreateKeys({ encryptionKey: raw.toString('hex'), dataDir: dir })).toEqual([raw]);
    expect(await loadOrCreateKeys({ encryptionKey: raw.toString('base64'), dataDir: dir })).toEqual([raw]);
    expect(await loadOrCreateKeys({ encryptionKey: ` ${raw.toString('base64url')}\n`, dataDir: dir })).toEqual([raw]);
    expect(() => statSync(join(dir, KEY_FILE_NAME))).toThrow();
  });

  it('explains a malformed key without echoing it', async () => {
    const dir = dataDir();
    const short = randomBytes(16).toString('hex');
    const error = await loadOrCreateKeys({ encryptionKey: short, dataDir: dir }).catch((e: Error) => e);
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).message).toMatch(/ENCRYPTION_KEY must encode exactly 32 bytes/);
    expect((error as Error).message).not.toContain(short);
    await expect(loadOrCreateKeys({ encryptionKey: 'not a key!', dataDir: dir })).rejects.toThrow(/ENCRYPTION_KEY must be 32 bytes/);

    writeFileSync(join(dir, KEY_FILE_NAME), 'garbage!');
    await expect(loadOrCreateKeys({ dataDir: dir })).rejects.toThrow(new RegExp(`${KEY_FILE_NAME} must be 32 bytes`));
  });
});

describe('key lists (rotation)', () => {
  const a = randomBytes(32);
  const b = randomBytes(32);
  const list = (...keys: [string, Buffer][]) => keys.map(([id, k]) => `${id}:${k.toString('base64')}`).join(',');

  it('parses id:key,… in order, and the single-key form as a list of one', () => {
    expect(parseKeyList(list(['b', b], ['a', a]), 'ENCRYPTION_KEY')).toEqual([b, a]);
    expect(parseKeyList(` 2026-01:${b.toString('hex')} , old_1:${a.toString('base64url')}\n`, 'ENCRYPTION_KEY')).toEqual([b, a]);
    expect(parseKeyList(a.toString('hex'), 'ENCRYPTION_KEY')).toEqual([a]);
  });

  it('refuses a malformed list with the reason and without echoing a key', () => {
    const bad = randomBytes(16).toString('hex');
    expect(() => parseKeyList(`new:${bad},old:${a.toString('hex')}`, 'ENCRYPTION_KEY')).toThrow(/ENCRYPTION_KEY \(key "new"\) must encode exactly 32 bytes/);
    try {
      parseKeyList(`new:${bad}`, 'ENCRYPTION_KEY');
    } catch (error) {
      expect((error as Error).message).not.toContain(bad);
    }
    expect(() => parseKeyList(list(['x', a], ['x', b]), 'ENCRYPTION_KEY')).toThrow(/"x" appears twice/);
    expect(() => parseKeyList(list(['x', a], ['y', a]), 'ENCRYPTION_KEY')).toThrow(/same key is listed twice/);
    expect(() => parseKeyList(`${a.toString('hex')},${b.toString('hex')}`, 'ENCRYPTION_KEY')).toThrow(/entry 1 must be id:key/);
  });

  it('seals with the first key, opens with any listed key, and says which blobs to seal again', () => {
    const sealedByA = createSealer([a]).seal(Buffer.from('tokens'), AAD);
    const rotated = createSealer([b, a]);
    expect(rotated.open(sealedByA, AAD).toString()).toBe('tokens');
    expect(rotated.isCurrent(sealedByA)).toBe(false);
    const sealedByB = rotated.seal(Buffer.from('tokens'), AAD);
    expect(rotated.isCurrent(sealedByB)).toBe(true);
    expect(createSealer([b]).open(sealedByB, AAD).toString()).toBe('tokens');
    expect(() => createSealer([b]).open(sealedByA, AAD)).toThrow(/does not list/);
  });

  it('reads a list from ENCRYPTION_KEY and from the key file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'key-'));
    expect(await loadOrCreateKeys({ encryptionKey: list(['b', b], ['a', a]), dataDir: dir })).toEqual([b, a]);
    writeFileSync(join(dir, KEY_FILE_NAME), `${list(['b', b], ['a', a])}\n`);
    expect(await loadOrCreateKeys({ dataDir: dir })).toEqual([b, a]);
  });
});
