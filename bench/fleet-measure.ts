/**
 * The fleet benchmark's arithmetic, pure: sliding-window peaks of arrival times, the time the budget
 * alone forces, percentiles, Prometheus text sums, and what a drive holds against what it should.
 */
import { bursts, emissionIntervals } from '../src/budget/gcra.js';
import type { RateWindow } from '../src/budget/limits.js';
import type { BudgetParams } from '../src/store/types.js';

/** The most arrivals in any window `[t, t + windowMs)` (a sliding window, two pointers over sorted times). */
export function peakInWindow(sortedTimes: readonly number[], windowMs: number): number {
  let peak = 0;
  let from = 0;
  for (let to = 0; to < sortedTimes.length; to++) {
    while (sortedTimes[to]! - sortedTimes[from]! >= windowMs) from++;
    peak = Math.max(peak, to - from + 1);
  }
  return peak;
}

/** Seconds `requests` take when every window of the budget holds them back at its average rate. */
export function boundSeconds(requests: number, budget: readonly RateWindow[]): number {
  return Math.max(0, ...budget.map((w) => (requests * w.windowMs) / 1000 / w.limit));
}

/** Nearest-rank percentile; NaN for no values. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

/** The sum of every sample of `name` (all label sets) in Prometheus text; 0 when absent. */
export function metricSum(text: string, name: string): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    if (line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})?\s+(\S+)/.exec(line);
    if (m && m[1] === name) sum += Number(m[3]);
  }
  return sum;
}

/** Receipts missing from a drive, and files more than one per receipt. `files` are the drive's item ids
 * under the app folder (reports excluded); `entries` what the store says each expected receipt became. */
export function driveTally(
  expectedIds: readonly string[],
  entries: ReadonlyMap<string, { state: string; driveItemId: string | null } | undefined>,
  files: readonly string[],
): { lost: number; duplicated: number } {
  const present = new Set(files);
  const claimed = new Set<string>();
  let lost = 0;
  for (const id of expectedIds) {
    const e = entries.get(id);
    if (!e || e.state !== 'uploaded' || !e.driveItemId || !present.has(e.driveItemId)) lost++;
    else claimed.add(e.driveItemId);
  }
  // Every file no expected receipt claims is a second copy of one (the fleet's drives hold nothing else).
  return { lost, duplicated: files.length - claimed.size };
}

/** Seconds the budget's GCRA needs to let `requests` through starting idle: the first `B + 1` at once,
 * then one per emission interval `T`, `(requests − B − 1)·T` of the window that binds. */
export function burstAdjustedBoundSeconds(requests: number, params: BudgetParams): number {
  const intervals = emissionIntervals(params);
  const b = bursts(params);
  return Math.max(0, ...intervals.map((t, i) => (Math.max(0, requests - b[i]! - 1) * t) / 1000));
}

export interface ClosedExecution {
  runId: string;
  closeMs: number;
}

/** The execution that slept until the wave and ran it: the first one closed after the wave's time that
 * is not the backfill's (compared by run id: each visibility poll builds new objects). */
export function waveExecution<E extends ClosedExecution>(executions: readonly E[], backfill: ClosedExecution | undefined, waveAtMs: number): E | undefined {
  return executions.find((e) => e.runId !== backfill?.runId && e.closeMs >= waveAtMs);
}

/** The time a workflow's wave is due: its own `nextRunAt` after a completed backfill; after any other
 * outcome `nextRunAt` is a retry time, so the product's daily time (`dailyMs`) stands. */
export function dueTime(dailyMs: number, view: { outcome: string | undefined; nextRunAt: string | null | undefined } | null): number {
  if (view?.outcome !== 'completed' || !view.nextRunAt) return dailyMs;
  return Date.parse(view.nextRunAt);
}

/** Sliding-window peaks of sorted arrival times within `[fromMs, toMs]`. */
export function peaksBetween(sortedTimes: readonly number[], fromMs: number, toMs: number): { per10s: number; per10min: number } {
  const times = sortedTimes.filter((t) => t >= fromMs && t <= toMs);
  return { per10s: peakInWindow(times, 10_000), per10min: peakInWindow(times, 600_000) };
}

/** Why a run's figures cannot be trusted; empty when they can. */
export function runFailures(r: {
  integrations: number;
  backfillOutcomes: Readonly<Record<string, number>>;
  waveOverlapsBackfill: boolean;
  waveCompleted: number;
  /** The measured day's receipts went in after the first due time: runs before it miss them. */
  newReceiptsLate?: boolean;
}): string[] {
  const failures: string[] = [];
  const notCompleted = Object.entries(r.backfillOutcomes).filter(([outcome]) => outcome !== 'completed').reduce((n, [, count]) => n + count, 0);
  if (notCompleted > 0) failures.push(`${notCompleted} backfill(s) not completed`);
  if (r.waveOverlapsBackfill) failures.push('the wave overlaps the backfill');
  if (r.newReceiptsLate) failures.push('the new receipts went in after the first due time');
  if (r.waveCompleted < r.integrations) failures.push(`${r.integrations - r.waveCompleted} integration(s) without a wave execution`);
  return failures;
}

/** One line of a phase's key figures, for a reader of the log. */
export function phaseLine(
  name: string,
  p: { requests: number; seconds: number; boundSeconds: number; ratio: number; burstAdjustedRatio: number; peakPer10s: number; peakPer10min: number; qonto429: number },
  extra = '',
): string {
  return (
    `${name}: ${p.requests} requests in ${p.seconds} s, bound ${p.boundSeconds} s, ratio ${p.ratio} (burst-adjusted ${p.burstAdjustedRatio}), ` +
    `peaks ${p.peakPer10s}/10 s ${p.peakPer10min}/10 min, ${p.qonto429} × 429${extra}`
  );
}
