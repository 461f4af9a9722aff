/**
 * File bodies live on disk under the storage directory, never whole in memory (a simple upload, at
 * most 4 MiB, excepted): a committed file owns one blob, an upload session owns one part file until it
 * completes (the part file then becomes the blob).
 */
import { randomUUID } from 'node:crypto';
import type { FileHandle } from 'node:fs/promises';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { QuickXorHash } from './quick-xor-hash.js';

export class BlobStore {
  private constructor(
    readonly dir: string,
    /** A directory we created ourselves is removed on close; a caller's directory is left in place. */
    private readonly owned: boolean,
  ) {}

  static async open(dir?: string): Promise<BlobStore> {
    if (dir === undefined) return new BlobStore(await mkdtemp(join(tmpdir(), 'graph-sim-')), true);
    await mkdir(dir, { recursive: true });
    return new BlobStore(dir, false);
  }

  newPath(kind: 'blob' | 'part'): string {
    return join(this.dir, `${kind}-${randomUUID()}`);
  }

  async remove(path: string): Promise<void> {
    await rm(path, { force: true });
  }

  async close(): Promise<void> {
    if (this.owned) await rm(this.dir, { recursive: true, force: true });
  }
}

/**
 * Writes `source` into `file` from `position`, hashing as it goes. `beforeWrite(total)` sees the
 * running byte count before each chunk is written and may throw (size or quota limits).
 */
export async function writeChunks(
  source: AsyncIterable<Buffer> | Iterable<Buffer>,
  file: FileHandle,
  position: number,
  hash: QuickXorHash,
  beforeWrite: (total: number) => void = () => undefined,
): Promise<number> {
  let total = 0;
  for await (const chunk of source) {
    beforeWrite(total + chunk.length);
    await file.write(chunk, 0, chunk.length, position + total);
    hash.update(chunk);
    total += chunk.length;
  }
  return total;
}
