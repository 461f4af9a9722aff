import { describe, expect, it } from 'vitest';
import {
  boundSeconds,
  burstAdjustedBoundSeconds,
  driveTally,
  dueTime,
  metricSum,
  peakInWindow,
  peaksBetween,
  percentile,
  phaseLine,
  runFailures,
  waveExecution,
} from '../../bench/fleet-measure.js';
import { estimatedBackfillRequests, type FleetTenant } from '../../bench/fleet-seed.js';
import { bursts, emissionIntervals } from '../../src/budget/gcra.js';

describe('fleet benchmark arithmetic', () => {
  it('finds the most arrivals in any sliding window, the window open at its end', () => {
    expect(peakInWindow([], 10_000)).toBe(0);
    // 0, 9,999 fall in one 10 s window; 10,000 starts the next one after 0.
    expect(peakInWindow([0, 9_999, 10_000], 10_000)).toBe(2);
    expect(peakInWindow([0, 1, 2, 20_000, 20_001, 25_000, 29_999], 10_000)).toBe(4);
  });

  it('takes the slower of the budget windows as the bound', () => {
    const budget = [
      { windowMs: 10_000, limit: 270 },
      { windowMs: 600_000, limit: 2_700 },
    ];
    expect(boundSeconds(2_700, budget)).toBe(600);
    expect(boundSeconds(0, budget)).toBe(0);
    expect(boundSeconds(270, [{ windowMs: 10_000, limit: 27 }])).toBe(100);
  });

  it('takes nearest-rank percentiles', () => {
    expect(percentile([3, 1, 2], 50)).toBe(2);
    expect(percentile(Array.from({ length: 100 }, (_, i) => i + 1), 99)).toBe(99);
    expect(percentile([], 50)).toBeNaN();
  });

  it('sums a metric over its label sets, not over metrics sharing its prefix', () => {
    const text = ['# HELP x', 'x_total{service="qonto"} 2', 'x_total{service="graph"} 3', 'x_total_other 7', 'x_total 1'].join('\n');
    expect(metricSum(text, 'x_total')).toBe(6);
    expect(metricSum(text, 'absent')).toBe(0);
  });

  it('counts receipts missing from the drive and files beyond one per receipt', () => {
    const entries = new Map([
      ['a', { state: 'uploaded', driveItemId: 'f1' }],
      ['b', { state: 'uploaded', driveItemId: 'gone' }],
      ['c', { state: 'pending', driveItemId: null }],
    ]);
    expect(driveTally(['a', 'b', 'c', 'd'], entries, ['f1', 'f2'])).toEqual({ lost: 3, duplicated: 1 });
    expect(driveTally(['a'], entries, ['f1'])).toEqual({ lost: 0, duplicated: 0 });
  });

  it('gives the time the GCRA needs from idle: the burst at once, then one request per emission interval of the binding window', () => {
    const params = {
      windows: [
        { windowMs: 10_000, limit: 270 },
        { windowMs: 600_000, limit: 2_700 },
      ],
    };
    // B = 27 and 90; T = 11 s / 242 and 601 s / 2,609 (the 10 min window binds).
    expect(bursts(params)).toEqual([27, 90]);
    const [, long] = emissionIntervals(params);
    expect(burstAdjustedBoundSeconds(871, params)).toBeCloseTo(((871 - 91) * long!) / 1000, 9);
    expect(burstAdjustedBoundSeconds(871, params)).toBeCloseTo(179.68, 2);
    // Within both bursts nothing waits; past the 10 s burst that window binds for a while.
    expect(burstAdjustedBoundSeconds(28, params)).toBe(0);
    expect(burstAdjustedBoundSeconds(91, params)).toBeCloseTo((63 * 11) / 242, 9);
    expect(burstAdjustedBoundSeconds(0, params)).toBe(0);
    // A lone 10 s window: B = 2, T = 11 s / 27.
    expect(burstAdjustedBoundSeconds(30, { windows: [{ windowMs: 10_000, limit: 30 }] })).toBeCloseTo((27 * 11) / 27, 9);
  });

  it("picks the wave's execution by run id, not by object (each visibility poll builds new ones)", () => {
    const waveAt = 1_000;
    // The backfill's execution as a later poll lists it: equal fields, another object, closed after
    // the wave's time (a backfill that overran).
    const later = [
      { runId: 'backfill', closeMs: 1_500 },
      { runId: 'wave', closeMs: 2_000 },
    ];
    const backfill = { runId: 'backfill', closeMs: 1_500 };
    expect(waveExecution(later, backfill, waveAt)?.runId).toBe('wave');
    expect(waveExecution(later.slice(0, 1), backfill, waveAt)).toBeUndefined();
    // Executions closed before the wave's time (a retry of the backfill) are not the wave's.
    expect(waveExecution([{ runId: 'retry', closeMs: 900 }, ...later.slice(1)], backfill, waveAt)?.runId).toBe('wave');
  });

  it("takes a workflow's nextRunAt as its due time only after a completed backfill (otherwise it is a retry time)", () => {
    const daily = Date.parse('2026-12-07T17:00:30Z');
    expect(dueTime(daily, { outcome: 'completed', nextRunAt: '2026-12-07T17:00:31.000Z' })).toBe(Date.parse('2026-12-07T17:00:31Z'));
    expect(dueTime(daily, { outcome: 'failed', nextRunAt: '2026-12-07T16:40:00.000Z' })).toBe(daily);
    expect(dueTime(daily, { outcome: 'completed', nextRunAt: null })).toBe(daily);
    expect(dueTime(daily, null)).toBe(daily);
  });

  it('sees a window that spans the end of one phase and the start of the next', () => {
    // Backfill [0, 100 s], wave [100 s, 200 s]: 6 arrivals each side of 100 s within 10 s of each other.
    const arrivals = [0, 50_000, 95_000, 96_000, 97_000, 98_000, 99_000, 100_000, 101_000, 102_000, 103_000, 104_000, 150_000].map((t) => t);
    expect(peaksBetween(arrivals, 0, 99_999).per10s).toBe(5);
    expect(peaksBetween(arrivals, 100_000, 200_000).per10s).toBe(5);
    expect(peaksBetween(arrivals, 0, 200_000)).toEqual({ per10s: 10, per10min: 13 });
  });

  it('fails a run whose backfill did not complete everywhere, whose wave overlapped it, or whose wave did not finish', () => {
    const ok = { integrations: 3, backfillOutcomes: { completed: 3 }, waveOverlapsBackfill: false, waveCompleted: 3 };
    expect(runFailures(ok)).toEqual([]);
    expect(runFailures({ ...ok, backfillOutcomes: { completed: 1, failed: 1, none: 1 } })).toEqual(['2 backfill(s) not completed']);
    expect(runFailures({ ...ok, waveOverlapsBackfill: true, waveCompleted: 2 })).toEqual(['the wave overlaps the backfill', '1 integration(s) without a wave execution']);
    expect(runFailures({ ...ok, newReceiptsLate: true })).toEqual(['the new receipts went in after the first due time']);
  });

  it("prints a phase's key figures on one line", () => {
    const line = phaseLine('wave', { requests: 248, seconds: 106.85, boundSeconds: 55.11, ratio: 0.516, burstAdjustedRatio: 0.48, peakPer10s: 40, peakPer10min: 248, qonto429: 0 }, ', lateness p99 4.51 s');
    expect(line).toBe('wave: 248 requests in 106.85 s, bound 55.11 s, ratio 0.516 (burst-adjusted 0.48), peaks 40/10 s 248/10 min, 0 × 429, lateness p99 4.51 s');
    expect(line).not.toContain('\n');
  });
});

describe("the fleet benchmark's backfill estimate", () => {
  it('counts the organization, the membership the alerts learn their contact from, and one page per 100 transactions of each account', () => {
    const tenant = (transactionsPerAccount: number[]) => ({ transactionsPerAccount }) as unknown as FleetTenant;
    // 2 + 1 page; 2 + (1 + 2) pages, with no look-ups; then half a look-up per receipt (rounded up).
    expect(estimatedBackfillRequests([tenant([0]), tenant([20, 150])], 0)).toBe(3 + 5);
    expect(estimatedBackfillRequests([tenant([3])], 0.5)).toBe(3 + 2);
  });
});
