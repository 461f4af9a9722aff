import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { TransactionChange } from '../../workflows/messages.js';
import { SignalForwarder } from '../../src/webhooks/forward.js';

const change = (transactionId: string, attachmentIds: string[] = [], receivedAt = '2026-12-07T10:00:00.000Z'): TransactionChange => ({ transactionId, attachmentIds, receivedAt });

describe('SignalForwarder', () => {
  let sent: { integrationId: string; changes: TransactionChange[]; deadline: number }[];
  let outcome: () => Promise<'signalled' | 'not_running'>;
  let forwarder: SignalForwarder;

  beforeEach(() => {
    vi.useFakeTimers();
    sent = [];
    outcome = async () => 'signalled';
    forwarder = new SignalForwarder(
      (integrationId, changes, deadline) => {
        sent.push({ integrationId, changes, deadline });
        return outcome();
      },
      { windowMs: 100, maxChanges: 3 },
    );
  });
  afterEach(() => vi.useRealTimers());

  it('sends the changes of one integration within the window as one signal, and every request awaits it', async () => {
    const a = forwarder.send('i1', change('t1', ['a1']), 5_000);
    const b = forwarder.send('i1', change('t2'), 3_000);
    const other = forwarder.send('i2', change('t9'), 4_000);
    let settled = false;
    void a.then(() => (settled = true));
    await vi.advanceTimersByTimeAsync(99);
    expect(sent).toEqual([]);
    expect(settled).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect(await Promise.all([a, b, other])).toEqual(['signalled', 'signalled', 'signalled']);
    expect(sent).toEqual([
      { integrationId: 'i1', changes: [change('t1', ['a1']), change('t2')], deadline: 3_000 },
      { integrationId: 'i2', changes: [change('t9')], deadline: 4_000 },
    ]);
  });

  it('sends at once when the batch is full, without waiting for the window', async () => {
    const all = [forwarder.send('i1', change('t1'), 1), forwarder.send('i1', change('t2'), 1), forwarder.send('i1', change('t3'), 1)];
    expect(sent).toHaveLength(1);
    expect(await Promise.all(all)).toEqual(['signalled', 'signalled', 'signalled']);
    // The next change starts a batch of its own.
    const next = forwarder.send('i1', change('t4'), 1);
    await vi.advanceTimersByTimeAsync(100);
    await next;
    expect(sent.map((s) => s.changes.map((c) => c.transactionId))).toEqual([['t1', 't2', 't3'], ['t4']]);
  });

  it('merges two events of one transaction: every attachment id, the first time', async () => {
    const first = forwarder.send('i1', change('t1', ['a1'], '2026-12-07T10:00:01.000Z'), 1);
    const second = forwarder.send('i1', change('t1', ['a1', 'a2'], '2026-12-07T10:00:00.500Z'), 1);
    await vi.advanceTimersByTimeAsync(100);
    await Promise.all([first, second]);
    expect(sent[0]!.changes).toEqual([change('t1', ['a1', 'a2'], '2026-12-07T10:00:00.500Z')]);
  });

  it('hands the outcome and the failure of the signal to every request of the batch', async () => {
    outcome = async () => 'not_running';
    const notRunning = [forwarder.send('i1', change('t1'), 1), forwarder.send('i1', change('t2'), 1)];
    await vi.advanceTimersByTimeAsync(100);
    expect(await Promise.all(notRunning)).toEqual(['not_running', 'not_running']);

    outcome = async () => {
      throw new Error('Temporal unreachable');
    };
    const failed = [forwarder.send('i1', change('t1'), 1), forwarder.send('i1', change('t2'), 1)].map((p) => p.then(() => 'ok', (e: Error) => e.message));
    await vi.advanceTimersByTimeAsync(100);
    expect(await Promise.all(failed)).toEqual(['Temporal unreachable', 'Temporal unreachable']);
  });
});
