/**
 * Buffers of simple uploads, kept for the next upload of the process. Each simple upload needs a
 * buffer as large as its file (at most 4 MiB): allocated fresh each time, a 5,000-receipt backfill
 * allocates and drops 2.3 GB of them, all counted as external memory, which makes V8 collect garbage
 * over and over. Sizes are rounded up to a power of two so that a kept buffer fits later uploads, and
 * the pool keeps at most `maxBytes` in all (what is given back beyond it is left to the collector).
 *
 * A buffer is given back only once nothing can still read it: after an upload the server confirmed
 * (a socket may still be writing the buffer of a request that failed).
 */
const MIN_CLASS = 64 * 1024;

export class BufferPool {
  private readonly free = new Map<number, Buffer[]>();
  private kept = 0;

  constructor(
    /** Largest buffer handed out from (and kept in) the pool; larger ones are allocated exactly. */
    readonly maxBuffer: number,
    private readonly maxBytes: number,
  ) {}

  /** A buffer of at least `size` bytes (its contents are stale): a kept one of its class, else the
   * smallest kept one that is larger (so the room is not held by sizes no upload asks for), else a
   * new one. */
  take(size: number): Buffer {
    if (size > this.maxBuffer) return Buffer.allocUnsafe(size);
    const cls = classOf(size);
    for (let c = cls; c <= this.maxBuffer; c *= 2) {
      const buffer = this.free.get(c)?.pop();
      if (buffer === undefined) continue;
      this.kept -= buffer.length;
      return buffer;
    }
    return Buffer.allocUnsafe(cls);
  }

  /** Gives back a buffer `take` handed out; others (and any beyond the pool's room) are not kept. */
  give(buffer: Buffer): void {
    const size = buffer.length;
    if (size > this.maxBuffer || size !== classOf(size) || this.kept + size > this.maxBytes) return;
    let list = this.free.get(size);
    if (list === undefined) this.free.set(size, (list = []));
    list.push(buffer);
    this.kept += size;
  }

  /** Bytes kept for later uploads. */
  get bytes(): number {
    return this.kept;
  }
}

/** The power of two (at least 64 KiB) that holds `size` bytes. */
function classOf(size: number): number {
  return size <= MIN_CLASS ? MIN_CLASS : 2 ** Math.ceil(Math.log2(size));
}
