import { describe, expect, it } from 'vitest';
import { BufferPool } from '../../src/onedrive/buffer-pool.js';
import { UploadSource } from '../../src/onedrive/upload-source.js';

const MiB = 1024 * 1024;

describe('BufferPool', () => {
  it('hands out power-of-two buffers from 64 KiB, and the same buffer again once given back', () => {
    const pool = new BufferPool(4 * MiB, 16 * MiB);
    expect(pool.take(1).length).toBe(64 * 1024);
    const first = pool.take(300_000);
    expect(first.length).toBe(512 * 1024);
    pool.give(first);
    expect(pool.bytes).toBe(512 * 1024);
    // Any size of the same class gets it back.
    expect(pool.take(400_000)).toBe(first);
    expect(pool.bytes).toBe(0);
    expect(pool.take(300_000)).not.toBe(first);
  });

  it('serves a size whose class it does not keep from the smallest larger buffer it keeps', () => {
    const pool = new BufferPool(4 * MiB, 16 * MiB);
    const [big, bigger] = [pool.take(3 * MiB), pool.take(1 * MiB)];
    pool.give(big);
    pool.give(bigger);
    expect(pool.take(100_000)).toBe(bigger);
    expect(pool.take(100_000)).toBe(big);
    expect(pool.bytes).toBe(0);
  });

  it('keeps no more than its room, nothing larger than its largest buffer, and nothing it did not hand out', () => {
    const pool = new BufferPool(4 * MiB, 5 * MiB);
    const [a, b] = [pool.take(4 * MiB), pool.take(4 * MiB)];
    pool.give(a);
    pool.give(b); // beyond the 5 MiB room: left to the collector
    expect(pool.bytes).toBe(4 * MiB);
    const large = pool.take(5 * MiB);
    expect(large.length).toBe(5 * MiB);
    pool.give(large);
    pool.give(Buffer.allocUnsafe(100_000)); // not a size the pool hands out
    expect(pool.bytes).toBe(4 * MiB);
  });
});

describe('UploadSource with a pool', () => {
  const bytes = Buffer.from(Array.from({ length: 200_000 }, (_, i) => i % 251));
  const open = async () =>
    new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(bytes.subarray(0, 70_000));
        controller.enqueue(bytes.subarray(70_000));
        controller.close();
      },
    });

  it('gives its buffer back only when told the upload is confirmed', async () => {
    const pool = new BufferPool(4 * MiB, 16 * MiB);
    const failed = new UploadSource(open, bytes.length, bytes.length, undefined, pool);
    expect(await failed.slice(0, bytes.length)).toEqual(bytes);
    await failed.close(); // a failed upload: its buffer may still sit in a socket's queue
    expect(pool.bytes).toBe(0);

    const confirmed = new UploadSource(open, bytes.length, bytes.length, undefined, pool);
    const body = await confirmed.slice(0, bytes.length);
    expect(body).toEqual(bytes);
    confirmed.recycle();
    await confirmed.close();
    expect(pool.bytes).toBe(256 * 1024);

    // The next source reuses it; its slices hold its own bytes, and its bounds are its size, not the buffer's.
    const next = new UploadSource(open, bytes.length, bytes.length, undefined, pool);
    expect(pool.bytes).toBe(0);
    await expect(next.slice(0, bytes.length + 1)).rejects.toThrow(/out of bounds/);
    expect(await next.slice(0, bytes.length)).toEqual(bytes);
    expect(next.digest()).toEqual(confirmed.digest());
    await next.close();
  });

  it('hands a shorter upload exactly its own bytes in a buffer an earlier, longer one used; a recycled source serves no slice', async () => {
    const pool = new BufferPool(4 * MiB, 16 * MiB);
    const long = new UploadSource(open, bytes.length, bytes.length, undefined, pool);
    await long.slice(0, bytes.length);
    long.recycle();
    await expect(long.slice(0, 10)).rejects.toThrow(/out of bounds/);
    await long.close();

    const short = Buffer.alloc(150_000, 7);
    const source = new UploadSource(async () => new Blob([short]).stream(), short.length, short.length, undefined, pool);
    const body = await source.slice(0, short.length);
    expect(body.length).toBe(short.length);
    expect(body.equals(short)).toBe(true);
    await source.close();
  });
});
