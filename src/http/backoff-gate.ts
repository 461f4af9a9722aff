import { setImmediate as nextTurn, setTimeout as delay } from 'node:timers/promises';
import { BUDGET_WAIT_CODE } from '../budget/rate-budget.js';
import { RetryableError } from '../errors.js';
import { backoffDelay, parseRetryAfter } from './retry.js';

/** Statuses with which a service asks the caller (not just the one request) to slow down. */
const THROTTLING = new Set([429, 503]);

/**
 * Whether `error` says "slow down" rather than "this request failed": a 429/503 answer, or the gate
 * refusing to send inside a long window. Waiting behind a drive-wide window is no fault of the
 * receipt being sent, so it must not count as one of its attempts.
 */
export function isThrottling(error: unknown): error is RetryableError {
  return error instanceof RetryableError && error.status !== undefined && THROTTLING.has(error.status);
}

/** The shortest window: a Retry-After of 0 (or a few ms) would otherwise send the retries back to back. */
const MIN_WINDOW_MS = 250;

/** The code of the gate's refusal to send inside a long window: the request was never sent. */
const REFUSED = 'backoffWindow';

/** Whether `error` is a refusal to send, not an answer to the request: the gate's (a wait behind a
 * window) or the rate budget's (no slot within the wait the request may spend). */
export function isGateRefusal(error: unknown): boolean {
  return isThrottling(error) && (error.code === REFUSED || error.code === BUDGET_WAIT_CODE);
}

export interface BackoffGateOptions {
  /** The first window after a 429/503 without Retry-After; each further one in a row doubles it. */
  baseDelayMs?: number;
  /** The longest such window. */
  maxDelayMs?: number;
  /** Jitter source (tests). */
  random?: () => number;
}

/**
 * One pause shared by every request made for one account of a service (a user's drive): when any
 * answer is 429/503, nothing more is sent until a window has passed: the Retry-After's, or without
 * one a window of our own, exponential with jitter (`backoffDelay`), growing with each throttled
 * answer in a row and starting over after an answer that is not throttled. "In a row" is counted in
 * windows, not answers: each request notes how many windows had opened when it was sent, so the
 * 429s to a burst sent together open one window, and only an answer to a request sent after the
 * last window (a 429, or a success) says whether that window was enough. Requests
 * already under way finish; new ones, and retries, wait. Retrying only the throttled request while
 * the others carry on keeps the account throttled (Microsoft counts throttled requests too), hence
 * one gate per account, as rclone's pacer does.
 *
 * A window longer than the caller is willing to wait in process (`maxWaitMs`, the client's
 * maxRetryAfterMs) is not waited out: the request fails at once with the same RetryableError the
 * throttled request got, so the activity ends and Temporal retries it after the window.
 */
export class BackoffGate {
  private until = 0;
  /** Throttled answers in a row without Retry-After: the next computed window's exponent. */
  private throttledInRow = 0;
  /** Windows opened so far: a request sent when this was n answers for the time after window n. */
  private windows = 0;
  private readonly baseDelayMs: number;
  private readonly maxDelayMs: number;
  private readonly random: () => number;
  /** Requests sent through `wrap` and not yet answered, and when the last one started or ended:
   * whether the gate is in use (gatesByKey drops idle ones). */
  private inFlight = 0;
  private lastActive: number;

  /** `now`: a monotonic clock with sub-millisecond precision. Date.now() would do, but its whole
   * milliseconds can end a window up to 1 ms before the server's. */
  constructor(
    private readonly now: () => number = () => performance.now(),
    opts: BackoffGateOptions = {},
  ) {
    this.baseDelayMs = opts.baseDelayMs ?? 1_000;
    this.maxDelayMs = opts.maxDelayMs ?? 60_000;
    this.random = opts.random ?? Math.random;
    this.lastActive = now();
  }

  /** Whether the gate is open, nothing is in flight, and nothing passed it for `idleMs`: dropping it
   * then forgets nothing a request still needs. */
  idleFor(idleMs: number): boolean {
    return this.inFlight === 0 && this.remaining() === 0 && this.now() - this.lastActive >= idleMs;
  }

  /** Closes the gate for `ms` from now; a longer window already announced is kept. */
  hold(ms: number): void {
    this.until = Math.max(this.until, this.now() + ms);
  }

  /** Milliseconds until the gate opens (0 when open). */
  remaining(): number {
    return Math.max(0, this.until - this.now());
  }

  /** Resolves when the gate is open, with the milliseconds waited for a window (0 when it was open).
   * Re-checks after waking: timers may fire a little early, and the window may have been extended
   * meanwhile. A window longer than `maxWaitMs` is refused at once. */
  async pass(signal?: AbortSignal, maxWaitMs = Number.POSITIVE_INFINITY): Promise<number> {
    let waited = 0;
    for (;;) {
      // Let the answers already received in this turn of the event loop be read first: a 429 that
      // came in alongside whatever led to this request (another answer, the end of a wait) then
      // closes the gate before the request is sent.
      await nextTurn(undefined, { signal });
      const wait = this.remaining();
      if (wait <= 0) return waited;
      if (wait > maxWaitMs) {
        throw new RetryableError(`throttled: no request before ${Math.ceil(wait / 1000)} s (Retry-After)`, { status: 429, retryAfterMs: wait, code: REFUSED });
      }
      const from = this.now();
      await delay(wait, undefined, { signal });
      waited += this.now() - from;
    }
  }

  /** Closes the gate after a throttling answer to a request sent after the last window opened (one
   * sent earlier is of the same burst: its Retry-After may only lengthen the window); a success to
   * such a request resets the computed back-off. */
  private answered(res: Response, sentAfterWindow: number): void {
    const fresh = sentAfterWindow === this.windows;
    if (!THROTTLING.has(res.status)) {
      if (fresh && res.status < 500) this.throttledInRow = 0;
      return;
    }
    const hinted = parseRetryAfter(res.headers.get('retry-after'));
    if (!fresh) {
      if (hinted !== undefined) this.hold(Math.max(MIN_WINDOW_MS, hinted));
      return;
    }
    this.windows += 1;
    const computed = () => backoffDelay(++this.throttledInRow, this.baseDelayMs, this.maxDelayMs, this.random);
    this.hold(Math.max(MIN_WINDOW_MS, hinted ?? computed()));
  }

  /** `fetchImpl` behind this gate: every request passes it first, and a throttling answer closes it.
   * `onWaited`: the time a request was held back by a window, when it was (metrics). */
  wrap(fetchImpl: typeof fetch, maxWaitMs?: number, onWaited?: (ms: number) => void): typeof fetch {
    return async (input, init) => {
      const waited = await this.pass(init?.signal ?? undefined, maxWaitMs);
      if (waited > 0) onWaited?.(waited);
      const sentAfterWindow = this.windows;
      this.inFlight += 1;
      this.lastActive = this.now();
      try {
        const res = await fetchImpl(input, init);
        this.answered(res, sentAfterWindow);
        return res;
      } finally {
        this.inFlight -= 1;
        this.lastActive = this.now();
      }
    };
  }
}

/** How long a drive's gate may sit open and unused before gatesByKey forgets it: a worker serves
 * many integrations over a day, and each keeps its gate only while it syncs. */
export const GATE_IDLE_MS = 600_000;

/** One gate per key (an integration, i.e. one drive), created on first use, for the process. A gate
 * open, asked for by no one and passed by no request for `idleMs` is dropped (swept on lookup, at
 * most once per tenth of `idleMs`), so the map holds the drives that sync now, not every drive the
 * worker ever served; after that long its back-off has nothing left worth remembering. */
export function gatesByKey(idleMs = GATE_IDLE_MS, now: () => number = () => performance.now()): (key: string) => BackoffGate {
  const gates = new Map<string, { gate: BackoffGate; askedAt: number }>();
  let swept = now();
  return (key) => {
    const at = now();
    if (at - swept >= idleMs / 10) {
      swept = at;
      for (const [k, entry] of gates) if (at - entry.askedAt >= idleMs && entry.gate.idleFor(idleMs)) gates.delete(k);
    }
    let entry = gates.get(key);
    if (!entry) gates.set(key, (entry = { gate: new BackoffGate(now), askedAt: at }));
    entry.askedAt = at;
    return entry.gate;
  };
}
