/**
 * The bytes of one upload, read from a re-openable stream into one fragment-sized buffer (memory is
 * bounded by the fragment size, never by the file size; a simple upload's buffer comes from a pool,
 * rounded up to a power of two, and goes back to it once the upload is confirmed). Every source byte
 * is hashed (quickXorHash, which the drive checks, and SHA-256, which the export log shows) exactly
 * once, in order, the first time it arrives: re-sending a fragment or re-opening the source after a lost
 * session never feeds the hash twice. A source stream that breaks is a RetryableError and is
 * re-opened by the next slice.
 */
import { createHash } from 'node:crypto';
import { FatalError, RetryableError, SyncError } from '../errors.js';
import type { BufferPool } from './buffer-pool.js';
import { QuickXorHash } from './quickxorhash.js';

export type OpenSource = (signal?: AbortSignal) => Promise<ReadableStream<Uint8Array>>;

export class UploadSource {
  private buffer: Buffer;
  /** Bytes one slice may hold (the buffer may be larger: a pooled one); 0 once recycled. */
  private capacity: number;
  /** The buffer holds the `buffered` bytes just before `position`. */
  private buffered = 0;
  /** Absolute offset of the next byte the stream yields, `pending` included. */
  private position = 0;
  private pending: Uint8Array | undefined;
  private reader: ReadableStreamDefaultReader<Uint8Array> | undefined;
  private readonly hash = new QuickXorHash();
  private readonly sha256 = createHash('sha256');
  /** Bytes fed to the hash so far (the high-water mark of everything ever read). */
  private hashed = 0;

  constructor(
    private readonly open: OpenSource,
    readonly size: number,
    capacity: number,
    private readonly signal?: AbortSignal,
    /** Where the buffer comes from and goes back to once the upload is confirmed (recycle()). */
    private readonly pool?: BufferPool,
  ) {
    this.capacity = Math.max(0, Math.min(capacity, size));
    this.buffer = pool && this.capacity > 0 ? pool.take(this.capacity) : Buffer.allocUnsafe(this.capacity);
  }

  /**
   * Bytes [offset, offset + length) as a view of the internal buffer, valid until the next call.
   * Reuses buffered bytes when the server asks again for what was just read (a retried fragment),
   * skips forward when it is ahead, re-opens the source when it is behind.
   */
  async slice(offset: number, length: number): Promise<Buffer> {
    if (length > this.capacity || offset + length > this.size) throw new Error(`slice ${offset}+${length} out of bounds`);
    const start = this.position - this.buffered;
    if (offset >= start && offset <= this.position) {
      this.buffer.copyWithin(0, offset - start, this.buffered);
      this.buffered = this.position - offset;
    } else {
      if (offset < start) await this.reopen();
      await this.skip(offset - this.position);
    }
    while (this.buffered < length) {
      const chunk = await this.take(length - this.buffered);
      this.buffer.set(chunk, this.buffered);
      this.buffered += chunk.length;
    }
    if (offset + length === this.size) await this.expectEnd();
    return this.buffer.subarray(0, length);
  }

  /**
   * After a failed send the buffer may still sit in a socket's write queue: move the buffered bytes
   * to fresh memory so refilling cannot alter what that socket is still writing.
   */
  detach(): void {
    const fresh = Buffer.allocUnsafe(this.capacity);
    this.buffer.copy(fresh, 0, 0, this.buffered);
    this.buffer = fresh;
  }

  /** The quickXorHash and the SHA-256 (lowercase hex) of the whole source; only once every byte has
   * been read, and only once. */
  digest(): { quickXorHash: string; sha256: string } {
    if (this.hashed !== this.size) throw new Error(`digest after ${this.hashed} of ${this.size} bytes`);
    return { quickXorHash: this.hash.digest(), sha256: this.sha256.digest('hex') };
  }

  /**
   * The upload is confirmed by the server: no socket reads the buffer any more, so it goes back to the
   * pool for the next upload. The source serves no slice after this.
   */
  recycle(): void {
    const buffer = this.buffer;
    this.buffer = Buffer.alloc(0);
    this.capacity = 0;
    this.buffered = 0;
    this.pool?.give(buffer);
  }

  async close(): Promise<void> {
    const reader = this.reader;
    this.reader = undefined;
    this.pending = undefined;
    await reader?.cancel().catch(() => undefined);
  }

  private async reopen(): Promise<void> {
    await this.close();
    this.position = 0;
    this.buffered = 0;
  }

  private async skip(count: number): Promise<void> {
    for (let left = count; left > 0; ) left -= (await this.take(left)).length;
    this.buffered = 0;
  }

  /** Up to `max` (> 0) next bytes of the stream. */
  private async take(max: number): Promise<Uint8Array> {
    let chunk = this.pending;
    this.pending = undefined;
    while (!chunk || chunk.length === 0) {
      chunk = await this.pull();
      if (!chunk) throw new FatalError(`upload source ended after ${this.position} bytes, expected ${this.size}`);
    }
    if (chunk.length > max) {
      this.pending = chunk.subarray(max);
      chunk = chunk.subarray(0, max);
    }
    this.position += chunk.length;
    return chunk;
  }

  /** The source must end exactly at `size`: more bytes mean it is not the file we were told about. */
  private async expectEnd(): Promise<void> {
    let extra = this.pending?.length ?? 0;
    while (extra === 0) {
      const chunk = await this.pull();
      if (!chunk) return;
      extra = chunk.length;
    }
    throw new FatalError(`upload source yields more than the expected ${this.size} bytes`);
  }

  /**
   * A broken source stream (a download cut off): forget it, so the next slice re-opens the source and
   * skips to where it is needed. The hash keeps its high-water mark.
   */
  private broken(error: unknown): never {
    this.reader = undefined;
    this.pending = undefined;
    this.position = 0;
    this.buffered = 0;
    if (this.signal?.aborted || error instanceof SyncError) throw error;
    throw new RetryableError(`upload source failed after ${this.hashed} bytes`, { cause: error });
  }

  /** The next chunk from the stream (opening it if needed), hashed if it is new; undefined at the end. */
  private async pull(): Promise<Uint8Array | undefined> {
    this.reader ??= (await this.open(this.signal)).getReader();
    const { done, value } = await this.reader.read().catch((error: unknown) => this.broken(error));
    if (done) return undefined;
    // Nothing is pending when pulling, so this chunk starts at `position`.
    const end = this.position + value.length;
    if (end > this.size) throw new FatalError(`upload source yields more than the expected ${this.size} bytes`);
    if (end > this.hashed) {
      const fresh = value.subarray(this.hashed - this.position);
      this.hash.update(fresh);
      this.sha256.update(fresh);
      this.hashed = end;
    }
    return value;
  }
}
