import { ApplicationFailure } from '@temporalio/activity';
import type { History } from '@temporalio/common/lib/proto-utils.js';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createActivities } from '../../activities/index.js';
import type { SyncActivities } from '../../activities/index.js';
import { retryDelayMs } from '../../src/sync/retry.js';
import { reconfigureSignal, transactionsChangedSignal, workflowIdFor, type TransactionChange } from '../../workflows/messages.js';
import type { IntegrationView } from '../../workflows/state.js';
import { Testbed, sleepingAfter, type StartedIntegration } from '../support/testbed.js';
import { handleOf } from '../support/workflow.js';

/**
 * Incremental runs where something else goes wrong (a failing drive or Qonto, a pending
 * reconfiguration, the daily time, a full drive), on the time-skipping server with the real
 * activities against the simulators; a failure is one activity replaced.
 */
let bed: Testbed;
beforeAll(async () => {
  bed = await Testbed.create();
});
afterAll(() => bed?.close());
const added: string[] = [];
afterEach(async () => {
  bed.activities = {};
  await bed.terminateStarted();
  for (const id of added.splice(0)) bed.h.sims.qonto.data.setStatus(id, 'declined');
});

const real = () => createActivities(bed.h.services.deps);

function signal(t: StartedIntegration, changes: TransactionChange[]): Promise<void> {
  return handleOf(bed.env.client, t.id).signal(transactionsChangedSignal, { changes });
}

/** A new transaction of the first account with a receipt (visible after `visibleAfterMs`, if given). */
function newReceipt(label: string, visibleAfterMs?: number) {
  const data = bed.h.sims.qonto.data;
  const tx = data.addTransaction({ bankAccountId: data.bankAccounts()[0]!.id, amount: 7, label, side: 'debit' });
  added.push(tx.id);
  const attachment = data.attachReceipt(tx.id, { fileName: `${label}.pdf`, contentType: 'application/pdf', size: 1_000, ...(visibleAfterMs ? { visibleAfterMs } : {}) });
  return { tx, attachment, change: { transactionId: tx.id, attachmentIds: [attachment.id], receivedAt: new Date().toISOString() } };
}

/** Timers started so far by every execution of the integration's workflow. */
async function timersStarted(t: StartedIntegration): Promise<number> {
  let timers = 0;
  let runId: string | undefined = t.handle.firstExecutionRunId;
  while (runId) {
    const history: History = await bed.env.client.workflow.getHandle(workflowIdFor(t.id), runId).fetchHistory();
    const events = history.events ?? [];
    timers += events.filter((e) => e.timerStartedEventAttributes).length;
    runId = events.at(-1)?.workflowExecutionContinuedAsNewEventAttributes?.newExecutionRunId ?? undefined;
  }
  return timers;
}

const sleepingWith = (pending: number) => (v: IntegrationView) => v.phase.startsWith('sleeping') && v.pendingChanges === pending;

describe('incremental runs, bounded', { timeout: 120_000 }, () => {
  it('sleeps until the retry of a failed reconfiguration when a recheck falls due meanwhile (no timer spin)', async () => {
    let failing = false;
    bed.activities = {
      loadOrganization: async (input: Parameters<SyncActivities['loadOrganization']>[0]) => {
        if (failing) throw ApplicationFailure.nonRetryable('Qonto is down', 'Fatal');
        return real().loadOrganization(input);
      },
    };
    const t = await bed.start('recheck-while-pending', { webhookDebounceMs: 500 });
    await t.run(async () => {
      await t.status(sleepingAfter(1), 'the backfill');
      // Not visible for an hour: the first look plans a recheck 30 s later.
      const { change } = newReceipt('Slow shop', 3_600_000);
      await signal(t, [change]);
      await t.status((v) => sleepingAfter(2)(v) && v.pendingChanges === 1, 'the first look');
      failing = true;
      await handleOf(bed.env.client, t.id).signal(reconfigureSignal, { probativeCopies: true });
      const failed = await t.status((v) => v.lastRun?.kind === 'reconfigure' && v.lastRun.outcome === 'failed' && v.phase.startsWith('sleeping'), 'the failed reconfiguration');
      const before = await timersStarted(t);

      // The recheck falls due; no incremental run may take it while the reconfiguration is pending.
      await bed.env.sleep(40_000);
      const after = await t.status(sleepingWith(1), 'the wait for the retry');
      expect(after.runNumber).toBe(failed.runNumber);
      expect(after.nextRunAt).toBe(failed.nextRunAt);
      expect(Date.parse(after.nextRunAt!)).toBe(Date.parse(after.lastRun!.finishedAt) + retryDelayMs(1));
      expect((await timersStarted(t)) - before).toBeLessThanOrEqual(1);
    });
  });

  it('retries an overflowing burst once after a back-off, then leaves it to the daily run, when the drive keeps failing', async () => {
    let failing = false;
    let calls = 0;
    bed.activities = {
      verifyDrive: async (input: Parameters<SyncActivities['verifyDrive']>[0]) => {
        if (!failing) return real().verifyDrive(input);
        calls += 1;
        throw ApplicationFailure.nonRetryable('the drive is broken', 'Fatal');
      },
    };
    const t = await bed.start('overflow-failing', { webhookDebounceMs: 500 });
    await t.run(async () => {
      const backfilled = await t.status(sleepingAfter(1), 'the backfill');
      failing = true;
      // 1,001 ids: one past the bound, so the run must list the accounts (overflow).
      const changes = Array.from({ length: 1_001 }, (_, i) => ({ transactionId: `gone-${i}`, attachmentIds: [], receivedAt: new Date().toISOString() }));
      await signal(t, changes);
      const first = await t.status((v) => v.lastIncremental?.outcome === 'failed' && sleepingWith(1_000)(v), 'the first failed run');
      expect(calls).toBe(1);
      // The daily run keeps its time: the back-off is the incremental runs' own.
      expect(first.nextRunAt).toBe(backfilled.nextRunAt);

      await bed.env.sleep(retryDelayMs(1) + 1_000);
      const second = await t.status((v) => v.lastIncremental?.startedAt !== first.lastIncremental!.startedAt && sleepingWith(0)(v), 'the retry');
      expect(second.lastIncremental).toMatchObject({ outcome: 'failed' });
      expect(second.runNumber).toBe(first.runNumber + 1);
      expect(calls).toBe(2);

      // Nothing is left for an incremental run: no third one (the daily run stays due).
      const now = await bed.env.currentTimeMs();
      await bed.env.sleep(Math.min(60 * 60_000, Date.parse(second.nextRunAt!) - now - 60_000));
      const later = await t.status(sleepingWith(0), 'the quiet wait');
      expect(later.runNumber).toBe(second.runNumber);
      expect(calls).toBe(2);
    });
  });

  it('runs the daily run right after an incremental run that an event started seconds before the daily time', async () => {
    const t = await bed.start('across-daily', { webhookDebounceMs: 10_000 });
    await t.run(async () => {
      const backfilled = await t.status(sleepingAfter(1), 'the backfill');
      const dailyAt = Date.parse(backfilled.nextRunAt!);
      await bed.env.sleep(dailyAt - (await bed.env.currentTimeMs()) - 3_000);
      const { attachment, change } = newReceipt('Late shop');
      await signal(t, [change]);
      const after = await t.status((v) => v.lastIncremental !== null && v.phase.startsWith('sleeping'), 'the incremental run and what follows');
      // The debounce ended at the daily time, not 10 s after the event.
      expect(Date.parse(after.lastIncremental!.startedAt)).toBeLessThan(dailyAt + 5_000);
      expect(after.lastIncremental).toMatchObject({ outcome: 'completed', exported: 1 });
      // That day's daily run still happened, right after, and the next one is a day later.
      expect(after.lastRun).toMatchObject({ kind: 'sync', outcome: 'completed' });
      expect(Date.parse(after.lastRun!.startedAt)).toBeGreaterThanOrEqual(Date.parse(after.lastIncremental!.finishedAt));
      expect(Date.parse(after.lastRun!.startedAt)).toBeLessThan(dailyAt + 60_000);
      expect(Date.parse(after.nextRunAt!)).toBeGreaterThan(dailyAt + 20 * 60 * 60_000);
      expect((await bed.h.services.store.getEntry(t.id, attachment.id))?.state).toBe('uploaded');
    });
  });

  it('sets the status back from quota_exceeded when an incremental run exported into freed space', async () => {
    const t = await bed.start('quota-freed', { webhookDebounceMs: 500 }, ({ user }) => bed.h.sims.graph.drive(user.id).setQuota({ total: 400_000 }));
    await t.run(async () => {
      const full = await t.status((v) => v.status === 'quota_exceeded' && v.phase.startsWith('sleeping'), 'the full drive');
      expect(full.lastError).toContain('OneDrive is full');
      bed.h.sims.graph.drive(t.user.id).setQuota({ total: 5 * 1024 ** 3 });
      const { change } = newReceipt('Freed shop');
      await signal(t, [change]);
      const after = await t.status((v) => sleepingAfter(full.runNumber + 1)(v) && v.lastIncremental !== null, 'the incremental run');
      expect(after.lastIncremental).toMatchObject({ outcome: 'completed', exported: 1 });
      expect(after).toMatchObject({ status: 'idle', lastError: null });
    });
  });
});
