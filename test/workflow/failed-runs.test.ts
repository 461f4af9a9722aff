import { DefaultLogger, Runtime, type LogEntry } from '@temporalio/worker';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { FIRST_RETRY_DELAY_MS } from '../../src/sync/retry.js';
import { reconfigureSignal, syncNowSignal } from '../../workflows/messages.js';
import { driveMismatches, expectedReceipts } from '../support/expectations.js';
import { SYNC_FROM, Testbed, ZONE, sleepingAfter } from '../support/testbed.js';
import { handleOf } from '../support/workflow.js';

// Its own time-skipping server: the test moves the clock a day.
let bed: Testbed;
/** What the worker logs at WARN and above, workflow logs included. */
const warnings: LogEntry[] = [];
beforeAll(async () => {
  Runtime.install({ logger: new DefaultLogger('WARN', (entry) => warnings.push(entry)) });
  bed = await Testbed.create();
});
afterAll(() => bed?.close());
afterEach(async () => {
  bed.h.sims.graph.faults.clear();
  await bed.terminateStarted();
});

const DAY_MS = 24 * 60 * 60_000;

it('backs off after a reconfiguration that fails, instead of running it again and again, and completes it once the fault is gone', { timeout: 120_000 }, async () => {
  const t = await bed.start('failing-reconfigure');
  await t.run(async () => {
    await t.status(sleepingAfter(1), 'the backfill');
    const graph = bed.h.sims.graph;
    // Microsoft refuses every drive request: verifyDrive fails with a Fatal error before the reset.
    graph.faults.add({}, { kind: 'status', status: 403, code: 'accessDenied' }, Number.POSITIVE_INFINITY);
    await handleOf(bed.env.client, t.id).signal(reconfigureSignal, { syncFrom: SYNC_FROM });

    const failed = await t.status((v) => v.lastRun?.kind === 'reconfigure' && v.lastRun.outcome === 'failed', 'the failed reconfiguration');
    const waiting = await t.status((v) => v.phase.startsWith('sleeping'), 'the back-off');
    expect(waiting).toMatchObject({ status: 'failed', runNumber: 2 });
    expect(waiting.lastError).toMatch(/403/);
    // The status (and so the API and the dashboard) names the retry time: 5 minutes after the failure.
    expect(Date.parse(waiting.nextRunAt!) - Date.parse(failed.lastRun!.finishedAt)).toBe(FIRST_RETRY_DELAY_MS);
    expect(waiting.phase).toMatch(/retry after 1 failed run in a row/);
    // The log says how the run ended, not the message (which can name receipts and accounts).
    const ended = warnings.filter((e) => e.message === 'run ended early');
    expect(ended[0]?.meta).toMatchObject({ outcome: 'failed', failure: 'Fatal' });
    for (const e of ended) expect(JSON.stringify(e.meta)).not.toContain(waiting.lastError);

    // A simulated day of a fault that lasts. Back-off of 5 min doubling up to 6 h: retries 5, 15, 35,
    // 75, 155, 315, 635, 995 and 1355 minutes after the first failure (9, src/sync/retry.ts), plus at
    // most one daily run at 23:30 that comes sooner than a retry: at most 10 runs after the first.
    await bed.env.sleep(DAY_MS);
    const dayLater = await t.status((v) => v.phase.startsWith('sleeping') && v.runNumber > 2, 'the retries of a day');
    expect(dayLater.runNumber - waiting.runNumber).toBeGreaterThanOrEqual(8);
    expect(dayLater.runNumber - waiting.runNumber).toBeLessThanOrEqual(10);
    expect(dayLater).toMatchObject({ status: 'failed', lastRun: { kind: 'reconfigure', outcome: 'failed' } });

    // A user action does not wait for the back-off: "sync now" runs (the pending reconfiguration) at once.
    await handleOf(bed.env.client, t.id).signal(syncNowSignal);
    const asked = await t.status((v) => v.phase.startsWith('sleeping') && v.runNumber === dayLater.runNumber + 1, 'the run the user asked for');
    expect(asked.lastRun).toMatchObject({ kind: 'reconfigure', outcome: 'failed' });

    // The fault is gone: the next retry applies the reconfiguration, and the daily rhythm resumes.
    graph.faults.clear();
    await bed.skipToNextRun(asked);
    const done = await t.status((v) => v.phase.startsWith('sleeping') && v.runNumber === asked.runNumber + 1, 'the retry without the fault');
    expect(done).toMatchObject({ status: 'idle', lastError: null, lastRun: { kind: 'reconfigure', outcome: 'completed' } });
    expect(done.phase).toMatch(/23:30/);
    expect(await driveMismatches(graph.drive(t.user.id), bed.h.services.store, t.id, expectedReceipts(bed.h.sims.qonto.data, SYNC_FROM, ZONE))).toEqual([]);
  });
});

it('leaves a reconfiguration that ended on a full drive for the daily run, instead of starting it again at once', { timeout: 120_000 }, async () => {
  const t = await bed.start('full-drive-reconfigure');
  await t.run(async () => {
    await t.status(sleepingAfter(1), 'the backfill');
    const graph = bed.h.sims.graph;
    // The drive is full: the delta read of verifyDrive answers 507, before the reset.
    graph.faults.add({ path: 'delta' }, { kind: 'status', status: 507, code: 'quotaLimitReached' }, Number.POSITIVE_INFINITY);
    await handleOf(bed.env.client, t.id).signal(reconfigureSignal, { syncFrom: SYNC_FROM });

    const full = await t.status((v) => v.lastRun?.kind === 'reconfigure' && v.lastRun.outcome === 'quota_exceeded', 'the reconfiguration on a full drive');
    const waiting = await t.status((v) => v.phase.startsWith('sleeping'), 'the wait for the daily run');
    expect(waiting).toMatchObject({ status: 'quota_exceeded', runNumber: full.runNumber });
    expect(waiting.phase).toMatch(/23:30/);

    // A simulated day of a full drive: the pending reconfiguration is tried by the daily run only.
    await bed.env.sleep(DAY_MS);
    const dayLater = await t.status((v) => v.phase.startsWith('sleeping') && v.runNumber > waiting.runNumber, 'the daily run');
    expect(dayLater.runNumber - waiting.runNumber).toBe(1);
    expect(dayLater.lastRun).toMatchObject({ kind: 'reconfigure', outcome: 'quota_exceeded' });

    // Space again: the next daily run applies the reconfiguration.
    graph.faults.clear();
    await bed.skipToNextRun(dayLater);
    const done = await t.status((v) => v.phase.startsWith('sleeping') && v.runNumber === dayLater.runNumber + 1, 'the run with room');
    expect(done).toMatchObject({ status: 'idle', lastRun: { kind: 'reconfigure', outcome: 'completed' } });
  });
});
