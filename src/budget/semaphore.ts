/**
 * At most `size` holders at once; the others wait in arrival order. A waiter whose signal aborts
 * leaves the line. (p-limit, already in node_modules through a dependency, cannot drop an aborted
 * waiter from its queue.)
 */
export class Semaphore {
  private held = 0;
  private readonly line: { grant: () => void }[] = [];

  constructor(private readonly size: number) {}

  /** Waits for a place; the function returned gives it back (once). */
  async take(signal?: AbortSignal): Promise<() => void> {
    signal?.throwIfAborted();
    if (this.held < this.size) {
      this.held++;
      return this.releaser();
    }
    await new Promise<void>((resolve, reject) => {
      const waiter = {
        grant: () => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        },
      };
      const onAbort = () => {
        this.line.splice(this.line.indexOf(waiter), 1);
        reject(signal!.reason);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.line.push(waiter);
    });
    return this.releaser();
  }

  private releaser(): () => void {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.line.shift();
      // The place passes straight to the next waiter: nobody arriving meanwhile can take it first.
      if (next) next.grant();
      else this.held--;
    };
  }
}
