import { Client, Connection } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { settingsFrom, startIntegration } from '../../src/temporal/integrations.js';
import { expectedReceipts } from '../support/expectations.js';
import { dataConverter, startHarness, type Harness } from '../support/harness.js';
import { freshDatabaseUrl } from '../support/postgres.js';
import { startWorkerProcess, type WorkerProcess } from '../support/worker-process.js';
import { handleOf } from '../support/workflow.js';

/**
 * SIGTERM to a ROLE=worker process in the middle of an export: the running activity keeps going for up
 * to SHUTDOWN_GRACE_SECONDS, finishes, and the process exits 0. Slow simulators and two upload lanes
 * make the export outlast the worker's default grace of 10 s (with it, about 40 of the 100 land).
 */
const ZONE = 'Europe/Paris';
const SYNC_FROM = '2020-01-01';
const GRACE_SECONDS = 120;
const ID = `drain-${Date.now().toString(36)}`;

let h: Harness;
let client: Client;
let worker: WorkerProcess | undefined;

beforeAll(async () => {
  // Split roles share a Postgres store (SQLite serves ROLE=all only).
  h = await startHarness({ demo: { seed: 3, accounts: 1, months: 1, receipts: 100 }, latencyMs: 250, extraEnv: { DATABASE_URL: await freshDatabaseUrl() } });
  client = new Client({ connection: await Connection.connect({ address: inject('temporalAddress') }), dataConverter });
});

afterAll(async () => {
  await handleOf(client, ID).terminate('suite over').catch(() => {});
  await worker?.kill();
  await client?.connection.close();
  await h?.close();
});

describe('ROLE=worker on SIGTERM', () => {
  it('lets the running export finish within SHUTDOWN_GRACE_SECONDS, then exits 0', async () => {
    const taskQueue = `tq-${ID}`;
    const env = {
      ...h.env,
      ROLE: 'worker',
      TEMPORAL_ADDRESS: inject('temporalAddress'),
      TEMPORAL_TASK_QUEUE: taskQueue,
      UPLOAD_CONCURRENCY: '2',
      SHUTDOWN_GRACE_SECONDS: String(GRACE_SECONDS),
    };
    const user = h.sims.users.personal;
    await h.connect(ID, user);
    worker = await startWorkerProcess(env);
    await startIntegration(client, taskQueue, { integrationId: ID, syncFrom: SYNC_FROM, timeZone: ZONE, settings: settingsFrom(h.config) });
    const expected = expectedReceipts(h.sims.qonto.data, SYNC_FROM, ZONE);
    const drive = h.sims.graph.drive(user.id);
    while (drive.listFiles().length === 0) await new Promise((r) => setTimeout(r, 20));

    worker.child.kill('SIGTERM');
    const signalledAt = Date.now();
    expect(await worker.exited).toBe(0);
    const drained = Date.now() - signalledAt;
    // Every receipt landed: the activity was cancelled neither at SIGTERM nor after 10 s.
    expect(drive.listFiles()).toHaveLength(expected.length);
    expect(drained).toBeLessThan(GRACE_SECONDS * 1000);
    expect(worker.output()).toContain('SIGTERM: stopping');
  }, 240_000);
});
