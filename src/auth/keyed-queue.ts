/**
 * Work queued per key, in process: the work of one key runs one at a time, in the order it was
 * queued; different keys run at once. A failure of one run does not stop the next.
 */
export class KeyedQueue {
  private readonly tails = new Map<string, Promise<unknown>>();

  /** How many keys have work queued or running. */
  get size(): number {
    return this.tails.size;
  }

  run<T>(key: string, work: () => Promise<T>): Promise<T> {
    const previous = this.tails.get(key) ?? Promise.resolve();
    const next = previous.then(work, work);
    this.tails.set(key, next);
    const cleanup = (): void => {
      if (this.tails.get(key) === next) this.tails.delete(key);
    };
    next.then(cleanup, cleanup);
    return next;
  }
}
