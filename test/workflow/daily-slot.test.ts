import { TestWorkflowEnvironment } from '@temporalio/testing';
import type { WorkflowBundle } from '@temporalio/worker';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { ActivityDeps } from '../../activities/index.js';
import { serverExecutable } from '../../src/temporal/binaries.js';
import { bundleWorkflows, createWorker } from '../../src/temporal/worker.js';
import { nextLocalTime } from '../../src/sync/schedule.js';
import { nextDailyRun, spreadOffsetMs } from '../../src/sync/spread.js';
import { workflowIdFor } from '../../workflows/messages.js';
import { EMPTY_COUNTS, initialState, type CarriedState, type IntegrationInput, type LastRun } from '../../workflows/state.js';
import { dataConverter } from '../support/harness.js';
import { waitForStatus } from '../support/workflow.js';

// The deploy night of the spread: an execution from before it ran at 23:30 sharp and continued as new;
// the new execution (with the spread) must not run again at 23:30 + its offset the same evening. A
// day's scheduled slot is served once; a manual run inside the window does not cancel it.
const ZONE = 'Europe/Paris';
const SPREAD = 30;
const TASK_QUEUE = 'daily-slot';
const HOUR_MS = 3_600_000;

let env: TestWorkflowEnvironment;
let bundle: WorkflowBundle;
/** 23:30 in ZONE today, as the test server's clock reads it once moved to 23:31. */
let slot = 0;
const started: string[] = [];

/** An id whose offset is past the minute the old run took, so "the same evening" is still ahead. */
function idWithOffsetOver(minMs: number, prefix: string): string {
  for (let i = 0; ; i++) if (spreadOffsetMs(`${prefix}-${i}`, SPREAD) > minMs) return `${prefix}-${i}`;
}

beforeAll(async () => {
  env = await TestWorkflowEnvironment.createTimeSkipping({ server: { executable: serverExecutable('test-server') }, client: { dataConverter } });
  bundle = await bundleWorkflows();
  const now = await env.currentTimeMs();
  slot = nextLocalTime(now, ZONE, 23, 30);
  await env.sleep(slot + 60_000 - now);
}, 120_000);
afterAll(async () => {
  for (const id of started) await env?.client.workflow.getHandle(workflowIdFor(id)).terminate('test over').catch(() => {});
  await env?.teardown();
});

function syncRun(startedAt: number, finishedAt: number): LastRun {
  return { kind: 'sync', startedAt: new Date(startedAt).toISOString(), finishedAt: new Date(finishedAt).toISOString(), outcome: 'completed', exported: 0, failed: 0, bytes: 0, requeued: 0, dismissed: 0 };
}

/** Starts an execution as continue-as-new would, with `carried` over a backfilled integration, and
 * reads its next run once it sleeps. */
async function nextRunOf(id: string, carried: Partial<CarriedState>): Promise<number> {
  const input: IntegrationInput = { integrationId: id, syncFrom: '2026-01-01', timeZone: ZONE, settings: { syncTime: '23:30', defaultTimeZone: ZONE, syncSpreadMinutes: SPREAD, batchSize: 10 } };
  const state: CarriedState = { ...initialState(input), status: 'idle', timeZone: ZONE, backfilled: true, runDue: null, runNumber: 2, counts: EMPTY_COUNTS, ...carried };
  await env.client.workflow.start('integrationWorkflow', { workflowId: workflowIdFor(id), taskQueue: TASK_QUEUE, args: [{ ...input, carried: state }] });
  started.push(id);
  // A worker per execution (one runs until its promise settles); the executions only sleep here.
  const worker = await createWorker({ connection: env.nativeConnection, namespace: 'default', taskQueue: TASK_QUEUE, deps: {} as ActivityDeps, workflowBundle: bundle, dataConverter, activities: {} });
  const view = await worker.runUntil(waitForStatus(env.client, id, (v) => v.phase.startsWith('sleeping'), 'asleep', 60_000, { betweenTasks: true }));
  return Date.parse(view.nextRunAt!);
}

it('after the 23:30 sharp run of an execution from before the spread, the next run is tomorrow, not 23:30 + offset tonight', { timeout: 120_000 }, async () => {
  const id = idWithOffsetOver(5 * 60_000, 'old-style');
  const offset = spreadOffsetMs(id, SPREAD);
  // A state carried from before dailySlotServed existed: the field is absent.
  const next = await nextRunOf(id, { dailySlotServed: undefined, lastRun: syncRun(slot, slot + 60_000) });
  expect(next).toBe(nextDailyRun(slot + offset, ZONE, 23, 30, offset));
  expect(next - slot).toBeGreaterThan(20 * HOUR_MS);
});

it('a day whose slot was served (recorded in the carried state) is not run again inside its window', { timeout: 120_000 }, async () => {
  const id = idWithOffsetOver(5 * 60_000, 'served');
  const offset = spreadOffsetMs(id, SPREAD);
  const next = await nextRunOf(id, { dailySlotServed: new Date(slot).toISOString(), lastRun: null });
  expect(next).toBe(nextDailyRun(slot + offset, ZONE, 23, 30, offset));
});

it('a manual run inside the window leaves the evening\'s scheduled run in place', { timeout: 120_000 }, async () => {
  const id = idWithOffsetOver(5 * 60_000, 'manual');
  const offset = spreadOffsetMs(id, SPREAD);
  // Yesterday's slot was served; a "sync now" at 23:30:30 today does not count as today's.
  const next = await nextRunOf(id, { dailySlotServed: new Date(slot - 24 * HOUR_MS).toISOString(), lastRun: syncRun(slot + 30_000, slot + 50_000) });
  expect(next).toBe(slot + offset);
});
