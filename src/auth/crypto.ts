/**
 * Encryption of secrets at rest (token caches, sign-in state): AES-256-GCM with a fresh 12-byte IV
 * per seal.
 *
 * Sealed layout: [format version 1 byte][key id 4 bytes][IV 12 bytes][tag 16 bytes][ciphertext].
 * The key id is a fingerprint of the key (keys.ts), so a blob opens with whichever configured key
 * sealed it, and `isCurrent` tells whether it should be sealed again with the first one. The header
 * and the caller's purpose string are authenticated as associated data: a blob copied to another
 * integration or purpose, or with any byte changed, does not open.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { link, mkdir, readFile, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { KEY_BYTES, keyFingerprint, parseKeyList, type KeyList } from './keys.js';

export interface Sealer {
  /** Seals with the first (current) key. */
  seal(plain: Buffer, aad: string): Buffer;
  /** Opens with whichever configured key sealed the blob. */
  open(sealed: Buffer, aad: string): Buffer;
  /** False when an older key sealed the blob: the caller seals it again once it has opened it. */
  isCurrent(sealed: Buffer): boolean;
}

const FORMAT_V1 = 1;
const KEY_ID_BYTES = 4;
const IV_BYTES = 12;
const TAG_BYTES = 16;
const HEADER_BYTES = 1 + KEY_ID_BYTES + IV_BYTES + TAG_BYTES;

export const KEY_FILE_NAME = 'encryption.key';

function associatedData(version: number, id: Buffer, aad: string): Buffer {
  return Buffer.concat([Buffer.from([version]), id, Buffer.from(aad, 'utf8')]);
}

/** `keys`: one key, or the configured list (the first seals, all open). */
export function createSealer(keys: Buffer | KeyList): Sealer {
  const list: readonly Buffer[] = Buffer.isBuffer(keys) ? [keys] : keys;
  for (const key of list) if (key.length !== KEY_BYTES) throw new Error(`encryption key must be ${KEY_BYTES} bytes, got ${key.length}`);
  const ring = list.map((key) => ({ key, id: keyFingerprint(key) }));
  const current = ring[0];
  if (!current) throw new Error('at least one encryption key is needed');
  const blobKeyId = (sealed: Buffer) => sealed.subarray(1, 1 + KEY_ID_BYTES);
  return {
    seal(plain, aad) {
      const iv = randomBytes(IV_BYTES);
      const cipher = createCipheriv('aes-256-gcm', current.key, iv);
      cipher.setAAD(associatedData(FORMAT_V1, current.id, aad));
      const body = Buffer.concat([cipher.update(plain), cipher.final()]);
      return Buffer.concat([Buffer.from([FORMAT_V1]), current.id, iv, cipher.getAuthTag(), body]);
    },
    open(sealed, aad) {
      if (sealed.length < HEADER_BYTES) throw new Error('sealed data is truncated');
      const version = sealed[0];
      if (version !== FORMAT_V1) throw new Error(`sealed data has unknown format version ${String(version)}`);
      const id = blobKeyId(sealed);
      const entry = ring.find((k) => k.id.equals(id));
      if (!entry) throw new Error('sealed data was encrypted with another key, one that ENCRYPTION_KEY does not list');
      const iv = sealed.subarray(1 + KEY_ID_BYTES, 1 + KEY_ID_BYTES + IV_BYTES);
      const tag = sealed.subarray(1 + KEY_ID_BYTES + IV_BYTES, HEADER_BYTES);
      const decipher = createDecipheriv('aes-256-gcm', entry.key, iv);
      decipher.setAAD(associatedData(version, id, aad));
      decipher.setAuthTag(tag);
      try {
        return Buffer.concat([decipher.update(sealed.subarray(HEADER_BYTES)), decipher.final()]);
      } catch {
        throw new Error('sealed data failed authentication (tampered, or sealed for another purpose)');
      }
    },
    isCurrent(sealed) {
      return blobKeyId(sealed).equals(current.id);
    },
  };
}

/**
 * The configured keys (ENCRYPTION_KEY: one key or `id:key,…`), else the one generated earlier into
 * `<dataDir>/encryption.key`, else a new one written there with mode 0600. Creation is atomic (hard
 * link of a complete temporary file), so processes starting together on one data directory end up
 * with the same key.
 */
export async function loadOrCreateKeys(opts: { encryptionKey?: string; dataDir: string }): Promise<KeyList> {
  if (opts.encryptionKey !== undefined && opts.encryptionKey.trim() !== '') return parseKeyList(opts.encryptionKey, 'ENCRYPTION_KEY');
  const file = join(opts.dataDir, KEY_FILE_NAME);
  const existing = await readFile(file, 'utf8').catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return null;
    throw error;
  });
  if (existing !== null) return parseKeyList(existing, file);

  await mkdir(opts.dataDir, { recursive: true });
  const key = randomBytes(KEY_BYTES);
  const temp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  await writeFile(temp, `${key.toString('base64')}\n`, { mode: 0o600, flag: 'wx' });
  try {
    await link(temp, file);
    return [key];
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    return parseKeyList(await readFile(file, 'utf8'), file);
  } finally {
    await unlink(temp);
  }
}
