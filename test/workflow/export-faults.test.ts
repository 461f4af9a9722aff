import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import { driveMismatches, expectedReceipts } from '../support/expectations.js';
import { SYNC_FROM, Testbed, ZONE, sleepingAfter } from '../support/testbed.js';

// On the run's dev server, in real time: the drive's back-off gate measures its windows on the
// process clock, which the time-skipping server does not move.
let dev: Testbed;
beforeAll(async () => {
  // A Retry-After above a second is "long" here: not waited in process, so the activity ends and
  // Temporal retries it after the window, as a Retry-After over a minute does in production.
  // One upload at a time, so that the three windows come one after another. Deadlines of a second
  // (instead of 15 s) so that a hung request fails over quickly.
  const deadlines = { idleMs: 1_000 };
  dev = await Testbed.create(
    { devServerAddress: inject('temporalAddress') },
    { tuning: { graph: { retry: { maxRetryAfterMs: 1_000 }, deadlines }, qonto: { deadlines } }, extraEnv: { UPLOAD_CONCURRENCY: '1' } },
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

it('429s without Retry-After are backed off by a window of our own and leave every receipt exported, none failed', async () => {
  const graph = dev.h.sims.graph;
  const t = await dev.start('no-retry-after');
  graph.faults.add({ method: 'PUT' }, { kind: 'status', status: 429 }, 4);
  await t.run(async () => {
    const done = await t.status(sleepingAfter(1), 'the backfill');
    const expected = expectedReceipts(dev.h.sims.qonto.data, SYNC_FROM, ZONE);
    expect(graph.faults.pending()).toBe(0);
    expect(done.counts).toMatchObject({ failed: 0, pending: 0, exported: expected.length });
    expect(done.lastRun).toMatchObject({ outcome: 'completed', failed: 0 });
    expect(await driveMismatches(graph.drive(t.user.id), dev.h.services.store, t.id, expected)).toEqual([]);
  });
});

it('hung connections (no answer, or an answer that stalls midway) to Qonto, its storage and Graph fail over, and every receipt arrives', async () => {
  const { graph, qonto } = dev.h.sims;
  const t = await dev.start('stalled');
  qonto.faults.add({ path: '/v2/transactions' }, { kind: 'stall' });
  qonto.faults.add({ path: '/s3/attachments/' }, { kind: 'stall' });
  qonto.faults.add({ path: '/s3/attachments/' }, { kind: 'stall-body', bytes: 1_000 });
  graph.faults.add({ method: 'GET', path: '/me/drive' }, { kind: 'stall-body', bytes: 5 });
  graph.faults.add({ method: 'PUT' }, { kind: 'stall' });
  await t.run(async () => {
    const done = await t.status(sleepingAfter(1), 'the backfill');
    const expected = expectedReceipts(dev.h.sims.qonto.data, SYNC_FROM, ZONE);
    expect(qonto.faults.pending() + graph.faults.pending()).toBe(0);
    expect(done.counts).toMatchObject({ failed: 0, pending: 0, exported: expected.length });
    expect(await driveMismatches(graph.drive(t.user.id), dev.h.services.store, t.id, expected)).toEqual([]);
  });
});

describe('upload sessions', () => {
  // Files above 64 KiB go through upload sessions; one try per request and per run, so that a
  // receipt whose fragments keep failing is given up on at once.
  let bed: Testbed;
  beforeAll(async () => {
    bed = await Testbed.create(
      { devServerAddress: inject('temporalAddress') },
      { tuning: { graph: { simpleUploadMax: 64 * 1024, retry: { attempts: 1 } } } },
    );
    bed.h.services.deps.attemptsPerRun = 1;
  });
  afterAll(() => bed?.close());
  afterEach(() => bed.terminateStarted());

  it('cancels the upload session of a receipt it gives up on instead of leaving it on the drive', async () => {
    const graph = bed.h.sims.graph;
    const t = await bed.start('sessions');
    const rule = graph.faults.addRandom({ method: 'PUT', path: '/rup/' }, { kind: 'status', status: 500 }, { fraction: 1 });
    try {
      await t.run(async () => {
        const done = await t.status(sleepingAfter(1), 'the backfill');
        expect(done.counts.failed).toBeGreaterThan(0);
        expect(graph.drive(t.user.id).counters.createUploadSession).toBeGreaterThan(0);
        expect(graph.drive(t.user.id).uploadSessionCount()).toBe(0);
      });
    } finally {
      graph.faults.remove(rule);
    }
  });
});

describe('a receipt its host keeps throttling', () => {
  // One try per request, so that each export of the receipt meets the 503 once.
  let bed: Testbed;
  beforeAll(async () => {
    bed = await Testbed.create({ devServerAddress: inject('temporalAddress') }, { tuning: { qonto: { retry: { attempts: 1 } } } });
  });
  afterAll(() => bed?.close());
  afterEach(() => bed.terminateStarted());

  it('is set aside as failed after its throttled tries while every other receipt is exported, and the run completes', async () => {
    const qonto = bed.h.sims.qonto;
    const expected = expectedReceipts(qonto.data, SYNC_FROM, ZONE);
    const [throttled] = expected;
    // Its download (the kept link, and the fresh one Qonto hands out) always answers 503.
    const rule = qonto.faults.add({ path: `/s3/attachments/${throttled!.id}?` }, { kind: 'status', status: 503, retryAfterSec: 0.5 }, 1_000);
    const t = await bed.start('always-throttled');
    try {
      await t.run(async () => {
        const done = await t.status(sleepingAfter(1), 'the backfill');
        expect(done.counts).toMatchObject({ failed: 1, pending: 0, exported: expected.length - 1 });
        expect(done.lastRun).toMatchObject({ outcome: 'completed', failed: 1, exported: expected.length - 1 });
        expect(await bed.h.services.store.getEntry(t.id, throttled!.id)).toMatchObject({ state: 'failed', lastError: expect.stringMatching(/throttled 5 times/) });
      });
    } finally {
      qonto.faults.remove(rule);
    }
  });
});

describe('a throttle window longer than the heartbeat timeout', () => {
  // Default client settings: a Retry-After up to 60 s is waited in process, against the workflow's
  // real 20 s heartbeat timeout.
  let bed: Testbed;
  beforeAll(async () => {
    bed = await Testbed.create({ devServerAddress: inject('temporalAddress') });
  });
  afterAll(() => bed?.close());
  afterEach(() => bed.terminateStarted());

  it('met by the first drive read of an export is waited out in one attempt, heartbeating', async () => {
    const graph = bed.h.sims.graph;
    const t = await bed.start('long-window');
    // The second read of the drive (the first is checkQuota's, the second exportBatch's) gets 429 with 25 s.
    graph.faults.add({ method: 'GET', path: new NthMatch(/\/me\/drive$/, 2) }, { kind: 'status', status: 429, retryAfterSec: 25 });
    await t.run(async () => {
      const done = await t.status(sleepingAfter(1), 'the backfill');
      expect(graph.faults.served).toBeGreaterThan(0);
      expect(done.lastRun).toMatchObject({ outcome: 'completed', failed: 0 });
    });
    const events = (await executionHistories(bed, t.handle.workflowId, t.handle.firstExecutionRunId)).flatMap((h) => h.events ?? []);
    expect(events.filter((e) => e.activityTaskTimedOutEventAttributes)).toEqual([]);
    // Every activity finished in its first attempt: none was timed out and retried.
    expect(events.map((e) => e.activityTaskStartedEventAttributes?.attempt ?? 1).filter((attempt) => attempt > 1)).toEqual([]);
  }, 120_000);
});

/** A path pattern that matches only its `n`th matching request. */
class NthMatch extends RegExp {
  private seen = 0;
  constructor(
    pattern: RegExp,
    private readonly n: number,
  ) {
    super(pattern);
  }
  override test(path: string): boolean {
    return super.test(path) && ++this.seen === this.n;
  }
}

/** The histories of every execution of the workflow, first to current. */
async function executionHistories(bed: Testbed, workflowId: string, firstRunId: string) {
  const chain = [];
  let runId: string | undefined = firstRunId;
  while (runId) {
    const history = await bed.env.client.workflow.getHandle(workflowId, runId).fetchHistory();
    chain.push(history);
    runId = history.events?.at(-1)?.workflowExecutionContinuedAsNewEventAttributes?.newExecutionRunId ?? undefined;
  }
  return chain;
}
