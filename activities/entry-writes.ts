import type { Store } from '../src/store/types.js';

export type EntryPatch = Parameters<Store['updateEntry']>[2];
export interface EntryUpdate {
  attachmentId: string;
  patch: EntryPatch;
}

/**
 * Records of exported receipts, written in groups: `maxEntries` at once, or what is there
 * `maxDelayMs` after the first. A record per receipt was a statement and a commit per receipt on the
 * worker's event loop. Safe to lose: a receipt whose record was not written is still pending, and its
 * next upload replaces the file under the same name, so a crash makes no second copy.
 */
export class EntryWrites {
  private pending: EntryUpdate[] = [];
  private timer: ReturnType<typeof setTimeout> | undefined;
  /** The writes, one after the other. */
  private writing: Promise<void> = Promise.resolve();
  private failure: { error: unknown } | null = null;

  constructor(
    private readonly write: (updates: EntryUpdate[]) => Promise<void>,
    private readonly maxEntries = 25,
    private readonly maxDelayMs = 50,
  ) {}

  add(attachmentId: string, patch: EntryPatch): void {
    this.pending.push({ attachmentId, patch });
    if (this.pending.length >= this.maxEntries) void this.drain();
    else this.timer ??= setTimeout(() => void this.drain(), this.maxDelayMs);
  }

  /** Writes what is left and waits for every write; throws the first write that failed. */
  async flush(): Promise<void> {
    await this.drain();
    if (this.failure !== null) throw this.failure.error;
  }

  /** Writes what is left and waits for every write, without throwing: for a receipt that needs the
   * earlier records written first, but is not to blame for a write that failed (flush() reports it). */
  settle(): Promise<void> {
    return this.drain();
  }

  private drain(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    const updates = this.pending.splice(0);
    if (updates.length > 0) {
      this.writing = this.writing.then(() => this.write(updates)).catch((error: unknown) => {
        this.failure ??= { error };
      });
    }
    return this.writing;
  }
}
