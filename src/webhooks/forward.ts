import type { TransactionChange } from '../../workflows/messages.js';

/** Sends one `transactionsChanged` signal: 'not_running' when the integration has no running workflow. */
export type SignalSender = (integrationId: string, changes: TransactionChange[], deadline: number) => Promise<'signalled' | 'not_running'>;

export interface ForwarderOptions {
  /** How long the first change of an integration waits for others to join its signal. */
  windowMs?: number;
  /** A batch this large goes at once. */
  maxChanges?: number;
}

interface Batch {
  changes: Map<string, TransactionChange>;
  waiters: { resolve: (outcome: 'signalled' | 'not_running') => void; reject: (error: unknown) => void }[];
  /** The earliest deadline of the requests waiting: the signal must be durable before the first of them answers. */
  deadline: number;
  timer: ReturnType<typeof setTimeout> | undefined;
}

/**
 * Coalesces the changes of one integration arriving within `windowMs` (or up to `maxChanges`) into one
 * signal, so a burst of deliveries adds a few history events instead of one each. Each request awaits
 * the signal that carries its change: its 2xx still means the change is durable in Temporal.
 */
export class SignalForwarder {
  private readonly batches = new Map<string, Batch>();
  private readonly windowMs: number;
  private readonly maxChanges: number;

  constructor(
    private readonly sendSignal: SignalSender,
    opts: ForwarderOptions = {},
  ) {
    this.windowMs = opts.windowMs ?? 100;
    this.maxChanges = opts.maxChanges ?? 200;
  }

  send(integrationId: string, change: TransactionChange, deadline: number): Promise<'signalled' | 'not_running'> {
    let batch = this.batches.get(integrationId);
    if (!batch) {
      batch = { changes: new Map(), waiters: [], deadline, timer: undefined };
      this.batches.set(integrationId, batch);
      const started = batch;
      batch.timer = setTimeout(() => this.flush(integrationId, started), this.windowMs);
    }
    batch.changes.set(change.transactionId, merge(batch.changes.get(change.transactionId), change));
    batch.deadline = Math.min(batch.deadline, deadline);
    const outcome = new Promise<'signalled' | 'not_running'>((resolve, reject) => batch.waiters.push({ resolve, reject }));
    if (batch.changes.size >= this.maxChanges) this.flush(integrationId, batch);
    return outcome;
  }

  private flush(integrationId: string, batch: Batch): void {
    if (this.batches.get(integrationId) !== batch) return;
    this.batches.delete(integrationId);
    clearTimeout(batch.timer);
    this.sendSignal(integrationId, [...batch.changes.values()], batch.deadline).then(
      (outcome) => batch.waiters.forEach((w) => w.resolve(outcome)),
      (error: unknown) => batch.waiters.forEach((w) => w.reject(error)),
    );
  }
}

/** Two events of one transaction: every attachment either saw, timed from the first. */
function merge(known: TransactionChange | undefined, change: TransactionChange): TransactionChange {
  if (!known) return { ...change, attachmentIds: [...new Set(change.attachmentIds)] };
  return {
    transactionId: change.transactionId,
    attachmentIds: [...new Set([...known.attachmentIds, ...change.attachmentIds])],
    receivedAt: known.receivedAt <= change.receivedAt ? known.receivedAt : change.receivedAt,
  };
}
