import { describe, expect, it } from 'vitest';
import {
  addChanges,
  backOff,
  emptyWebhookChanges,
  endBackOff,
  forgetSeenByFullRun,
  nextRecheckAt,
  pendingCount,
  planRechecks,
  putBack,
  takeChanges,
  webhookWorkAt,
} from '../../workflows/webhook-changes.js';

const at = (s: number) => new Date(Date.UTC(2026, 11, 7, 12, 0, s)).toISOString();
const change = (id: string, attachmentIds: string[] = [], s = 0) => ({ transactionId: id, attachmentIds, receivedAt: at(s) });

describe('webhook changes (the workflow’s carried ids)', () => {
  it('merges repeated ids, keeping every attachment id and the latest time', () => {
    const w = emptyWebhookChanges();
    addChanges(w, [change('t1', ['a1'], 1), change('t2')]);
    addChanges(w, [change('t1', ['a2', 'a1'], 5)]);
    expect(w.pending).toEqual({ t1: { attachmentIds: ['a1', 'a2'], receivedAt: at(5) }, t2: { attachmentIds: [], receivedAt: at(0) } });
  });

  it('drops ids past the bound and says the next run must list the accounts', () => {
    const w = emptyWebhookChanges();
    addChanges(w, [change('t1'), change('t2'), change('t3')], 2);
    expect(pendingCount(w)).toBe(2);
    expect(w.overflow).toBe(true);
    // A known id still gains its attachments.
    addChanges(w, [change('t1', ['a9'])], 2);
    expect(w.pending.t1?.attachmentIds).toEqual(['a9']);
  });

  it('ignores a malformed signal instead of failing', () => {
    const w = emptyWebhookChanges();
    addChanges(w, undefined);
    addChanges(w, [null, { transactionId: 7 }, { transactionId: '' }, { transactionId: 't1', attachmentIds: [3, 'a1'] }]);
    expect(w.pending).toEqual({ t1: { attachmentIds: ['a1'], receivedAt: '' } });
  });

  it('takes the pending ids and the due rechecks, and leaves the later rechecks', () => {
    const w = emptyWebhookChanges();
    w.recheck = [
      { transactionId: 'r1', attachmentIds: ['x'], dueAt: at(10), tries: 1 },
      { transactionId: 'r2', attachmentIds: ['y'], dueAt: at(50), tries: 1 },
    ];
    addChanges(w, [change('t1')]);
    const taken = takeChanges(w, Date.parse(at(20)));
    expect(taken.changes.map((c) => c.transactionId)).toEqual(['t1', 'r1']);
    expect(taken.rechecks).toEqual({ r1: 1 });
    expect(w.pending).toEqual({});
    expect(w.recheck.map((r) => r.transactionId)).toEqual(['r2']);
    expect(nextRecheckAt(w)).toBe(Date.parse(at(50)));
  });

  it('gives the ids of a failed run one more run, then leaves them to the daily run', () => {
    const w = emptyWebhookChanges();
    addChanges(w, [change('t1')]);
    putBack(w, takeChanges(w, 0));
    expect(w.pending.t1?.tries).toBe(1);
    putBack(w, takeChanges(w, 0));
    expect(w.pending).toEqual({});
    // Cut short (history), not failed: no try counted.
    addChanges(w, [change('t2')]);
    putBack(w, takeChanges(w, 0), true);
    expect(w.pending.t2?.tries).toBeUndefined();
  });

  it('plans a recheck after each delay, then gives up', () => {
    const w = emptyWebhookChanges();
    addChanges(w, [change('t1', ['a1'])]);
    const now = Date.parse(at(0));
    planRechecks(w, takeChanges(w, now), ['t1'], now, [30_000, 120_000]);
    expect(w.recheck).toEqual([{ transactionId: 't1', attachmentIds: ['a1'], dueAt: new Date(now + 30_000).toISOString(), tries: 1 }]);
    const first = takeChanges(w, now + 30_000);
    planRechecks(w, first, ['t1'], now + 30_000, [30_000, 120_000]);
    expect(w.recheck[0]).toMatchObject({ dueAt: new Date(now + 150_000).toISOString(), tries: 2 });
    planRechecks(w, takeChanges(w, now + 150_000), ['t1'], now + 150_000, [30_000, 120_000]);
    expect(w.recheck).toEqual([]);
  });

  it('a new event for a transaction awaiting its recheck replaces the recheck', () => {
    const w = emptyWebhookChanges();
    w.recheck = [{ transactionId: 't1', attachmentIds: ['a1'], dueAt: at(30), tries: 1 }];
    addChanges(w, [change('t1', ['a1'])]);
    expect(w.recheck).toEqual([]);
    expect(pendingCount(w)).toBe(1);
  });

  it('forgets what a completed full run listed (received over a minute before it started)', () => {
    const w = emptyWebhookChanges();
    addChanges(w, [change('old', [], 0), change('recent', [], 50)]);
    w.overflow = true;
    forgetSeenByFullRun(w, at(100));
    expect(Object.keys(w.pending)).toEqual(['recent']);
    expect(w.overflow).toBe(false);
  });

  it('puts the overflow back after one failed run only, as it does an id', () => {
    const w = emptyWebhookChanges();
    addChanges(w, [change('t1'), change('t2')], 1);
    putBack(w, takeChanges(w, Date.parse(at(0))));
    expect(w).toMatchObject({ overflow: true, overflowTries: 1, pending: { t1: { tries: 1 } } });
    // Cut short for continue-as-new: no try counted.
    putBack(w, takeChanges(w, Date.parse(at(0))), true);
    expect(w).toMatchObject({ overflow: true, overflowTries: 1 });
    putBack(w, takeChanges(w, Date.parse(at(0))));
    expect(w.overflow).toBe(false);
    expect(pendingCount(w)).toBe(0);
    expect(webhookWorkAt(w)).toBeNull();
  });

  it('delays the waiting work by the back-off of failed runs, until a run completes', () => {
    const w = emptyWebhookChanges();
    const now = Date.parse(at(0));
    expect(webhookWorkAt(w)).toBeNull();
    w.recheck = [{ transactionId: 'r1', attachmentIds: ['x'], dueAt: at(30), tries: 1 }];
    expect(webhookWorkAt(w)).toBe(Date.parse(at(30)));
    addChanges(w, [change('t1')]);
    expect(webhookWorkAt(w)).toBe(Number.NEGATIVE_INFINITY);
    backOff(w, now, (n) => n * 60_000);
    backOff(w, now, (n) => n * 60_000);
    expect(w.failures).toBe(2);
    expect(webhookWorkAt(w)).toBe(now + 120_000);
    endBackOff(w);
    expect(webhookWorkAt(w)).toBe(Number.NEGATIVE_INFINITY);
    backOff(w, now, () => 60_000);
    forgetSeenByFullRun(w, at(0));
    expect(w.retryAt).toBeUndefined();
  });
});
