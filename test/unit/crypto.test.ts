import { randomBytes } from 'node:crypto';
import { mkdtempSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createSealer, KEY_FILE_NAME, loadOrCreateKey } from '../../src/auth/crypto.js';

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
    expect(() => createSealer(randomBytes(32)).open(sealed, AAD)).toThrow(/another key/);
    expect(() => createSealer(randomBytes(16))).toThrow(/32 bytes/);
  });
});

describe('loadOrCreateKey', () => {
  const dataDir = () => mkdtempSync(join(tmpdir(), 'key-'));

  it('generates <dataDir>/encryption.key with mode 0600 and reuses it', async () => {
    const dir = join(dataDir(), 'nested');
    const key = await loadOrCreateKey({ dataDir: dir });
    expect(key.length).toBe(32);
    const file = join(dir, KEY_FILE_NAME);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect((await loadOrCreateKey({ dataDir: dir })).equals(key)).toBe(true);
  });

  it('gives processes racing on one data directory the same key', async () => {
    const dir = dataDir();
    const keys = await Promise.all(Array.from({ length: 8 }, () => loadOrCreateKey({ dataDir: dir })));
    for (const k of keys) expect(k.equals(keys[0] ?? Buffer.alloc(0))).toBe(true);
  });

  it('accepts ENCRYPTION_KEY as hex or base64 (and then writes no file)', async () => {
    const raw = randomBytes(32);
    const dir = dataDir();
    expect((await loadOrCreateKey({ encryptionKey: raw.toString('hex'), dataDir: dir })).equals(raw)).toBe(true);
    expect((await loadOrCreateKey({ encryptionKey: raw.toString('base64'), dataDir: dir })).equals(raw)).toBe(true);
    expect((await loadOrCreateKey({ encryptionKey: ` ${raw.toString('base64url')}\n`, dataDir: dir })).equals(raw)).toBe(true);
    expect(() => statSync(join(dir, KEY_FILE_NAME))).toThrow();
  });

  it('explains a malformed key without echoing it', async () => {
    const dir = dataDir();
    const short = randomBytes(16).toString('hex');
    const error = await loadOrCreateKey({ encryptionKey: short, dataDir: dir }).catch((e: Error) => e);
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).message).toMatch(/ENCRYPTION_KEY must encode exactly 32 bytes/);
    expect((error as Error).message).not.toContain(short);
    await expect(loadOrCreateKey({ encryptionKey: 'not a key!', dataDir: dir })).rejects.toThrow(/ENCRYPTION_KEY must be 32 bytes/);

    writeFileSync(join(dir, KEY_FILE_NAME), 'garbage!');
    await expect(loadOrCreateKey({ dataDir: dir })).rejects.toThrow(new RegExp(`${KEY_FILE_NAME} must be 32 bytes`));
  });
});
