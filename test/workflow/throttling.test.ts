import { afterAll, afterEach, beforeAll, expect, inject, it } from 'vitest';
import { driveMismatches, expectedReceipts } from '../support/expectations.js';
import { SYNC_FROM, Testbed, ZONE, sleepingAfter } from '../support/testbed.js';

// On the run's dev server, in real time: the drive's back-off gate measures its windows on the
// process clock, which the time-skipping server does not move.
let dev: Testbed;
beforeAll(async () => {
  // A Retry-After above a second is "long" here: not waited in process, so the activity ends and
  // Temporal retries it after the window, as a Retry-After over a minute does in production.
  // One upload at a time, so that the three windows come one after another.
  dev = await Testbed.create(
    { devServerAddress: inject('temporalAddress') },
    { tuning: { graph: { retry: { maxRetryAfterMs: 1_000 } } }, extraEnv: { UPLOAD_CONCURRENCY: '1' } },
  );
});
afterAll(() => dev?.close());
afterEach(() => dev.terminateStarted());

it('three long Retry-After windows in a row leave every receipt exported, none failed', async () => {
  const graph = dev.h.sims.graph;
  const t = await dev.start('throttled');
  const windowsBefore = graph.throttling.windows;
  // The first three uploads are each answered 429 with a window of 2 s.
  graph.faults.add({ method: 'PUT' }, { kind: 'status', status: 429, retryAfterSec: 2 }, 3);
  await t.run(async () => {
    const done = await t.status(sleepingAfter(1), 'the backfill');
    const expected = expectedReceipts(dev.h.sims.qonto.data, SYNC_FROM, ZONE);
    expect(graph.throttling.windows - windowsBefore).toBe(3);
    expect(done.counts).toMatchObject({ failed: 0, pending: 0, exported: expected.length });
    expect(done.lastRun).toMatchObject({ outcome: 'completed', failed: 0 });
    expect(done.lastError).toBeNull();
    expect(await driveMismatches(graph.drive(t.user.id), dev.h.services.store, t.id, expected)).toEqual([]);
  });
});
