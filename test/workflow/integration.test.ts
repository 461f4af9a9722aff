import { randomUUID } from 'node:crypto';
import type { WorkflowHandle } from '@temporalio/client';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import type { WorkflowBundle } from '@temporalio/worker';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { serverExecutable } from '../../src/temporal/binaries.js';
import { settingsFrom, startIntegration } from '../../src/temporal/integrations.js';
import { bundleWorkflows, createWorker } from '../../src/temporal/worker.js';
import { reconfigureSignal, reconnectSignal, revokeSignal, syncNowSignal } from '../../workflows/messages.js';
import type { IntegrationSettings, IntegrationView } from '../../workflows/state.js';
import { startHarness, type Harness } from '../support/harness.js';
import { driveMismatches, expectedReceipts } from '../support/expectations.js';
import { handleOf, waitForStatus } from '../support/workflow.js';

/**
 * The integration workflow on the time-skipping test server, with real activities talking HTTP to the
 * simulators. Each test has its own Microsoft user (drive), integration, workflow and task queue.
 */
const ZONE = 'Europe/Paris';
const SYNC_FROM = '2020-01-01';

let env: TestWorkflowEnvironment;
let h: Harness;
let bundle: WorkflowBundle;
const started: WorkflowHandle[] = [];

beforeAll(async () => {
  env = await TestWorkflowEnvironment.createTimeSkipping({ server: { executable: serverExecutable('test-server') } });
  h = await startHarness({ demo: { seed: 11, accounts: 2, months: 3, receipts: 24 } });
  bundle = await bundleWorkflows();
});

afterAll(async () => {
  await h?.close();
  await env?.teardown();
});

// A test's workflow must not keep running into the next test's skipped time.
afterEach(async () => {
  for (const handle of started.splice(0)) await handle.terminate('test over').catch(() => {});
});

interface Started {
  id: string;
  user: ReturnType<Harness['newUser']>;
  handle: Awaited<ReturnType<typeof startIntegration>>;
  run<T>(fn: () => Promise<T>): Promise<T>;
  status(done: (v: IntegrationView) => boolean, what: string): Promise<IntegrationView>;
}

async function startOne(name: string, settings: Partial<IntegrationSettings> = {}, before?: (s: Omit<Started, 'handle' | 'run' | 'status'>) => void | Promise<void>): Promise<Started> {
  const id = `${name}-${randomUUID().slice(0, 8)}`;
  const user = h.newUser(id);
  await h.connect(id, user);
  await before?.({ id, user });
  const taskQueue = `tq-${id}`;
  const worker = await createWorker({ connection: env.nativeConnection, namespace: 'default', taskQueue, deps: h.services.deps, workflowBundle: bundle });
  const handle = await startIntegration(env.client, taskQueue, {
    integrationId: id,
    syncFrom: SYNC_FROM,
    timeZone: ZONE,
    settings: { ...settingsFrom(h.config), batchSize: 10, ...settings },
  });
  started.push(handle);
  return {
    id,
    user,
    handle,
    run: (fn) => worker.runUntil(fn),
    status: (done, what) => waitForStatus(env.client, id, done, what),
  };
}

const sleepingAfter = (runNumber: number) => (v: IntegrationView) => v.runNumber >= runNumber && v.phase.startsWith('sleeping');

/** Skips time to just after the next daily run is due. */
async function skipToNextRun(view: IntegrationView): Promise<void> {
  const now = await env.currentTimeMs();
  await env.sleep(Date.parse(view.nextRunAt!) - now + 1_000);
}

function wallTime(iso: string, zone: string): string {
  return new Intl.DateTimeFormat('en-GB', { timeZone: zone, hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).format(new Date(iso));
}

describe('integration workflow', () => {
  it('backfills every receipt, then exports new and late receipts at 23:30 each day', async () => {
    const t = await startOne('daily');
    await t.run(async () => {
      const first = await t.status(sleepingAfter(1), 'the backfill');
      const expected = expectedReceipts(h.sims.qonto.data, SYNC_FROM, ZONE);
      expect(expected.length).toBeGreaterThan(20);
      expect(first).toMatchObject({ status: 'idle', backfill: { done: true }, counts: { exported: expected.length, pending: 0, failed: 0 } });
      expect(first.lastRun).toMatchObject({ kind: 'backfill', outcome: 'completed', exported: expected.length });
      expect(wallTime(first.nextRunAt!, ZONE)).toBe('23:30');
      const drive = h.sims.graph.drive(t.user.id);
      expect(await driveMismatches(drive, h.services.store, t.id, expected)).toEqual([]);

      // A receipt attached today to a transaction of two months ago, and a new payment with a receipt.
      const data = h.sims.qonto.data;
      const [account] = data.bankAccounts();
      const old = data.transactionsOf(account!.id).filter((tx) => tx.status === 'completed').sort((a, b) => a.emittedAt.localeCompare(b.emittedAt))[0]!;
      const late = data.attachReceipt(old.id, { fileName: 'late-invoice.pdf', contentType: 'application/pdf', size: 12_345 });
      const fresh = data.addTransaction({ bankAccountId: account!.id, amount: 19.9, label: 'Boulangerie Paul', side: 'debit' });
      data.attachReceipt(fresh.id, { fileName: 'ticket.jpg', contentType: 'image/jpeg', size: 80_000 });

      await skipToNextRun(first);
      const second = await t.status(sleepingAfter(2), 'the first daily run');
      expect(second.lastRun).toMatchObject({ kind: 'sync', outcome: 'completed', exported: 2 });
      expect(wallTime(second.lastRun!.startedAt, ZONE)).toBe('23:30');
      const all = expectedReceipts(data, SYNC_FROM, ZONE);
      expect(await driveMismatches(drive, h.services.store, t.id, all)).toEqual([]);
      const lateEntry = await h.services.store.getEntry(t.id, late.id);
      const month = new Intl.DateTimeFormat('en-CA', { timeZone: ZONE, year: 'numeric', month: '2-digit' }).format(new Date(old.emittedAt));
      expect(lateEntry?.folderPath.endsWith(`/${month.slice(0, 4)}/${month}`)).toBe(true);

      await skipToNextRun(second);
      const third = await t.status(sleepingAfter(3), 'the second daily run');
      expect(third.lastRun).toMatchObject({ outcome: 'completed', exported: 0 });
      expect(Date.parse(third.lastRun!.startedAt) - Date.parse(second.lastRun!.startedAt)).toBe(24 * 3600_000);
      expect(await driveMismatches(drive, h.services.store, t.id, all)).toEqual([]);
    });
  });

  it('puts back a deleted file, leaves a deleted period folder gone, and reconfiguring brings it back', async () => {
    const t = await startOne('deletes');
    await t.run(async () => {
      await t.status(sleepingAfter(1), 'the backfill');
      const drive = h.sims.graph.drive(t.user.id);
      const files = drive.listFiles();
      const periods = [...new Set(files.map((f) => f.path.split('/').slice(0, -1).join('/')))].sort();
      expect(periods.length).toBeGreaterThanOrEqual(3);
      const doomedFolder = periods[0]!;
      const doomedCount = files.filter((f) => f.path.startsWith(`${doomedFolder}/`)).length;
      const victim = files.find((f) => !f.path.startsWith(`${doomedFolder}/`))!;
      await drive.deleteByPath(victim.path);
      await drive.deleteByPath(doomedFolder);

      await handleOf(env.client, t.id).signal(syncNowSignal);
      const after = await t.status(sleepingAfter(2), 'the run after the deletions');
      expect(after.lastRun).toMatchObject({ requeued: 1, dismissed: doomedCount, exported: 1 });
      expect(drive.getByPath(victim.path)).toBeDefined();
      expect(drive.getByPath(doomedFolder)).toBeUndefined();
      expect(after.counts.dismissed).toBe(doomedCount);

      // A new receipt for the deleted period still arrives, alone in a new folder.
      const sample = await h.services.store.findByDriveItemIds(t.id, []);
      expect(sample).toEqual([]);
      const doomedEntry = (await Promise.all(expectedReceipts(h.sims.qonto.data, SYNC_FROM, ZONE).map((a) => h.services.store.getEntry(t.id, a.id)))).find(
        (e) => e?.state === 'dismissed',
      )!;
      const tx = h.sims.qonto.data.transaction(doomedEntry.transactionId)!;
      const sibling = h.sims.qonto.data.addTransaction({ bankAccountId: tx.bankAccountId, amount: 5, label: 'Late arrival', emittedAt: tx.emittedAt, createdAt: tx.emittedAt });
      h.sims.qonto.data.attachReceipt(sibling.id, { fileName: 'new.pdf', contentType: 'application/pdf', size: 2_000 });
      await handleOf(env.client, t.id).signal(syncNowSignal);
      await t.status(sleepingAfter(3), 'the run with a new receipt for the deleted period');
      expect(drive.listFiles().filter((f) => f.path.startsWith(`${doomedFolder}/`))).toHaveLength(1);

      await handleOf(env.client, t.id).signal(reconfigureSignal, { syncFrom: SYNC_FROM });
      const reconfigured = await t.status(sleepingAfter(4), 'the reconfiguration');
      expect(reconfigured.lastRun).toMatchObject({ kind: 'reconfigure', outcome: 'completed', exported: doomedCount });
      expect(reconfigured.counts.dismissed).toBe(0);
      expect(await driveMismatches(drive, h.services.store, t.id, expectedReceipts(h.sims.qonto.data, SYNC_FROM, ZONE))).toEqual([]);
    });
  });

  it('stops cleanly on a full drive and continues with "sync now" once there is space', async () => {
    const t = await startOne('quota', {}, ({ user }) => {
      h.sims.graph.drive(user.id).setQuota({ total: 400_000 });
    });
    await t.run(async () => {
      const full = await t.status((v) => v.status === 'quota_exceeded' && v.phase.startsWith('sleeping'), 'the quota stop');
      expect(full.lastRun?.outcome).toBe('quota_exceeded');
      expect(full.lastError).toMatch(/OneDrive is full/);
      expect(full.counts.pending).toBeGreaterThan(0);
      const drive = h.sims.graph.drive(t.user.id);
      expect(drive.uploadSessionCount()).toBe(0);
      const expected = expectedReceipts(h.sims.qonto.data, SYNC_FROM, ZONE);
      const problems = await driveMismatches(drive, h.services.store, t.id, expected);
      // Only "not exported yet" problems: no partial or wrong file.
      expect(problems.every((p) => / is (pending|failed)$/.test(p))).toBe(true);

      drive.setQuota({ total: 5 * 1024 ** 3 });
      await handleOf(env.client, t.id).signal(syncNowSignal);
      const done = await t.status((v) => v.status === 'idle' && v.runNumber >= 2 && v.phase.startsWith('sleeping'), 'the run with space');
      expect(done.lastError).toBeNull();
      expect(await driveMismatches(drive, h.services.store, t.id, expected)).toEqual([]);
    });
  });

  it('needs a reconnect when consent is gone, without a retry storm, and resumes after it', async () => {
    const t = await startOne('reconnect');
    await t.run(async () => {
      await t.status(sleepingAfter(1), 'the backfill');
      h.sims.directory.revokeUser(t.user.id);
      const before = h.sims.identity.tokenRequests;
      await handleOf(env.client, t.id).signal(syncNowSignal);
      const waiting = await t.status((v) => v.status === 'reconnect_required', 'reconnect_required');
      expect(waiting.phase).toMatch(/sign in again/);
      expect(h.sims.identity.tokenRequests - before).toBeLessThanOrEqual(2);

      await h.connect(t.id, t.user);
      const added = h.sims.qonto.data.addTransaction({ bankAccountId: h.sims.qonto.data.bankAccounts()[0]!.id, amount: 7, label: 'After reconnect' });
      h.sims.qonto.data.attachReceipt(added.id, { fileName: 'r.pdf', contentType: 'application/pdf', size: 3_000 });
      await handleOf(env.client, t.id).signal(reconnectSignal);
      const resumed = await t.status((v) => v.status === 'idle' && v.runNumber >= 3 && v.phase.startsWith('sleeping'), 'the run after reconnect');
      expect(resumed.lastRun).toMatchObject({ outcome: 'completed', exported: 1 });
    });
  });

  it('withdraws consent: stops the run under way, deletes the tokens, keeps the files', async () => {
    const t = await startOne('revoke', { batchSize: 2 });
    await t.run(async () => {
      const drive = h.sims.graph.drive(t.user.id);
      await waitUntil(() => drive.listFiles().length >= 2, 'the first uploads');
      await handleOf(env.client, t.id).signal(revokeSignal);
      const outcome = (await handleOf(env.client, t.id).result()) as { status: string };
      expect(outcome.status).toBe('revoked');
      const expected = expectedReceipts(h.sims.qonto.data, SYNC_FROM, ZONE);
      expect(drive.listFiles().length).toBeGreaterThanOrEqual(2);
      expect(drive.listFiles().length).toBeLessThan(expected.length);
      expect(drive.uploadSessionCount()).toBe(0);
      expect(await h.services.store.getTokenCache(t.id, 'microsoft')).toBeNull();
      expect((await h.services.store.getIntegration(t.id))?.status).toBe('revoked');
    });
  });

  it('continues as new during a long backfill without duplicating a receipt', async () => {
    const t = await startOne('can', { batchSize: 2, maxHistoryEvents: 40 });
    await t.run(async () => {
      const view = await t.status(sleepingAfter(1), 'the backfill');
      const description = await handleOf(env.client, t.id).describe();
      expect(description.runId).not.toBe(t.handle.firstExecutionRunId);
      expect(view.lastRun).toMatchObject({ kind: 'backfill', outcome: 'completed' });
      const expected = expectedReceipts(h.sims.qonto.data, SYNC_FROM, ZONE);
      expect(view.lastRun?.exported).toBe(expected.length);
      expect(await driveMismatches(h.sims.graph.drive(t.user.id), h.services.store, t.id, expected)).toEqual([]);
      const history = await handleOf(env.client, t.id).fetchHistory();
      expect(history.events?.length ?? 0).toBeLessThan(120);
    });
  });

  // Last: it moves the shared test clock months ahead.
  it('keeps 23:30 local time across the spring DST change', async () => {
    const target = Date.parse('2027-03-26T12:00:00Z');
    await env.sleep(target - (await env.currentTimeMs()));
    const t = await startOne('dst');
    await t.run(async () => {
      let view = await t.status(sleepingAfter(1), 'the backfill');
      const starts: string[] = [];
      for (let run = 2; run <= 5; run++) {
        await skipToNextRun(view);
        view = await t.status(sleepingAfter(run), `daily run ${run}`);
        starts.push(view.lastRun!.startedAt);
      }
      expect(starts).toEqual(['2027-03-26T22:30:00.000Z', '2027-03-27T22:30:00.000Z', '2027-03-28T21:30:00.000Z', '2027-03-29T21:30:00.000Z']);
    });
  });
});

async function waitUntil(predicate: () => boolean, what: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
