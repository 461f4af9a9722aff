/**
 * Encryption of secrets at rest (token caches): AES-256-GCM with a fresh 12-byte IV per seal.
 *
 * Sealed layout: [format version 1 byte][key id 4 bytes][IV 12 bytes][tag 16 bytes][ciphertext].
 * The key id is a fingerprint of the key, so a blob sealed under another key is recognised as such
 * (and several keys can be accepted once keys rotate). The header and the caller's purpose string
 * are authenticated as associated data: a blob copied to another integration or purpose, or with
 * any byte changed, does not open.
 */
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { link, mkdir, readFile, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

export interface Sealer {
  seal(plain: Buffer, aad: string): Buffer;
  open(sealed: Buffer, aad: string): Buffer;
}

const FORMAT_V1 = 1;
const KEY_BYTES = 32;
const KEY_ID_BYTES = 4;
const IV_BYTES = 12;
const TAG_BYTES = 16;
const HEADER_BYTES = 1 + KEY_ID_BYTES + IV_BYTES + TAG_BYTES;

export const KEY_FILE_NAME = 'encryption.key';

function keyId(key: Buffer): Buffer {
  return createHash('sha256').update('sealer-key-id\0').update(key).digest().subarray(0, KEY_ID_BYTES);
}

function associatedData(version: number, id: Buffer, aad: string): Buffer {
  return Buffer.concat([Buffer.from([version]), id, Buffer.from(aad, 'utf8')]);
}

export function createSealer(key: Buffer): Sealer {
  if (key.length !== KEY_BYTES) throw new Error(`encryption key must be ${KEY_BYTES} bytes, got ${key.length}`);
  const id = keyId(key);
  return {
    seal(plain, aad) {
      const iv = randomBytes(IV_BYTES);
      const cipher = createCipheriv('aes-256-gcm', key, iv);
      cipher.setAAD(associatedData(FORMAT_V1, id, aad));
      const body = Buffer.concat([cipher.update(plain), cipher.final()]);
      return Buffer.concat([Buffer.from([FORMAT_V1]), id, iv, cipher.getAuthTag(), body]);
    },
    open(sealed, aad) {
      if (sealed.length < HEADER_BYTES) throw new Error('sealed data is truncated');
      const version = sealed[0];
      if (version !== FORMAT_V1) throw new Error(`sealed data has unknown format version ${String(version)}`);
      const blobKeyId = sealed.subarray(1, 1 + KEY_ID_BYTES);
      if (!blobKeyId.equals(id)) throw new Error('sealed data was encrypted with another key (did ENCRYPTION_KEY change?)');
      const iv = sealed.subarray(1 + KEY_ID_BYTES, 1 + KEY_ID_BYTES + IV_BYTES);
      const tag = sealed.subarray(1 + KEY_ID_BYTES + IV_BYTES, HEADER_BYTES);
      const decipher = createDecipheriv('aes-256-gcm', key, iv);
      decipher.setAAD(associatedData(version, blobKeyId, aad));
      decipher.setAuthTag(tag);
      try {
        return Buffer.concat([decipher.update(sealed.subarray(HEADER_BYTES)), decipher.final()]);
      } catch {
        throw new Error('sealed data failed authentication (tampered, or sealed for another purpose)');
      }
    },
  };
}

/** Accepts 64 hex characters or base64/base64url of exactly 32 bytes. Never echoes the key. */
function parseKey(text: string, source: string): Buffer {
  const value = text.trim();
  if (/^[0-9a-fA-F]{64}$/.test(value)) return Buffer.from(value, 'hex');
  if (/^[A-Za-z0-9+/_-]+={0,2}$/.test(value)) {
    const bytes = Buffer.from(value.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
    if (bytes.length === KEY_BYTES) return bytes;
    throw new Error(`${source} must encode exactly ${KEY_BYTES} bytes (64 hex characters or 44 base64 characters); it encodes ${bytes.length}`);
  }
  throw new Error(`${source} must be ${KEY_BYTES} bytes written as 64 hex characters or as base64`);
}

/**
 * The configured key, else the one generated earlier into `<dataDir>/encryption.key`, else a new
 * one written there with mode 0600. Creation is atomic (hard link of a complete temporary file), so
 * processes starting together on one data directory end up with the same key.
 */
export async function loadOrCreateKey(opts: { encryptionKey?: string; dataDir: string }): Promise<Buffer> {
  if (opts.encryptionKey !== undefined && opts.encryptionKey.trim() !== '') return parseKey(opts.encryptionKey, 'ENCRYPTION_KEY');
  const file = join(opts.dataDir, KEY_FILE_NAME);
  const existing = await readFile(file, 'utf8').catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return null;
    throw error;
  });
  if (existing !== null) return parseKey(existing, file);

  await mkdir(opts.dataDir, { recursive: true });
  const key = randomBytes(KEY_BYTES);
  const temp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  await writeFile(temp, `${key.toString('base64')}\n`, { mode: 0o600, flag: 'wx' });
  try {
    await link(temp, file);
    return key;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    return parseKey(await readFile(file, 'utf8'), file);
  } finally {
    await unlink(temp);
  }
}
