import { randomUUID } from 'node:crypto';
import { ApplicationFailure } from '@temporalio/activity';
import type { Client } from '@temporalio/client';
import type { History } from '@temporalio/common/lib/proto-utils.js';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createActivities } from '../../activities/index.js';
import type { ExportInput } from '../../activities/types.js';
import type { SimAttachment, SimTransaction } from '../../src/simulators/qonto/data.js';
import { reconnectSignal, syncNowSignal, transactionsChangedSignal, workflowIdFor, type TransactionChange } from '../../workflows/messages.js';
import { WEBHOOK_LIST_ABOVE, type IntegrationView } from '../../workflows/state.js';
import { SYNC_FROM, Testbed, sleepingAfter, type StartedIntegration } from '../support/testbed.js';
import { handleOf } from '../support/workflow.js';

/**
 * Incremental runs from Qonto's webhooks (signal `transactionsChanged`) on the time-skipping server,
 * with the real activities against the simulators. The debounce is lowered so that a test waits
 * in real time no longer than it must; the rechecks keep their production delays and are skipped to.
 */
const DEBOUNCE_MS = 500;

let bed: Testbed;
beforeAll(async () => {
  bed = await Testbed.create();
});
afterAll(() => bed?.close());
/** Transactions a test added: declined once it is over, so that the next test's backfill (every
 * integration here shares the demo organization) is not the size of this one's burst. */
const added: string[] = [];
afterEach(async () => {
  bed.activities = {};
  await bed.terminateStarted();
  for (const id of added.splice(0)) bed.h.sims.qonto.data.setStatus(id, 'declined');
});

/** New transactions with a receipt each, in the first account, now. */
function newReceipts(n: number, extra: { emittedAt?: string } = {}): Array<{ tx: SimTransaction; attachment: SimAttachment }> {
  const data = bed.h.sims.qonto.data;
  const [account] = data.bankAccounts();
  return Array.from({ length: n }, (_, i) => {
    const tx = data.addTransaction({ bankAccountId: account!.id, amount: 10 + i, label: `Webhook shop ${i}`, side: 'debit', ...extra });
    added.push(tx.id);
    const attachment = data.attachReceipt(tx.id, { fileName: `r${i}.pdf`, contentType: 'application/pdf', size: 1_000 + i });
    return { tx, attachment };
  });
}

const change = (tx: SimTransaction, attachmentIds: string[]): TransactionChange => ({ transactionId: tx.id, attachmentIds, receivedAt: new Date().toISOString() });

function signal(client: Client, id: string, changes: TransactionChange[]): Promise<void> {
  return handleOf(client, id).signal(transactionsChangedSignal, { changes });
}

async function states(id: string, attachmentIds: string[]): Promise<Array<string | undefined>> {
  return Promise.all(attachmentIds.map(async (a) => (await bed.h.services.store.getEntry(id, a))?.state));
}

/** Every execution of the integration's workflow so far, following continue-as-new. */
async function executions(t: StartedIntegration): Promise<Array<{ historyLength: number }>> {
  const out: Array<{ historyLength: number }> = [];
  let runId: string | undefined = t.handle.firstExecutionRunId;
  while (runId) {
    const history: History = await bed.env.client.workflow.getHandle(workflowIdFor(t.id), runId).fetchHistory();
    const events = history.events ?? [];
    out.push({ historyLength: events.length });
    runId = events.at(-1)?.workflowExecutionContinuedAsNewEventAttributes?.newExecutionRunId ?? undefined;
  }
  return out;
}

/** The real activities, with every `exportBatch` input recorded. */
function recordExports(into: ExportInput[]): Testbed['activities'] {
  return {
    exportBatch: async (input: ExportInput) => {
      into.push(input);
      return (createActivities(bed.h.services.deps)).exportBatch(input);
    },
  };
}

const settled = (runNumber: number) => (v: IntegrationView) => sleepingAfter(runNumber)(v) && v.pendingChanges === 0;

describe('incremental runs from webhooks', { timeout: 120_000 }, () => {
  it('exports a named receipt within the debounce, leaves the daily run and cursors alone, and subscribes in full runs', async () => {
    const t = await bed.start('single', { webhookDebounceMs: DEBOUNCE_MS });
    await t.run(async () => {
      const backfilled = await t.status(sleepingAfter(1), 'the backfill');
      // The full run asked for the subscription: API-key mode without QONTO_WEBHOOK_SECRET cannot have one.
      expect(await bed.h.services.store.getWebhookSubscription(t.id)).toMatchObject({ state: 'unavailable', reason: 'no_secret' });
      const drive = bed.h.sims.graph.drive(t.user.id);
      const filesBefore = drive.listFiles().length;
      const [{ tx, attachment }] = newReceipts(1) as [{ tx: SimTransaction; attachment: SimAttachment }];
      await signal(bed.env.client, t.id, [change(tx, [attachment.id])]);
      const after = await t.status(settled(2), 'the incremental run');
      expect(after.lastIncremental).toMatchObject({ kind: 'incremental', outcome: 'completed', exported: 1 });
      // The daily run's record and plan are untouched.
      expect(after.lastRun).toEqual(backfilled.lastRun);
      expect(after.nextRunAt).toBe(backfilled.nextRunAt);
      expect(await states(t.id, [attachment.id])).toEqual(['uploaded']);
      expect(drive.listFiles()).toHaveLength(filesBefore + 1);

      // The 23:30 run still lists from its own cursor (the webhook did not move it).
      await bed.skipToNextRun(after);
      const daily = await t.status(sleepingAfter(3), 'the daily run');
      expect(daily.lastRun).toMatchObject({ kind: 'sync', outcome: 'completed', exported: 0 });
    });
  });

  it('gathers the changes of the debounce window into one run', async () => {
    // A window far longer than sending the signals takes: they all fall into it, however loaded the machine.
    const t = await bed.start('debounce', { webhookDebounceMs: 60_000 });
    await t.run(async () => {
      await t.status(sleepingAfter(1), 'the backfill');
      const receipts = newReceipts(8);
      for (const { tx, attachment } of receipts) await signal(bed.env.client, t.id, [change(tx, [attachment.id])]);
      await t.status((v) => v.phase.startsWith('gathering') && v.pendingChanges === 8, 'the debounce');
      await bed.env.sleep(60_000);
      const done = await t.status(settled(2), 'the incremental run');
      expect(done.runNumber).toBe(2);
      expect(done.lastIncremental).toMatchObject({ outcome: 'completed', exported: 8 });
    });
  });

  it('completes the run when the subscription cannot be checked', async () => {
    let calls = 0;
    bed.activities = {
      ensureWebhookSubscription: async () => {
        calls += 1;
        throw ApplicationFailure.nonRetryable('Qonto is down', 'Unavailable');
      },
    };
    const t = await bed.start('subscription-fails', { webhookDebounceMs: DEBOUNCE_MS });
    await t.run(async () => {
      const view = await t.status(sleepingAfter(1), 'the backfill');
      expect(calls).toBe(1);
      expect(view).toMatchObject({ status: 'idle', lastError: null, lastRun: { kind: 'backfill', outcome: 'completed' } });
    });
  });

  // One change per signal (nothing coalesces in front of the workflow), and 200 per signal (as an API
  // process that coalesces deliveries sends them).
  it.each([1, 200])('turns a burst of 500 changes, %i per signal, into at most 3 runs, each execution under 2,000 history events', async (perSignal) => {
    const exports: ExportInput[] = [];
    bed.activities = recordExports(exports);
    const t = await bed.start('burst', { webhookDebounceMs: DEBOUNCE_MS });
    await t.run(async () => {
      await t.status(sleepingAfter(1), 'the backfill');
      // A receipt no event names (its event was lost): the burst's listing finds it and exports it too
      // (the listing's window bounds the export, not a list of ids).
      const [unnamed] = newReceipts(1);
      const receipts = newReceipts(500);
      const changes = receipts.map(({ tx, attachment }) => change(tx, [attachment.id]));
      for (let i = 0; i < changes.length; i += perSignal) await signal(bed.env.client, t.id, changes.slice(i, i + perSignal));
      const done = await t.status((v) => settled(2)(v) && v.lastIncremental !== null, 'the burst');
      const runs = done.runNumber - 1;
      expect(runs).toBeGreaterThanOrEqual(1);
      expect(runs).toBeLessThanOrEqual(3);
      expect(new Set(await states(t.id, receipts.map((r) => r.attachment.id)))).toEqual(new Set(['uploaded']));
      expect(await states(t.id, [unnamed!.attachment.id])).toEqual(['uploaded']);
      for (const e of await executions(t)) expect(e.historyLength).toBeLessThan(2_000);
      // No list of hundreds of ids in every batch's input (history): a listing run exports unfiltered,
      // a run by id names at most WEBHOOK_LIST_ABOVE.
      expect(exports.filter((e) => e.runNumber > 1).every((e) => (e.transactionIds?.length ?? 0) <= WEBHOOK_LIST_ABOVE)).toBe(true);
    });
  });

  it('continues as new while waiting when signals alone make the history long, and loses no id', async () => {
    const t = await bed.start('long-wait', { webhookDebounceMs: DEBOUNCE_MS, maxHistoryEvents: 60 });
    await t.run(async () => {
      await t.status(sleepingAfter(1), 'the backfill');
      // No run can take the ids while the Microsoft sign-in has ended.
      bed.h.sims.directory.revokeUser(t.user.id);
      await handleOf(bed.env.client, t.id).signal(syncNowSignal);
      await t.status((v) => v.status === 'reconnect_required' && v.phase.startsWith('waiting'), 'reconnect_required');
      const before = (await executions(t)).length;
      // The server hands signals sent in a row to one workflow task: 150 of them still add about 200 events.
      const receipts = newReceipts(150);
      for (const { tx, attachment } of receipts) await signal(bed.env.client, t.id, [change(tx, [attachment.id])]);
      const waiting = await t.status((v) => v.pendingChanges === 150 && v.phase.startsWith('waiting'), 'the ids carried');
      expect(waiting.status).toBe('reconnect_required');
      const chain = await executions(t);
      expect(chain.length).toBeGreaterThan(before);

      await bed.h.connect(t.id, t.user);
      await handleOf(bed.env.client, t.id).signal(reconnectSignal);
      await t.status((v) => v.status === 'idle' && settled(3)(v), 'the runs after the reconnect');
      expect(new Set(await states(t.id, receipts.map((r) => r.attachment.id)))).toEqual(new Set(['uploaded']));
    });
  });

  it('exports every one of 20 signals sent while a run takes, exports and ends the first ones', async () => {
    const t = await bed.start('spread', { webhookDebounceMs: 200 });
    await t.run(async () => {
      await t.status(sleepingAfter(1), 'the backfill');
      const receipts = newReceipts(20);
      const [first, ...rest] = receipts;
      await signal(bed.env.client, t.id, [change(first!.tx, [first!.attachment.id])]);
      // The first run has taken its change: the others arrive while it runs, ends and continues as new.
      await t.status((v) => v.runNumber >= 2, 'the first incremental run');
      for (const { tx, attachment } of rest) await signal(bed.env.client, t.id, [change(tx, [attachment.id])]);
      const done = await t.status(settled(2), 'the runs');
      expect(done.runNumber - 1).toBeGreaterThanOrEqual(2);
      expect(new Set(await states(t.id, receipts.map((r) => r.attachment.id)))).toEqual(new Set(['uploaded']));
    });
  });

  it('looks again at a receipt that was not visible yet and exports it at the 30 s recheck', async () => {
    const t = await bed.start('recheck', { webhookDebounceMs: DEBOUNCE_MS });
    await t.run(async () => {
      await t.status(sleepingAfter(1), 'the backfill');
      const data = bed.h.sims.qonto.data;
      const [account] = data.bankAccounts();
      const tx = data.addTransaction({ bankAccountId: account!.id, amount: 42, label: 'Slow upload', side: 'debit' });
      // The event names an attachment Qonto still processes: the API does not return it yet.
      const attachmentId = randomUUID();
      await signal(bed.env.client, t.id, [change(tx, [attachmentId])]);
      const first = await t.status((v) => sleepingAfter(2)(v) && v.pendingChanges === 1, 'the first look');
      expect(first.lastIncremental).toMatchObject({ outcome: 'completed', exported: 0 });

      // 20 s after the event the upload is done; the recheck at 30 s finds it.
      data.attachReceipt(tx.id, { id: attachmentId, fileName: 'slow.pdf', contentType: 'application/pdf', size: 3_000 });
      await bed.env.sleep(31_000);
      const second = await t.status(settled(3), 'the recheck');
      expect(second.lastIncremental).toMatchObject({ outcome: 'completed', exported: 1 });
      expect(await states(t.id, [attachmentId])).toEqual(['uploaded']);
    });
  });

  it('looks again at a receipt named in a burst that the listing did not find yet', async () => {
    const exports: ExportInput[] = [];
    bed.activities = recordExports(exports);
    const t = await bed.start('burst-recheck', { webhookDebounceMs: DEBOUNCE_MS });
    await t.run(async () => {
      await t.status(sleepingAfter(1), 'the backfill');
      const data = bed.h.sims.qonto.data;
      const [account] = data.bankAccounts();
      const tx = data.addTransaction({ bankAccountId: account!.id, amount: 44, label: 'Slow upload in a burst', side: 'debit' });
      added.push(tx.id);
      const attachmentId = randomUUID();
      // 51 named transactions: more than are read one by one, so the run lists the accounts.
      const receipts = newReceipts(50);
      await signal(bed.env.client, t.id, [...receipts.map(({ tx, attachment }) => change(tx, [attachment.id])), change(tx, [attachmentId])]);
      const first = await t.status((v) => sleepingAfter(2)(v) && v.lastIncremental !== null, 'the burst');
      expect(first.lastIncremental).toMatchObject({ outcome: 'completed', exported: 50 });
      expect(first.pendingChanges).toBe(1);

      data.attachReceipt(tx.id, { id: attachmentId, fileName: 'slow.pdf', contentType: 'application/pdf', size: 3_000 });
      await bed.env.sleep(31_000);
      const second = await t.status(settled(3), 'the recheck');
      expect(second.lastIncremental).toMatchObject({ outcome: 'completed', exported: 1 });
      expect(await states(t.id, [attachmentId])).toEqual(['uploaded']);
      // The listing's export carried no ids; the recheck's (by id) names its one transaction.
      expect(exports.filter((e) => e.runNumber === 2).every((e) => e.transactionIds === undefined)).toBe(true);
      expect(exports.filter((e) => e.runNumber === 3).map((e) => e.transactionIds)).toContainEqual([tx.id]);
    });
  });

  it('gives up after two rechecks and leaves a receipt still invisible to the daily run', async () => {
    const t = await bed.start('recheck-late', { webhookDebounceMs: DEBOUNCE_MS });
    await t.run(async () => {
      await t.status(sleepingAfter(1), 'the backfill');
      const data = bed.h.sims.qonto.data;
      const [account] = data.bankAccounts();
      const tx = data.addTransaction({ bankAccountId: account!.id, amount: 43, label: 'Very slow upload', side: 'debit' });
      const attachmentId = randomUUID();
      await signal(bed.env.client, t.id, [change(tx, [attachmentId])]);
      await t.status((v) => sleepingAfter(2)(v) && v.pendingChanges === 1, 'the first look');
      await bed.env.sleep(31_000);
      await t.status((v) => sleepingAfter(3)(v) && v.pendingChanges === 1, 'the first recheck');
      await bed.env.sleep(121_000);
      const gaveUp = await t.status(settled(4), 'the second recheck');
      expect(gaveUp.lastIncremental).toMatchObject({ exported: 0 });

      // Visible 10 minutes after the event: the 23:30 run exports it.
      data.attachReceipt(tx.id, { id: attachmentId, fileName: 'late.pdf', contentType: 'application/pdf', size: 3_000 });
      await bed.skipToNextRun(gaveUp);
      const daily = await t.status((v) => v.lastRun?.kind === 'sync' && sleepingAfter(5)(v), 'the daily run');
      expect(daily.lastRun).toMatchObject({ outcome: 'completed', exported: 1 });
      expect(await states(t.id, [attachmentId])).toEqual(['uploaded']);
    });
  });

  it('keeps a deleted period folder deleted, as the daily run does', async () => {
    const t = await bed.start('deleted-folder', { webhookDebounceMs: DEBOUNCE_MS });
    await t.run(async () => {
      await t.status(sleepingAfter(1), 'the backfill');
      const store = bed.h.services.store;
      const drive = bed.h.sims.graph.drive(t.user.id);
      const files = drive.listFiles();
      const folder = [...new Set(files.map((f) => f.path.split('/').slice(0, -1).join('/')))].sort()[0]!;
      const gone = files.filter((f) => f.path.startsWith(`${folder}/`));
      await drive.deleteByPath(folder);

      // A new receipt for a transaction of that period.
      const data = bed.h.sims.qonto.data;
      const entries = await Promise.all(data.bankAccounts().flatMap((a) => data.transactionsOf(a.id)).flatMap((tx) => tx.attachmentIds.map((id) => store.getEntry(t.id, id))));
      const inFolder = entries.filter((e) => e && folder.endsWith(e.folderPath));
      expect(inFolder.length).toBe(gone.length);
      const old = data.transaction(inFolder[0]!.transactionId)!;
      const added = data.attachReceipt(old.id, { fileName: 'added-later.pdf', contentType: 'application/pdf', size: 2_500 });
      await signal(bed.env.client, t.id, [change(old, [added.id])]);
      const after = await t.status(settled(2), 'the incremental run');
      expect(after.lastIncremental).toMatchObject({ outcome: 'completed', dismissed: gone.length, exported: 1 });
      expect(await states(t.id, inFolder.map((e) => e!.attachmentId))).toEqual(inFolder.map(() => 'dismissed'));
      // Only the new receipt is in the period's folder, created again for it.
      expect(drive.listFiles().filter((f) => f.path.startsWith(`${folder}/`))).toHaveLength(1);
    });
  });

  it('exports nothing for a transaction emitted before the start date', async () => {
    const t = await bed.start('before-start', { webhookDebounceMs: DEBOUNCE_MS });
    await t.run(async () => {
      await t.status(sleepingAfter(1), 'the backfill');
      const filesBefore = bed.h.sims.graph.drive(t.user.id).listFiles().length;
      const emittedAt = new Date(Date.parse(SYNC_FROM) - 10 * 86_400_000).toISOString();
      const [{ tx, attachment }] = newReceipts(1, { emittedAt }) as [{ tx: SimTransaction; attachment: SimAttachment }];
      await signal(bed.env.client, t.id, [change(tx, [attachment.id])]);
      const after = await t.status(settled(2), 'the incremental run');
      expect(after.lastIncremental).toMatchObject({ outcome: 'completed', exported: 0 });
      expect(await bed.h.services.store.getEntry(t.id, attachment.id)).toBeFalsy();
      expect(bed.h.sims.graph.drive(t.user.id).listFiles()).toHaveLength(filesBefore);
    });
  });
});
