import { setTimeout as delay } from 'node:timers/promises';
import { RetryableError } from '../errors.js';
import { parseRetryAfter } from '../http/retry.js';
import { logger } from '../logger.js';
import { observeBudgetHold, observeBudgetRefusal } from '../metrics/budget.js';
import { observeWait, type Service } from '../metrics/http.js';
import type { BudgetParams, Store } from '../store/types.js';
import { maxPermits } from './gcra.js';
import { Semaphore } from './semaphore.js';

/** What a request holds once its slot came: how long it waited for it, and the hold epoch it is sent
 * under (a 429 to it is the same burst as every other 429 sent under that epoch). */
export interface Permit {
  waitedMs: number;
  epoch: number;
}

/** Reservations one wrapped fetch keeps waiting at once; further requests queue in process, unreserved. */
export const MAX_WAITING_RESERVATIONS = 2;
/** A request whose reservation waited this long re-reads the hold epoch before it is sent. */
export const BUDGET_RECHECK_AFTER_MS = 100;
/** The hold after a 429 without Retry-After: exponential in the holds in a row, capped (Qonto's
 * windows are 10 s and 10 min). */
export const COMPUTED_HOLD = { baseMs: 10_000, maxMs: 600_000 } as const;
/** Graph permits reserved per statement. */
export const LEASE_BLOCK = 100;
/** How long a block's permits stay valid after its slot: half the budget's 1 s slack. The slot is
 * known here only as "now + wait" read after the reservation's commit came back, so it lags the
 * database's slot by that round trip, and a permit's request still has to reach Graph: the other
 * half of the slack covers both. */
export const LEASE_VALID_MS = 500;
/** The refusal's code: the slot lay further away than the request may wait. */
export const BUDGET_WAIT_CODE = 'budgetWait';

export type BudgetStore = Pick<Store, 'reserveRate' | 'holdRate' | 'rateHold' | 'clearRateHolds'>;

/** A hold this process wrote after a 429. */
export interface BudgetHold {
  holdMs: number;
  epoch: number;
  source: 'retry_after' | 'computed';
}

export interface RateBudgetOptions {
  /** Bounds of the hold computed after a 429 without Retry-After (default COMPUTED_HOLD). */
  computedHold?: { baseMs: number; maxMs: number };
  /** Told of every hold this process writes (besides the log line and the metric). */
  onHold?: (hold: BudgetHold) => void;
  /** Waits `ms` (tests pass their own). */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  /** A monotonic clock in ms, for waited times and lease expiry (tests pass their own). */
  now?: () => number;
}

export interface BudgetLimits {
  /** The longest a request may wait for its slot; beyond it, it is refused without reserving. Finite. */
  maxBudgetWaitMs: number;
}

/** The cap of a client given none: the longest an activity may wait (a heartbeating one's). */
export const DEFAULT_MAX_BUDGET_WAIT_MS = 20 * 60_000;

/** A cap that is not a finite number would let requests through unmetered or wait for ever. */
function finiteCap(maxWaitMs: number): number {
  if (!Number.isFinite(maxWaitMs) || maxWaitMs < 0) throw new TypeError(`a rate budget wait cap must be a finite number of ms (got ${maxWaitMs})`);
  return maxWaitMs;
}

/** The refusal: the request was not sent, and nothing was reserved. Retry after `retryAfterMs`. */
export function budgetRefusal(name: string, retryAfterMs: number): RetryableError {
  return new RetryableError(`The ${name} rate budget has no slot within the wait this request may spend`, {
    status: 429,
    code: BUDGET_WAIT_CODE,
    retryAfterMs,
  });
}

export function isBudgetRefusal(error: unknown): error is RetryableError {
  return error instanceof RetryableError && error.code === BUDGET_WAIT_CODE;
}

/** Permits of a Graph budget taken from blocks leased ahead (one statement per block). */
export interface PermitLease {
  /** One permit: from the current block, or a new block reserved now. */
  take(signal: AbortSignal | undefined, maxWaitMs: number): Promise<Permit>;
  /** `fetch`, taking one permit before every request. */
  wrap(fetch: typeof globalThis.fetch, limits: BudgetLimits): typeof globalThis.fetch;
}

/** A lease's block: granted, to be valid from `readyAt` (this process's clock), or refused. */
type BlockReservation = { readyAt: number; waitMs: number; epoch: number } | { retryInMs: number };

/** `promise`, or the signal's reason once it aborts (the promise itself runs on). */
function untilAborted<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (signal === undefined) return promise;
  signal.throwIfAborted();
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason as Error);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => (signal.removeEventListener('abort', onAbort), resolve(value)),
      (error: unknown) => (signal.removeEventListener('abort', onAbort), reject(error as Error)),
    );
  });
}

const signalOf = (input: Parameters<typeof fetch>[0], init: RequestInit | undefined): AbortSignal | undefined =>
  init?.signal ?? (input instanceof Request ? input.signal : undefined);

/**
 * One process's handle on a fleet-wide rate budget (docs/rate-budget.md): every request reserves a
 * slot in the store's row `name`, sleeps until it outside any transaction, and a 429 holds every
 * process back through the same row.
 */
export class RateBudget {
  /** Store calls this budget made, each one transaction or one statement (the fleet benchmark
   * reports them per request). */
  statements = 0;
  /** The last hold epoch whose holds in a row this process cleared on a success. */
  private clearedEpoch = 0;
  private readonly sleep: (ms: number, signal?: AbortSignal) => Promise<void>;
  private readonly now: () => number;

  constructor(
    readonly store: BudgetStore,
    readonly name: Service,
    readonly params: BudgetParams,
    readonly options: RateBudgetOptions = {},
  ) {
    this.sleep = options.sleep ?? ((ms, signal) => delay(ms, undefined, { signal }));
    this.now = options.now ?? (() => performance.now());
  }

  /**
   * Waits for a slot, at most `maxWaitMs`; beyond that it throws the refusal (budgetRefusal) without
   * reserving. A slot that slept BUDGET_RECHECK_AFTER_MS or longer may have been handed out before a
   * 429 held the fleet: when the hold epoch moved and the hold still runs, it reserves again (the old
   * slot is wasted capacity, never extra traffic).
   */
  async acquire(signal: AbortSignal | undefined, maxWaitMs: number): Promise<Permit> {
    finiteCap(maxWaitMs);
    const started = this.now();
    for (;;) {
      signal?.throwIfAborted();
      const left = Math.max(0, maxWaitMs - (this.now() - started));
      this.statements++;
      const r = await this.store.reserveRate(this.name, 1, this.params, left);
      if (!r.granted) {
        observeBudgetRefusal(this.name);
        throw budgetRefusal(this.name, r.retryInMs);
      }
      if (r.waitMs > 0) {
        await this.sleep(r.waitMs, signal);
        observeWait(this.name, 'budget', r.waitMs);
      }
      if (r.waitMs < BUDGET_RECHECK_AFTER_MS) return { waitedMs: this.now() - started, epoch: r.epoch };
      this.statements++;
      const current = await this.store.rateHold(this.name);
      if (current.epoch === r.epoch || current.remainingMs <= 0) return { waitedMs: this.now() - started, epoch: current.epoch };
    }
  }

  /**
   * The request sent under `permit` was answered. A 429 holds the budget fleet-wide for its
   * Retry-After, or a computed wait; the first success after a hold (per epoch, per process) ends the
   * holds in a row. Hands back the hold it wrote, if any.
   */
  async answered(res: Response, permit: Permit): Promise<BudgetHold | null> {
    if (res.status === 429) {
      const parsed = parseRetryAfter(res.headers.get('retry-after'));
      // 400 digits parse to Infinity: no usable Retry-After, the computed hold (the store clamps the rest).
      const retryAfterMs = parsed !== undefined && Number.isFinite(parsed) ? parsed : undefined;
      this.statements++;
      const { holdMs, epoch } = await this.store.holdRate(this.name, retryAfterMs ?? null, permit.epoch, this.options.computedHold ?? COMPUTED_HOLD);
      const hold: BudgetHold = { holdMs, epoch, source: retryAfterMs === undefined ? 'computed' : 'retry_after' };
      observeBudgetHold(this.name, hold.source);
      logger.warn({ service: this.name, ...hold }, `${this.name} answered 429: every process holds back its requests`);
      this.options.onHold?.(hold);
      return hold;
    }
    if (res.ok && permit.epoch > this.clearedEpoch) {
      this.statements++;
      await this.store.clearRateHolds(this.name, permit.epoch);
      // Only once it is done: a failed clear is tried again on the next success.
      this.clearedEpoch = Math.max(this.clearedEpoch, permit.epoch);
    }
    return null;
  }

  /** `fetch` through the budget: at most MAX_WAITING_RESERVATIONS reservations waiting at once; the
   * time in that line counts against `maxBudgetWaitMs` too. */
  wrap(fetch: typeof globalThis.fetch, limits: BudgetLimits): typeof globalThis.fetch {
    finiteCap(limits.maxBudgetWaitMs);
    const waiting = new Semaphore(MAX_WAITING_RESERVATIONS);
    return async (input, init) => {
      const signal = signalOf(input, init);
      const started = this.now();
      // The line for a place counts against the cap: past it, refused without reserving.
      const release = await waiting.take(signal, limits.maxBudgetWaitMs);
      if (release === null) {
        observeBudgetRefusal(this.name);
        throw budgetRefusal(this.name, limits.maxBudgetWaitMs);
      }
      let permit: Permit;
      try {
        const queued = this.now() - started;
        observeWait(this.name, 'budget', queued);
        permit = await this.acquire(signal, Math.max(0, limits.maxBudgetWaitMs - queued));
      } finally {
        release();
      }
      const res = await fetch(input, init);
      await this.answered(res, permit).catch((error: unknown) =>
        // The answer stands; the process's own back-off gate still reacts to a 429.
        logger.warn({ err: error, service: this.name, status: res.status }, 'The rate budget could not record an answer'),
      );
      return res;
    };
  }

  /**
   * Permits in blocks of `blockSize` (Graph, whose budget is large): one reservation per block. A block is
   * valid LEASE_VALID_MS from its slot, then its unused permits expire: that wastes capacity and never
   * exceeds it, since the budget's slack allows a request to arrive that long after its slot.
   */
  lease(blockSize: number = LEASE_BLOCK): PermitLease {
    // A small budget's burst may be smaller than a block: a block never exceeds it.
    const n = Math.max(1, Math.min(blockSize, maxPermits(this.params)));
    let block: { left: number; validUntil: number; epoch: number } | null = null;
    /** The block being reserved, shared by every caller that needs one meanwhile. Each caller waits
     * for it under its own cap and signal; the sleep until its slot answers to no caller's signal,
     * only to `stop`, aborted when every caller waiting for it has left. */
    interface Pending {
      capMs: number;
      reserved: Promise<BlockReservation>;
      ready: Promise<void>;
      waiters: number;
      stop: AbortController;
    }
    let pending: Pending | null = null;
    const reserveBlock = (capMs: number): Pending => {
      const stop = new AbortController();
      const reserved = (async (): Promise<BlockReservation> => {
        this.statements++;
        const r = await this.store.reserveRate(this.name, n, this.params, capMs);
        return r.granted ? { readyAt: this.now() + r.waitMs, waitMs: r.waitMs, epoch: r.epoch } : { retryInMs: r.retryInMs };
      })();
      const ready = reserved.then(async (r) => {
        if (!('readyAt' in r)) return;
        if (r.waitMs > 0) {
          await this.sleep(r.waitMs, stop.signal);
          observeWait(this.name, 'budget', r.waitMs);
        }
        // From the slot, not from the wake: a late timer must not stretch the block.
        block = { left: n, validUntil: r.readyAt + LEASE_VALID_MS, epoch: r.epoch };
      });
      const p: Pending = { capMs, reserved, ready, waiters: 0, stop };
      // Settled either way (a caller may have left): the next caller reserves anew.
      const done = () => {
        if (pending === p) pending = null;
      };
      ready.then(done, done);
      return p;
    };
    const take = async (signal: AbortSignal | undefined, maxWaitMs: number): Promise<Permit> => {
      finiteCap(maxWaitMs);
      const started = this.now();
      for (;;) {
        signal?.throwIfAborted();
        if (block !== null && block.left > 0 && this.now() < block.validUntil) {
          block.left--;
          return { waitedMs: this.now() - started, epoch: block.epoch };
        }
        const left = Math.max(0, maxWaitMs - (this.now() - started));
        const p = pending ?? (pending = reserveBlock(left));
        p.waiters++;
        try {
          const r = await untilAborted(p.reserved, signal);
          if ('retryInMs' in r) {
            // Refused under a shorter cap than ours: reserve again under our own.
            if (p.capMs < left) continue;
            observeBudgetRefusal(this.name);
            throw budgetRefusal(this.name, r.retryInMs);
          }
          const readyInMs = r.readyAt - this.now();
          if (readyInMs > left) {
            observeBudgetRefusal(this.name);
            throw budgetRefusal(this.name, readyInMs);
          }
          await untilAborted(p.ready, signal).catch((error: unknown) => {
            // The sleep was stopped (every earlier caller left): only our own abort ends our wait.
            if (!p.stop.signal.aborted || signal?.aborted) throw error;
          });
        } finally {
          if (--p.waiters === 0) p.stop.abort();
        }
      }
    };
    return {
      take,
      wrap: (fetch, limits) => {
        finiteCap(limits.maxBudgetWaitMs);
        return async (input, init) => {
          await take(signalOf(input, init), limits.maxBudgetWaitMs);
          return fetch(input, init);
        };
      },
    };
  }
}
