import type { TransactionChange } from './messages.js';
import { MAX_PENDING_TRANSACTIONS, type WebhookChanges } from './state.js';

/** The changed transactions Qonto's webhooks told about, kept in the workflow's carried state (ids
 * only). Pure functions: the workflow's handler and main loop call them, the unit tests too. */

export const emptyWebhookChanges = (): WebhookChanges => ({ pending: {}, recheck: [], overflow: false });

/** Adds the changes (the signal's handler: no command, never blocks). An id already waiting gains
 * the new attachment ids and keeps its latest time; past `max` ids the new ones are dropped and
 * `overflow` says the next incremental run must list the accounts instead. Malformed entries are
 * ignored: a bad signal must not wedge the workflow. */
export function addChanges(w: WebhookChanges, changes: unknown, max = MAX_PENDING_TRANSACTIONS): void {
  if (!Array.isArray(changes)) return;
  let count = Object.keys(w.pending).length;
  for (const change of changes as Partial<TransactionChange>[]) {
    if (typeof change?.transactionId !== 'string' || change.transactionId === '') continue;
    const id = change.transactionId;
    const attachmentIds = Array.isArray(change.attachmentIds) ? change.attachmentIds.filter((a) => typeof a === 'string') : [];
    const receivedAt = typeof change.receivedAt === 'string' ? change.receivedAt : '';
    const known = w.pending[id];
    if (known) {
      known.attachmentIds = [...new Set([...known.attachmentIds, ...attachmentIds])];
      if (receivedAt > known.receivedAt) known.receivedAt = receivedAt;
      continue;
    }
    if (count >= max) {
      w.overflow = true;
      continue;
    }
    // The run that takes it looks at the transaction anyway: a recheck of it would be one too many.
    w.recheck = w.recheck.filter((r) => r.transactionId !== id);
    w.pending[id] = { attachmentIds, receivedAt };
    count += 1;
  }
}

/** What an incremental run takes: every pending id and the rechecks due at `now`. */
export interface TakenChanges {
  changes: TransactionChange[];
  /** Failed incremental runs that already had each id (absent: none). */
  tries: Record<string, number>;
  /** Rechecks already made of each id (absent: none). */
  rechecks: Record<string, number>;
  /** Ids were dropped while waiting: the run lists the accounts. */
  overflow: boolean;
  /** Failed incremental runs that already had `overflow`. */
  overflowTries: number;
}

export function takeChanges(w: WebhookChanges, now: number): TakenChanges {
  const taken: TakenChanges = { changes: [], tries: {}, rechecks: {}, overflow: w.overflow, overflowTries: w.overflow ? (w.overflowTries ?? 0) : 0 };
  for (const [transactionId, p] of Object.entries(w.pending)) {
    taken.changes.push({ transactionId, attachmentIds: p.attachmentIds, receivedAt: p.receivedAt });
    if (p.tries) taken.tries[transactionId] = p.tries;
  }
  const due = w.recheck.filter((r) => Date.parse(r.dueAt) <= now);
  for (const r of due) {
    if (w.pending[r.transactionId]) continue;
    taken.changes.push({ transactionId: r.transactionId, attachmentIds: r.attachmentIds, receivedAt: r.dueAt });
    taken.rechecks[r.transactionId] = r.tries;
  }
  w.pending = {};
  w.overflow = false;
  delete w.overflowTries;
  w.recheck = w.recheck.filter((r) => !due.includes(r));
  return taken;
}

/** The changes of a run that did not finish go back for one more incremental run; after that the
 * daily run finds them. `all`: the run was only cut short (history), none of them counts as a try. */
export function putBack(w: WebhookChanges, taken: TakenChanges, all = false): void {
  for (const change of taken.changes) {
    const tries = (taken.tries[change.transactionId] ?? 0) + (all ? 0 : 1);
    if (!all && tries > 1) continue;
    const known = w.pending[change.transactionId];
    if (known) known.attachmentIds = [...new Set([...known.attachmentIds, ...change.attachmentIds])];
    else w.pending[change.transactionId] = { attachmentIds: change.attachmentIds, receivedAt: change.receivedAt, ...(tries > 0 ? { tries } : {}) };
  }
  // `overflow` is retried once too: a persistent failure must not make it a run after run.
  const overflowTries = taken.overflowTries + (all ? 0 : 1);
  if (taken.overflow && (all || overflowTries <= 1)) {
    w.overflow = true;
    if (overflowTries > 0) w.overflowTries = overflowTries;
  }
}

/** An incremental run failed: the next one waits `delayMs` (the caller's back-off for this many
 * failures in a row), so a failure that persists is not retried run after run. */
export function backOff(w: WebhookChanges, now: number, delayMs: (failures: number) => number): void {
  w.failures = (w.failures ?? 0) + 1;
  w.retryAt = new Date(now + delayMs(w.failures)).toISOString();
}

/** A run completed (incremental or full): incremental runs may start again at once. */
export function endBackOff(w: WebhookChanges): void {
  delete w.failures;
  delete w.retryAt;
}

/** The epoch ms from which an incremental run may take the waiting work (pending ids, overflow, the
 * first recheck), or null when there is none; the back-off delays it. */
export function webhookWorkAt(w: WebhookChanges | undefined): number | null {
  if (!w) return null;
  const recheck = nextRecheckAt(w);
  const work = pendingCount(w) > 0 || w.overflow ? Number.NEGATIVE_INFINITY : recheck;
  if (work === null) return null;
  const retry = w.retryAt ? Date.parse(w.retryAt) : Number.NEGATIVE_INFINITY;
  return Math.max(work, retry);
}

/** Transactions whose attachment was not visible yet are looked at again after `delaysMs[n]`
 * (n: rechecks made so far); past the last delay they are left to the daily run. */
export function planRechecks(w: WebhookChanges, taken: TakenChanges, notVisible: string[], now: number, delaysMs: number[]): void {
  for (const id of notVisible) {
    const done = taken.rechecks[id] ?? 0;
    const delay = delaysMs[done];
    const change = taken.changes.find((c) => c.transactionId === id);
    if (delay === undefined || !change || w.pending[id]) continue;
    w.recheck = w.recheck.filter((r) => r.transactionId !== id);
    w.recheck.push({ transactionId: id, attachmentIds: change.attachmentIds, dueAt: new Date(now + delay).toISOString(), tries: done + 1 });
  }
}

/** After a full run completed: its cursor listing saw every change received a minute before it
 * started (the margin covers Qonto recording `updated_at` a little before it sends the event). */
export function forgetSeenByFullRun(w: WebhookChanges, startedAt: string): void {
  const before = new Date(Date.parse(startedAt) - 60_000).toISOString();
  for (const [id, p] of Object.entries(w.pending)) if (p.receivedAt < before) delete w.pending[id];
  w.overflow = false;
  delete w.overflowTries;
  endBackOff(w);
}

/** When the first recheck is due (epoch ms), if any. */
export function nextRecheckAt(w: WebhookChanges | undefined): number | null {
  if (!w || w.recheck.length === 0) return null;
  return Math.min(...w.recheck.map((r) => Date.parse(r.dueAt)));
}

export const pendingCount = (w: WebhookChanges | undefined): number => (w ? Object.keys(w.pending).length : 0);
