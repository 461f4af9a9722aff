/**
 * The fleet benchmark's arithmetic, pure: sliding-window peaks of arrival times, the time the budget
 * alone forces, percentiles, Prometheus text sums, and what a drive holds against what it should.
 */
import type { RateWindow } from '../src/budget/limits.js';

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
