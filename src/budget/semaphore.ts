/**
 * At most `size` holders at once; the others wait in arrival order. A waiter whose signal aborts
 * leaves the line. (p-limit, already in node_modules through a dependency, cannot drop an aborted
 * waiter from its queue.)
 */
export class Semaphore {
  private held = 0;
  private readonly line: { grant: () => void }[] = [];

  constructor(private readonly size: number) {}

  /** Waits for a place, at most `timeoutMs`; the function returned gives it back (once). Past the
   * timeout it leaves the line holding nothing and resolves null. */
  async take(signal?: AbortSignal, timeoutMs = Number.POSITIVE_INFINITY): Promise<(() => void) | null> {
    signal?.throwIfAborted();
    if (this.held < this.size) {
      this.held++;
      return this.releaser();
    }
    const granted = await new Promise<boolean>((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      const leave = () => {
        this.line.splice(this.line.indexOf(waiter), 1);
        signal?.removeEventListener('abort', onAbort);
        clearTimeout(timer);
      };
      const waiter = {
        grant: () => {
          signal?.removeEventListener('abort', onAbort);
          clearTimeout(timer);
          resolve(true);
        },
      };
      const onAbort = () => {
        leave();
        reject(signal!.reason as Error);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      if (Number.isFinite(timeoutMs)) {
        timer = setTimeout(() => {
          leave();
          resolve(false);
        }, Math.max(0, timeoutMs));
      }
      this.line.push(waiter);
    });
    return granted ? this.releaser() : null;
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
