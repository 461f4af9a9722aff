import { RetryableError } from '../errors.js';
import type { BudgetParams, Store } from '../store/types.js';

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
/** Graph permits reserved per statement, and how long unused ones stay valid. */
export const LEASE_BLOCK = 100;
export const LEASE_VALID_MS = 1_000;
/** The refusal's code: the slot lay further away than the request may wait. */
export const BUDGET_WAIT_CODE = 'budgetWait';

export type BudgetStore = Pick<Store, 'reserveRate' | 'holdRate' | 'rateHold' | 'clearRateHolds'>;

export interface RateBudgetOptions {
  /** Jitter of computed holds (tests pass a seeded one). */
  random?: () => number;
  /** Bounds of the hold computed after a 429 without Retry-After (default COMPUTED_HOLD). */
  computedHold?: { baseMs: number; maxMs: number };
}

export interface BudgetLimits {
  /** The longest a request may wait for its slot; beyond it, it is refused without reserving. */
  maxBudgetWaitMs: number;
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

/**
 * One process's handle on a fleet-wide rate budget (docs/rate-budget.md): every request reserves a
 * slot in the store's row `name`, sleeps until it outside any transaction, and a 429 holds every
 * process back through the same row.
 */
export class RateBudget {
  constructor(
    readonly store: BudgetStore,
    readonly name: string,
    readonly params: BudgetParams,
    readonly options: RateBudgetOptions = {},
  ) {}

  /** Waits for a slot (at most `maxWaitMs`, else throws the refusal without reserving). */
  async acquire(_signal: AbortSignal | undefined, _maxWaitMs: number): Promise<Permit> {
    throw new Error('not yet');
  }

  /** What the request sent under `permit` was answered: a 429 holds the budget fleet-wide; the first
   * success after a hold ends the holds in a row. */
  async answered(_res: Response, _permit: Permit): Promise<void> {
    throw new Error('not yet');
  }

  /** `fetch` through the budget: at most MAX_WAITING_RESERVATIONS reservations waiting at once. */
  wrap(_fetch: typeof globalThis.fetch, _limits: BudgetLimits): typeof globalThis.fetch {
    throw new Error('not yet');
  }

  /** Permits in blocks of `n` (Graph): one statement per block; unused ones expire after LEASE_VALID_MS. */
  lease(_n: number = LEASE_BLOCK): PermitLease {
    throw new Error('not yet');
  }
}
