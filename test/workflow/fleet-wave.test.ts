import type { WorkflowHandle } from '@temporalio/client';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Worker } from '@temporalio/worker';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { ActivityDeps } from '../../activities/index.js';
import type { AccountRef, ExportResult, OrganizationInfo, QuotaCheck, VerifyResult } from '../../activities/types.js';
import { serverExecutable } from '../../src/temporal/binaries.js';
import { startIntegration } from '../../src/temporal/integrations.js';
import { bundleWorkflows, createWorker } from '../../src/temporal/worker.js';
import { nextDailyRun, spreadOffsetMs } from '../../src/sync/spread.js';
import { statusQuery, workflowIdFor } from '../../workflows/messages.js';
import { EMPTY_COUNTS, type IntegrationView } from '../../workflows/state.js';
import { dataConverter } from '../support/harness.js';
import { isBetweenTasks } from '../support/workflow.js';

// The 23:30 wave on the time-skipping server: 40 integrations on one worker whose activities wait for a
// shared "budget" (a FIFO of slots in the test, standing in for the fleet's Qonto budget) and for the
// worker's few activity slots. Nothing may fail or time out for it, every run starts at SYNC_TIME plus
// its own offset, and the worker keeps only TEMPORAL_MAX_CACHED_WORKFLOWS workflows in memory.
const N = 40;
const ZONE = 'Europe/Paris';
const SPREAD_MINUTES = 30;
const CACHE = 4;
const SLOT_MS = 15;

type History = NonNullable<Awaited<ReturnType<WorkflowHandle['fetchHistory']>>['events']>;

let env: TestWorkflowEnvironment;
let worker: Worker;
const ids = Array.from({ length: N }, (_, i) => `wave-${i}`);
const account: AccountRef = { id: 'acc-1', name: 'Main', folderName: 'Main (0001)' };

/** Qonto calls take a slot each, one after the other, as the fleet budget grants them. */
let nextSlot = 0;
async function budget(): Promise<void> {
  const at = Math.max(Date.now(), nextSlot);
  nextSlot = at + SLOT_MS;
  await new Promise((r) => setTimeout(r, at - Date.now()));
}
const started: Array<{ id: string; at: number }> = [];
let maxCached = 0;

beforeAll(async () => {
  env = await TestWorkflowEnvironment.createTimeSkipping({ server: { executable: serverExecutable('test-server') }, client: { dataConverter } });
  const quota = { total: 5e9, used: 1e6, remaining: 5e9 - 1e6, deleted: 0, state: 'normal' };
  worker = await createWorker({
    connection: env.nativeConnection,
    namespace: 'default',
    taskQueue: 'fleet-wave',
    // Every activity the runs call is a stub below.
    deps: {} as ActivityDeps,
    workflowBundle: await bundleWorkflows(),
    dataConverter,
    maxConcurrentActivities: 4,
    maxCachedWorkflows: CACHE,
    activities: {
      setStatus: async () => {},
      loadOrganization: async ({ integrationId }: { integrationId: string }): Promise<OrganizationInfo> => {
        started.push({ id: integrationId, at: await env.currentTimeMs() });
        await budget();
        return { timeZone: ZONE, accounts: [account] };
      },
      ensureWebhookSubscription: async () => ({ state: 'unavailable', reason: 'insecure_public_url', lastEventAt: null }),
      verifyDrive: async (): Promise<VerifyResult> => ({ deltaLink: 'delta', requeued: 0, dismissed: 0 }),
      discoverAccount: async () => {
        await budget();
        return { cursor: '2026-12-01T00:00:00.000Z', transactions: 1, discovered: 0, skipped: 0 };
      },
      checkQuota: async (): Promise<QuotaCheck> => ({ quota, counts: EMPTY_COUNTS, full: false }),
      exportBatch: async (): Promise<ExportResult> => {
        await budget();
        return { exported: 0, failed: 0, bytes: 0, quotaExceeded: false, remaining: 0, counts: EMPTY_COUNTS, lastError: null };
      },
      writeDriveReports: async () => ({ written: 0 }),
      runEnded: async () => ({ nextCheckAt: null }),
      checkAlerts: async () => ({ nextCheckAt: null }),
    },
  });
}, 120_000);
afterAll(async () => {
  for (const id of ids) await env?.client.workflow.getHandle(workflowIdFor(id)).terminate('test over').catch(() => {});
  await env?.teardown();
});

/** The histories of an integration's executions, first to last, following continue-as-new. */
async function executions(id: string): Promise<History[]> {
  const out: History[] = [];
  let runId: string | undefined = firstRuns.get(id);
  while (runId) {
    const events = (await env.client.workflow.getHandle(workflowIdFor(id), runId).fetchHistory()).events ?? [];
    out.push(events);
    runId = events.at(-1)?.workflowExecutionContinuedAsNewEventAttributes?.newExecutionRunId ?? undefined;
  }
  return out;
}
const firstRuns = new Map<string, string>();

/** Waits until every integration's `n`-th execution sleeps (between tasks, so the query is safe on
 * this server), then reads each one's status. */
async function asleepInExecution(n: number): Promise<Map<string, IntegrationView>> {
  const views = new Map<string, IntegrationView>();
  const deadline = Date.now() + 180_000;
  while (views.size < ids.length) {
    for (const id of ids.filter((i) => !views.has(i))) {
      const chain = await executions(id);
      if (chain.length === n && isBetweenTasks(chain[n - 1]!)) {
        const view = await env.client.workflow.getHandle(workflowIdFor(id)).query(statusQuery);
        if (view.phase.startsWith('sleeping')) views.set(id, view);
      }
    }
    if (Date.now() > deadline) throw new Error(`${ids.length - views.size} integrations not asleep in execution ${n}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return views;
}

it('runs a wave of 40 integrations, each at SYNC_TIME + its offset, without a failed or timed-out activity, holding at most the cache in memory', { timeout: 400_000 }, async () => {
  await worker.runUntil(async () => {
    const sampler = setInterval(() => (maxCached = Math.max(maxCached, worker.getStatus().numCachedWorkflows)), 20);
    try {
      for (const id of ids) {
        const handle = await startIntegration(env.client, 'fleet-wave', {
          integrationId: id,
          syncFrom: '2026-01-01',
          timeZone: ZONE,
          settings: { syncTime: '23:30', defaultTimeZone: ZONE, syncSpreadMinutes: SPREAD_MINUTES, batchSize: 10 },
        });
        firstRuns.set(id, handle.firstExecutionRunId);
      }
      const backfilled = await asleepInExecution(2);
      for (const [id, view] of backfilled) {
        const offset = spreadOffsetMs(id, SPREAD_MINUTES);
        expect(view.lastRun, id).toMatchObject({ kind: 'backfill', outcome: 'completed' });
        expect(view.nextRunAt, id).toBe(new Date(nextDailyRun(Date.parse(view.lastRun!.finishedAt), ZONE, 23, 30, offset)).toISOString());
        expect(view.phase, id).toContain(`23:30 ${ZONE} + ${Math.floor(offset / 60_000)} min`);
      }
      // The offsets spread the wave over the window.
      const dues = [...backfilled.values()].map((v) => Date.parse(v.nextRunAt!));
      expect(Math.max(...dues) - Math.min(...dues)).toBeGreaterThan(20 * 60_000);
      expect(new Set(dues).size).toBeGreaterThan(N - 3);

      // The wave: past the last due time.
      started.length = 0;
      await env.sleep(Math.max(...dues) - (await env.currentTimeMs()) + 60_000);
      const after = await asleepInExecution(3);
      for (const [id, view] of after) {
        const due = Date.parse(backfilled.get(id)!.nextRunAt!);
        expect(view.lastRun, id).toMatchObject({ kind: 'sync', outcome: 'completed' });
        // Each run started at its own due time, not at 23:30 with the others.
        const start = started.find((s) => s.id === id)!.at;
        expect(start - due, id).toBeGreaterThanOrEqual(0);
        expect(start - due, id).toBeLessThan(60_000);
        expect(view.nextRunAt, id).toBe(new Date(nextDailyRun(due, ZONE, 23, 30, spreadOffsetMs(id, SPREAD_MINUTES))).toISOString());
      }

      // Waiting for a slot or for the budget never became a failure or a timeout.
      for (const id of ids) {
        const chain = await executions(id);
        const events = chain.flat();
        expect(events.filter((e) => e.activityTaskFailedEventAttributes || e.activityTaskTimedOutEventAttributes), id).toEqual([]);
        // Priority by run kind: the backfill's activities 4, the daily run's 2; the alerts' none.
        for (const [execution, key] of [[0, 4], [1, 2]] as const) {
          const scheduled = chain[execution]!.flatMap((e) => (e.activityTaskScheduledEventAttributes ? [e.activityTaskScheduledEventAttributes] : []));
          const keys = new Set(scheduled.map((a) => `${a.activityType?.name}:${a.priority?.priorityKey ?? '-'}:${a.priority?.fairnessKey ?? '-'}`));
          expect([...keys].filter((k) => !k.startsWith('runEnded:')).sort(), id).toEqual(
            ['loadOrganization', 'setStatus', 'ensureWebhookSubscription', 'verifyDrive', 'discoverAccount', 'checkQuota', 'exportBatch', 'writeDriveReports'].map((n) => `${n}:${key}:${id}`).sort(),
          );
        }
      }
    } finally {
      clearInterval(sampler);
    }
  });
  // 40 sleeping integrations, yet the worker held no more than its cache: the others were evicted and
  // replayed when they woke (and still completed their runs above).
  expect(maxCached).toBeGreaterThan(0);
  expect(maxCached).toBeLessThanOrEqual(CACHE);
});
