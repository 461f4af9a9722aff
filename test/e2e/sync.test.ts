import { Client, Connection } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { settingsFrom, startIntegration } from '../../src/temporal/integrations.js';
import { reconfigureSignal, syncNowSignal } from '../../workflows/messages.js';
import type { IntegrationView } from '../../workflows/state.js';
import { driveMismatches, expectedReceipts } from '../support/expectations.js';
import { dataConverter, startHarness, type Harness } from '../support/harness.js';
import { startWorkerProcess, type WorkerProcess } from '../support/worker-process.js';
import { handleOf, waitForStatus } from '../support/workflow.js';

/**
 * End to end: the Temporal dev server, the product's worker as a separate process (`src/main.ts`), and
 * the Qonto and Microsoft simulators over real HTTP. 200+ receipts over two accounts and three months,
 * one of 50 MB, injected throttling, server errors and dropped connections, a worker killed with SIGKILL
 * in the middle of the backfill: afterwards exactly one file per receipt, every hash verified.
 */
const ZONE = 'Europe/Paris';
const SYNC_FROM = '2020-01-01';
const BIG = 50 * 1024 * 1024;
const ID = `e2e-${Date.now().toString(36)}`;

let h: Harness;
let client: Client;
let worker: WorkerProcess | undefined;
let workerEnv: Record<string, string>;

beforeAll(async () => {
  h = await startHarness({ demo: { seed: 21, accounts: 2, months: 3, receipts: 210, bigFile: { bytes: BIG } } });
  const address = inject('temporalAddress');
  workerEnv = { ...h.env, TEMPORAL_ADDRESS: address, TEMPORAL_TASK_QUEUE: `tq-${ID}` };
  client = new Client({ connection: await Connection.connect({ address }), dataConverter });
});

afterAll(async () => {
  await handleOf(client, ID).terminate('suite over').catch(() => {});
  await worker?.stop();
  await client?.connection.close();
  await h?.close();
});

const status = (done: (v: IntegrationView) => boolean, what: string) => waitForStatus(client, ID, done, what, 240_000);
const sleepingAfter = (run: number) => (v: IntegrationView) => v.runNumber >= run && v.phase.startsWith('sleeping');

async function waitUntil(predicate: () => boolean, what: string, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('end to end', () => {
  it('exports 200+ receipts through faults and a killed worker: one verified file per receipt', async () => {
    const { sims } = h;
    const expected = expectedReceipts(sims.qonto.data, SYNC_FROM, ZONE);
    expect(expected.length).toBeGreaterThanOrEqual(200);
    expect(expected.some((a) => a.size === BIG)).toBe(true);
    const accounts = new Set(expected.map((a) => sims.qonto.data.transaction(a.transactionId)!.bankAccountId));
    expect(accounts.size).toBe(2);

    // Faults on every path the sync takes; each must have been served by the end.
    sims.graph.faults.add({ method: 'PUT', path: ':/content' }, { kind: 'status', status: 429, retryAfterSec: 1 }, 3);
    sims.graph.faults.add({ method: 'POST', path: '/children' }, { kind: 'status', status: 503, retryAfterSec: 1 }, 2);
    sims.graph.faults.add({ method: 'PUT', path: ':/content' }, { kind: 'drop' }, 2);
    sims.graph.faults.add({ method: 'PUT', path: '/rup/' }, { kind: 'drop-after-bytes', bytes: 1_000_000 }, 1);
    sims.qonto.faults.add({ path: '/v2/transactions' }, { kind: 'status', status: 429, retryAfterSec: 1 }, 2);
    sims.qonto.faults.add({ path: '/s3/' }, { kind: 'status', status: 503 }, 3);
    sims.qonto.faults.add({ path: '/s3/' }, { kind: 'drop-after-bytes', bytes: 5_000 }, 2);

    const user = sims.users.personal;
    await h.connect(ID, user);
    worker = await startWorkerProcess(workerEnv);
    await startIntegration(client, workerEnv.TEMPORAL_TASK_QUEUE!, {
      integrationId: ID,
      syncFrom: SYNC_FROM,
      timeZone: ZONE,
      settings: settingsFrom(h.config),
    });

    // Kill the worker in the middle of the backfill, once the 50 MB upload session has taken a fragment:
    // the next worker must resume that session, not start the file again.
    const drive = sims.graph.drive(user.id);
    const fragmentsAccepted = () => sims.graph.requestLog.filter((r) => r.host === 'upload' && r.method === 'PUT' && r.status === 202).length;
    await waitUntil(() => drive.listFiles().length >= 20, 'the first uploads');
    await waitUntil(() => fragmentsAccepted() >= 1, 'a fragment of the big file');
    const sessionsAtKill = drive.counters.createUploadSession;
    await worker.kill();
    const filesAtKill = drive.listFiles().length;
    expect(filesAtKill).toBeLessThan(expected.length);

    worker = await startWorkerProcess(workerEnv);
    const done = await status(sleepingAfter(1), 'the backfill after the restart');
    expect(done).toMatchObject({ status: 'idle', counts: { exported: expected.length, failed: 0, pending: 0 } });
    expect(await driveMismatches(drive, h.services.store, ID, expected)).toEqual([]);
    expect(drive.uploadSessionCount()).toBe(0);
    // Resumed, not restarted: neither the dropped fragment nor the kill opened another session.
    expect(sessionsAtKill).toBe(1);
    expect(drive.counters.createUploadSession).toBe(1);
    expect(sims.graph.faults.pending()).toBe(0);
    expect(sims.qonto.faults.pending()).toBe(0);
  });

  it('puts a deleted file back, keeps a deleted period folder gone, and reconfiguring restores it', async () => {
    const { sims } = h;
    const drive = sims.graph.drive(sims.users.personal.id);
    const files = drive.listFiles();
    const folders = [...new Set(files.map((f) => f.path.slice(0, f.path.lastIndexOf('/'))))].sort();
    const doomed = folders[1]!;
    const doomedCount = files.filter((f) => f.path.startsWith(`${doomed}/`)).length;
    const victim = files.find((f) => !f.path.startsWith(`${doomed}/`) && f.size < 1_000_000)!;
    await drive.deleteByPath(victim.path);
    await drive.deleteByPath(doomed);

    await handleOf(client, ID).signal(syncNowSignal);
    const after = await status(sleepingAfter(2), 'the run after the deletions');
    expect(after.lastRun).toMatchObject({ requeued: 1, dismissed: doomedCount, exported: 1, outcome: 'completed' });
    expect(drive.getByPath(victim.path)?.size).toBe(victim.size);
    expect(drive.getByPath(doomed)).toBeUndefined();

    await handleOf(client, ID).signal(reconfigureSignal, { syncFrom: SYNC_FROM });
    const restored = await status(sleepingAfter(3), 'the reconfiguration');
    expect(restored.lastRun).toMatchObject({ kind: 'reconfigure', exported: doomedCount, outcome: 'completed' });
    expect(await driveMismatches(drive, h.services.store, ID, expectedReceipts(sims.qonto.data, SYNC_FROM, ZONE))).toEqual([]);
  });

  it('stops cleanly on a full drive and finishes once there is room', async () => {
    const { sims } = h;
    const drive = sims.graph.drive(sims.users.personal.id);
    const data = sims.qonto.data;
    const account = data.bankAccounts()[1]!;
    for (let i = 0; i < 6; i++) {
      const tx = data.addTransaction({ bankAccountId: account.id, amount: 100 + i, label: `Supplier ${i}`, side: 'debit' });
      data.attachReceipt(tx.id, { fileName: `invoice-${i}.pdf`, contentType: 'application/pdf', size: 3_000_000 });
    }
    const quota = drive.quota();
    drive.setQuota({ total: quota.used + 7_000_000 });

    await handleOf(client, ID).signal(syncNowSignal);
    const full = await status((v) => v.runNumber >= 4 && v.status === 'quota_exceeded' && v.phase.startsWith('sleeping'), 'the quota stop');
    expect(full.lastRun).toMatchObject({ outcome: 'quota_exceeded', exported: 2 });
    expect(full.lastError).toMatch(/OneDrive is full/);
    expect(drive.uploadSessionCount()).toBe(0);
    const problems = await driveMismatches(drive, h.services.store, ID, expectedReceipts(data, SYNC_FROM, ZONE));
    expect(problems).toHaveLength(4);
    expect(problems.every((p) => p.endsWith(' is pending'))).toBe(true);

    drive.setQuota({ total: 5 * 1024 ** 3 });
    await handleOf(client, ID).signal(syncNowSignal);
    const done = await status((v) => v.runNumber >= 5 && v.status === 'idle' && v.phase.startsWith('sleeping'), 'the run with room');
    expect(done.lastRun).toMatchObject({ outcome: 'completed', exported: 4 });
    expect(await driveMismatches(drive, h.services.store, ID, expectedReceipts(data, SYNC_FROM, ZONE))).toEqual([]);
  });
});
