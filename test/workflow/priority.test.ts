import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker, bundleWorkflowCode, type WorkflowBundle } from '@temporalio/worker';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { serverExecutable } from '../../src/temporal/binaries.js';
import type { oneActivity } from '../fixtures/priority-workflow.js';

// Does a real Temporal server (the CLI's dev server, server 1.32) dispatch a backlog of activity tasks
// by the priority our workflow gives them? The time-skipping test server knows no priority.
//
// A dev server of its own with ONE task-queue partition: priority orders the tasks within a partition,
// and a queue has four by default, each polled on its own, so with a handful of tasks the order across
// partitions is only roughly by priority (seen here: daily and bulk interleaved). With one partition
// the order is exact, which is what this test pins down.
let env: TestWorkflowEnvironment;
let bundle: WorkflowBundle;
beforeAll(async () => {
  env = await TestWorkflowEnvironment.createLocal({
    server: {
      executable: serverExecutable('cli'),
      extraArgs: ['--dynamic-config-value', 'matching.numTaskqueueReadPartitions=1', '--dynamic-config-value', 'matching.numTaskqueueWritePartitions=1'],
    },
  });
  bundle = await bundleWorkflowCode({
    workflowsPath: fileURLToPath(new URL('../fixtures/priority-workflow.ts', import.meta.url)),
    logger: { trace() {}, debug() {}, info() {}, warn() {}, error: console.error, log() {} },
  });
}, 120_000);
afterAll(() => env?.teardown());

it('dispatches the daily lane (priority 2) before the bulk lane (priority 4), oldest first within a lane', { timeout: 120_000 }, async () => {
  // Workflows run on one queue; their activities wait on another, whose worker starts only once every
  // activity is scheduled, and takes one at a time.
  const run = randomUUID().slice(0, 8);
  const workflowQueue = `priority-wf-${run}`;
  const activityQueue = `priority-act-${run}`;
  // Bulk first: the daily ones are scheduled later, yet must be dispatched first.
  const order = [...[0, 1, 2, 3].map((i) => ({ id: `bulk-${i}`, lane: 'bulk' as const })), ...[0, 1, 2, 3].map((i) => ({ id: `daily-${i}`, lane: 'daily' as const }))];
  const recorded: string[] = [];
  const flows = await Worker.create({ connection: env.nativeConnection, taskQueue: workflowQueue, workflowBundle: bundle });
  await flows.runUntil(async () => {
    const handles = [];
    for (const { id, lane } of order) {
      const handle = await env.client.workflow.start<typeof oneActivity>('oneActivity', { workflowId: `${id}-${run}`, taskQueue: workflowQueue, args: [id, lane, activityQueue] });
      // Each activity is in the backlog before the next workflow starts.
      await until(async () => (await handle.fetchHistory()).events?.some((e) => e.activityTaskScheduledEventAttributes) === true);
      handles.push(handle);
    }
    const activities = await Worker.create({
      connection: env.nativeConnection,
      taskQueue: activityQueue,
      activities: { record: async (id: string) => void recorded.push(id) },
      maxConcurrentActivityTaskExecutions: 1,
    });
    await activities.runUntil(Promise.all(handles.map((h) => h.result())));
  });
  expect(recorded).toEqual(['daily-0', 'daily-1', 'daily-2', 'daily-3', 'bulk-0', 'bulk-1', 'bulk-2', 'bulk-3']);
});

async function until(done: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (!(await done())) {
    if (Date.now() > deadline) throw new Error('timed out waiting for the activity to be scheduled');
    await new Promise((r) => setTimeout(r, 50));
  }
}
