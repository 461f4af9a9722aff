import { backoffDelay } from '../http/retry.js';
import type { BudgetParams } from '../store/types.js';

/**
 * The generic cell rate algorithm as reservations, over several windows at once (docs/rate-budget.md).
 * Pure: the store runs it inside one transaction on the row, with the database's clock.
 *
 * Each window has an emission interval `T = (W + slack) / (L − B − 1)` and a burst `B`: a request may
 * start once `now ≥ tat − B·T`, and each moves the theoretical arrival time `tat` on by `T`. Any span of
 * `W + slack` then holds at most `B + 1 + (W + slack)/T = L` starts, so any `W` of arrivals does too
 * when a request reaches the service less than `slack` after its slot.
 */
export interface BudgetState {
  /** Theoretical arrival time per window, in `params.windows` order (ms, the database's clock). */
  tatMs: number[];
  holdUntilMs: number;
  holdEpoch: number;
  holdsInRow: number;
}

export const DEFAULT_SLACK_MS = 1_000;

export const EMPTY_STATE: BudgetState = { tatMs: [], holdUntilMs: 0, holdEpoch: 0, holdsInRow: 0 };

interface Window {
  windowMs: number;
  limit: number;
  burst: number;
  /** Emission interval T. */
  intervalMs: number;
  /** Burst tolerance B·T. */
  toleranceMs: number;
}

/** A window's default burst: a tenth of a short window, a thirtieth of a long one (above 10 s). */
function defaultBurst(windowMs: number, limit: number): number {
  return Math.floor(limit / (windowMs <= 10_000 ? 10 : 30));
}

function windowsOf(params: BudgetParams): Window[] {
  const slackMs = params.slackMs ?? DEFAULT_SLACK_MS;
  return params.windows.map(({ windowMs, limit }, i) => {
    const burst = Math.max(0, Math.min(params.burst?.[i] ?? defaultBurst(windowMs, limit), limit - 2));
    if (limit - burst - 1 < 1) throw new Error(`a rate window needs a limit of at least 2 requests (got ${limit})`);
    const intervalMs = (windowMs + slackMs) / (limit - burst - 1);
    return { windowMs, limit, burst, intervalMs, toleranceMs: burst * intervalMs };
  });
}

/** Emission interval of each window (the steady spacing of slots), in `params.windows` order. */
export function emissionIntervals(params: BudgetParams): number[] {
  return windowsOf(params).map((w) => w.intervalMs);
}

/** Burst B of each window (requests an idle budget lets through at once, beyond the first), in `params.windows` order. */
export function bursts(params: BudgetParams): number[] {
  return windowsOf(params).map((w) => w.burst);
}

/** The most permits one reservation may take at once: a block must fit every window's burst. */
export function maxPermits(params: BudgetParams): number {
  return Math.min(...windowsOf(params).map((w) => w.burst + 1));
}

/** A state read from a row written with other windows (a changed setting) starts those windows afresh. */
function tats(state: BudgetState, count: number): number[] {
  return Array.from({ length: count }, (_, i) => state.tatMs[i] ?? 0);
}

export type Reservation = { state: BudgetState; startAt: number } | { retryAt: number };

/**
 * Reserves `permits` slots starting together at `startAt` (a Graph lease takes a block), at the
 * earliest every window and the hold allow. Beyond `maxWaitMs` from `nowMs` nothing changes and the
 * slot it would have had is `retryAt`.
 */
export function reserve(state: BudgetState, nowMs: number, permits: number, params: BudgetParams, maxWaitMs: number): Reservation {
  const windows = windowsOf(params);
  // After a hold every window restarts at its steady rate, burst spent: as if its arrival time had
  // been moved to `holdUntil + B·T` when the hold was written (done here, where T is known).
  const tat = tats(state, windows.length).map((t, i) => (state.holdUntilMs > 0 ? Math.max(t, state.holdUntilMs + windows[i]!.toleranceMs) : t));
  let startAt = Math.max(nowMs, state.holdUntilMs);
  windows.forEach((w, i) => {
    if (permits - 1 > w.burst) throw new Error(`${permits} permits at once exceed the burst of ${w.burst} of a ${w.windowMs} ms window`);
    // n permits at one instant conform when the last of them does: tat + (n − 1)·T − B·T ≤ t.
    startAt = Math.max(startAt, tat[i]! + (permits - 1) * w.intervalMs - w.toleranceMs);
  });
  // Written so NaN (a bad cap, a corrupt state) refuses instead of granting.
  if (!(startAt - nowMs <= maxWaitMs)) return { retryAt: startAt };
  return {
    startAt,
    state: { ...state, tatMs: windows.map((w, i) => Math.max(tat[i]!, startAt) + permits * w.intervalMs) },
  };
}

/** The shortest hold a Retry-After gives: `Retry-After: 0` after a 429 still pauses the fleet. */
export const MIN_RETRY_AFTER_HOLD_MS = 250;

/**
 * A 429 to a request sent under `sentEpoch`: no slot starts before `nowMs + wait`. The wait is the
 * Retry-After (`waitMs`) clamped to [MIN_RETRY_AFTER_HOLD_MS, computed.maxMs], so a Retry-After of a
 * day cannot hold the fleet for a day (a non-finite one counts as absent), or computed from the holds in a row with jitter. A 429 to a request sent
 * before the last hold (`sentEpoch < holdEpoch`) is the same burst: it may lengthen the hold, and is
 * not another hold in a row. The epoch moves whenever the hold does, so sleeping reservations see it.
 * The budget restarts after it at its steady rate, burst spent (reserve() applies that).
 */
export function hold(
  state: BudgetState,
  nowMs: number,
  waitMs: number | null,
  sentEpoch: number,
  computed: { baseMs: number; maxMs: number },
  random: () => number = Math.random,
): { state: BudgetState; holdMs: number } {
  const fresh = sentEpoch >= state.holdEpoch;
  const holdsInRow = fresh ? state.holdsInRow + 1 : Math.max(1, state.holdsInRow);
  const wait =
    waitMs !== null && Number.isFinite(waitMs)
      ? Math.min(Math.max(waitMs, MIN_RETRY_AFTER_HOLD_MS), computed.maxMs)
      : backoffDelay(holdsInRow, computed.baseMs, computed.maxMs, random);
  const holdUntilMs = Math.max(state.holdUntilMs, nowMs + wait);
  const moved = holdUntilMs > state.holdUntilMs;
  return {
    holdMs: Math.max(0, holdUntilMs - nowMs),
    state: {
      ...state,
      holdUntilMs,
      holdEpoch: fresh || moved ? state.holdEpoch + 1 : state.holdEpoch,
      holdsInRow: fresh ? holdsInRow : state.holdsInRow,
    },
  };
}
