import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, expect, inject, it } from 'vitest';
import { runWorker } from '../../src/roles/worker-runner.js';
import { startHarness, type Harness } from '../support/harness.js';

// The worker of ROLE=worker and ROLE=all takes TEMPORAL_MAX_CACHED_WORKFLOWS as the SDK's workflow
// cache, as the SDK compiled it (test/workflow/fleet-wave.test.ts shows what such a cap does).
let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(() => h?.close());

it.each([3, 100])('a worker started with TEMPORAL_MAX_CACHED_WORKFLOWS=%i caches at most that many workflows', { timeout: 120_000 }, async (max) => {
  const config = { ...h.config, TEMPORAL_MAX_CACHED_WORKFLOWS: max, TEMPORAL_TASK_QUEUE: `cache-${randomUUID().slice(0, 8)}` };
  const running = await runWorker(config, h.services, inject('temporalAddress'));
  try {
    expect(running.worker.options.maxCachedWorkflows).toBe(max);
  } finally {
    await running.shutdown();
  }
});
