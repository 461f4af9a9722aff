/**
 * Bodies of simulated attachments: deterministic pseudo-random bytes, generated on the fly so a
 * 50 MB receipt never sits in memory. The bytes of (id, size) are the first `size` bytes of an
 * AES-256-CTR keystream keyed by the attachment id, so tests can recompute them independently of
 * the server, and a shorter size gives a prefix of a longer one (useful to cut a download short).
 */
import { createCipheriv, createHash } from 'node:crypto';
import { Readable } from 'node:stream';

const CHUNK = 64 * 1024;
const ZEROS = Buffer.alloc(CHUNK);

function* keystream(attachmentId: string, size: number): Generator<Buffer> {
  const key = createHash('sha256').update(`qonto-simulator-attachment:${attachmentId}`).digest();
  const cipher = createCipheriv('aes-256-ctr', key, Buffer.alloc(16));
  for (let left = size; left > 0; left -= CHUNK) {
    yield cipher.update(left >= CHUNK ? ZEROS : ZEROS.subarray(0, left));
  }
}

/** The attachment's body as a stream, produced chunk by chunk as the reader pulls. */
export function attachmentBytes(attachmentId: string, size: number): Readable {
  return Readable.from(keystream(attachmentId, size), { objectMode: false });
}

/** The whole body in memory: for tests on small files only. */
export function attachmentBuffer(attachmentId: string, size: number): Buffer {
  return Buffer.concat([...keystream(attachmentId, size)]);
}

/** Hex SHA-256 of the body, computed by streaming (fine for large files). */
export function attachmentSha256(attachmentId: string, size: number): string {
  const hash = createHash('sha256');
  for (const chunk of keystream(attachmentId, size)) hash.update(chunk);
  return hash.digest('hex');
}
