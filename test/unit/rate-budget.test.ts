import { describe, expect, it, vi } from 'vitest';
import { RetryableError } from '../../src/errors.js';
import {
  COMPUTED_HOLD,
  MAX_WAITING_RESERVATIONS,
  RateBudget,
  isBudgetRefusal,
  type BudgetStore,
} from '../../src/budget/rate-budget.js';
import { registry } from '../../src/metrics/registry.js';
import type { BudgetParams, RateReservation } from '../../src/store/types.js';

const PARAMS: BudgetParams = { windows: [{ windowMs: 10_000, limit: 800 }, { windowMs: 600_000, limit: 8_000 }] };

/** A store whose answers the test scripts; it records every call. */
function fakeStore(reservations: RateReservation[], initial = { epoch: 0, remainingMs: 0 }) {
  const current = { hold: initial };
  const calls = {
    reserveRate: vi.fn(async (_name: string, _permits: number, _params: BudgetParams, _maxWaitMs: number): Promise<RateReservation> => {
      const next = reservations.shift();
      if (next === undefined) throw new Error('no reservation scripted');
      return next;
    }),
    holdRate: vi.fn(async (_name: string, _waitMs: number | null, _sentEpoch: number, _computed: { baseMs: number; maxMs: number }) => ({
      holdMs: 3_000,
      epoch: current.hold.epoch + 1,
    })),
    rateHold: vi.fn(async (_name: string) => current.hold),
    clearRateHolds: vi.fn(async (_name: string, _epoch: number) => {}),
  } satisfies BudgetStore;
  return Object.assign(calls, { current });
}

/** A sleep that advances a fake clock, and can run something while "asleep" (another process's 429). */
function fakeTime(during: (ms: number) => void = () => {}) {
  let clock = 0;
  const sleeps: number[] = [];
  return {
    sleeps,
    now: () => clock,
    advance: (ms: number) => (clock += ms),
    sleep: async (ms: number) => {
      sleeps.push(ms);
      during(ms);
      clock += ms;
    },
  };
}

const granted = (waitMs: number, epoch = 0): RateReservation => ({ granted: true, waitMs, epoch });

describe('RateBudget.acquire', () => {
  it('sleeps until its slot, outside the store, and sends at once when the epoch did not move', async () => {
    const store = fakeStore([granted(2_000)]);
    const time = fakeTime();
    const budget = new RateBudget(store, 'qonto', PARAMS, time);
    expect(await budget.acquire(undefined, 40_000)).toEqual({ waitedMs: 2_000, epoch: 0 });
    expect(time.sleeps).toEqual([2_000]);
    expect(store.reserveRate).toHaveBeenCalledTimes(1);
    expect(store.reserveRate).toHaveBeenCalledWith('qonto', 1, PARAMS, 40_000);
    expect(store.rateHold).toHaveBeenCalledTimes(1);
  });

  it('a reservation sleeping 2 s sees the hold another process wrote meanwhile, and reserves again', async () => {
    const store = fakeStore([granted(2_000), granted(3_000, 1)]);
    // While it sleeps, a 429 elsewhere holds the fleet: epoch 1, 3 s left when it wakes.
    const time = fakeTime(() => (store.current.hold = { epoch: 1, remainingMs: 3_000 }));
    const budget = new RateBudget(store, 'qonto', PARAMS, time);
    const permit = await budget.acquire(undefined, 40_000);
    expect(store.reserveRate).toHaveBeenCalledTimes(2);
    // The second reservation may wait only what is left of the cap.
    expect(store.reserveRate.mock.calls[1]![3]).toBe(38_000);
    expect(time.sleeps).toEqual([2_000, 3_000]);
    expect(permit).toEqual({ waitedMs: 5_000, epoch: 1 });
  });

  it('does not reserve again when the hold that moved the epoch is already over', async () => {
    const store = fakeStore([granted(2_000)]);
    const time = fakeTime(() => (store.current.hold = { epoch: 1, remainingMs: 0 }));
    const budget = new RateBudget(store, 'qonto', PARAMS, time);
    expect(await budget.acquire(undefined, 40_000)).toEqual({ waitedMs: 2_000, epoch: 1 });
    expect(store.reserveRate).toHaveBeenCalledTimes(1);
  });

  it('does not re-read the epoch after a short wait', async () => {
    const store = fakeStore([granted(50)]);
    const budget = new RateBudget(store, 'qonto', PARAMS, fakeTime());
    await budget.acquire(undefined, 40_000);
    expect(store.rateHold).not.toHaveBeenCalled();
  });

  it('a refusal reserves nothing, sleeps not, and says when to come back', async () => {
    const store = fakeStore([{ granted: false, retryInMs: 55_000 }]);
    const time = fakeTime();
    const budget = new RateBudget(store, 'qonto', PARAMS, time);
    const before = await refusals();
    const error = await budget.acquire(undefined, 40_000).catch((e: unknown) => e);
    expect(isBudgetRefusal(error)).toBe(true);
    expect(error).toBeInstanceOf(RetryableError);
    expect(error).toMatchObject({ status: 429, code: 'budgetWait', retryAfterMs: 55_000 });
    expect(time.sleeps).toEqual([]);
    expect(await refusals()).toBe(before + 1);
  });
});

async function refusals(): Promise<number> {
  const metric = await registry.getSingleMetric('receipts_sync_rate_budget_refusals_total')!.get();
  return metric.values.find((v) => v.labels.service === 'qonto')?.value ?? 0;
}

describe('RateBudget.answered', () => {
  const res = (status: number, headers: Record<string, string> = {}) => new Response(null, { status, headers });

  it('holds the fleet for the Retry-After, or a computed wait, under the epoch the request was sent with', async () => {
    const store = fakeStore([]);
    const onHold = vi.fn();
    const budget = new RateBudget(store, 'qonto', PARAMS, { onHold });
    await budget.answered(res(429, { 'retry-after': '3' }), { waitedMs: 0, epoch: 4 });
    expect(store.holdRate).toHaveBeenLastCalledWith('qonto', 3_000, 4, COMPUTED_HOLD);
    await budget.answered(res(429), { waitedMs: 0, epoch: 5 });
    expect(store.holdRate).toHaveBeenLastCalledWith('qonto', null, 5, COMPUTED_HOLD);
    expect(onHold.mock.calls.map(([h]) => h.source)).toEqual(['retry_after', 'computed']);
    const shorter = new RateBudget(store, 'qonto', PARAMS, { computedHold: { baseMs: 3_000, maxMs: 60_000 } });
    await shorter.answered(res(429), { waitedMs: 0, epoch: 5 });
    expect(store.holdRate).toHaveBeenLastCalledWith('qonto', null, 5, { baseMs: 3_000, maxMs: 60_000 });
  });

  it('a Retry-After of 400 digits (Infinity) counts as absent: the computed hold', async () => {
    const store = fakeStore([]);
    const onHold = vi.fn();
    await new RateBudget(store, 'qonto', PARAMS, { onHold }).answered(res(429, { 'retry-after': '9'.repeat(400) }), { waitedMs: 0, epoch: 0 });
    expect(store.holdRate).toHaveBeenLastCalledWith('qonto', null, 0, COMPUTED_HOLD);
    expect(onHold.mock.calls[0]![0].source).toBe('computed');
  });

  it('clears the holds in a row on the first success after a hold, once per epoch', async () => {
    const store = fakeStore([]);
    const budget = new RateBudget(store, 'qonto', PARAMS);
    await budget.answered(res(200), { waitedMs: 0, epoch: 0 });
    expect(store.clearRateHolds).not.toHaveBeenCalled();
    await budget.answered(res(200), { waitedMs: 0, epoch: 2 });
    await budget.answered(res(200), { waitedMs: 0, epoch: 2 });
    await budget.answered(res(404), { waitedMs: 0, epoch: 3 });
    expect(store.clearRateHolds.mock.calls).toEqual([['qonto', 2]]);
    expect(store.holdRate).not.toHaveBeenCalled();
  });
});

describe('RateBudget.answered, when the store fails', () => {
  it('a clear of the holds in a row that failed is tried again on the next success', async () => {
    const store = fakeStore([]);
    store.clearRateHolds.mockRejectedValueOnce(new Error('database away'));
    const budget = new RateBudget(store, 'qonto', PARAMS);
    const ok = { waitedMs: 0, epoch: 2 };
    await expect(budget.answered(new Response(null, { status: 200 }), ok)).rejects.toThrow('database away');
    await budget.answered(new Response(null, { status: 200 }), ok);
    expect(store.clearRateHolds).toHaveBeenCalledTimes(2);
  });
});

describe('RateBudget.wrap', () => {
  it(`keeps at most ${MAX_WAITING_RESERVATIONS} reservations waiting; the others queue unreserved`, async () => {
    const store = fakeStore(Array.from({ length: 5 }, () => granted(50)));
    const wakes: (() => void)[] = [];
    const budget = new RateBudget(store, 'qonto', PARAMS, { sleep: () => new Promise<void>((resolve) => wakes.push(resolve)) });
    const sent: string[] = [];
    const fetch = budget.wrap(async (input) => (sent.push(input instanceof Request ? input.url : input.toString()), new Response('ok')), { maxBudgetWaitMs: 40_000 });
    const all = Promise.all(['a', 'b', 'c', 'd', 'e'].map((p) => fetch(`http://qonto.test/${p}`)));
    await vi.waitFor(() => expect(wakes).toHaveLength(2));
    expect(store.reserveRate).toHaveBeenCalledTimes(2);
    wakes.shift()!();
    await vi.waitFor(() => expect(store.reserveRate).toHaveBeenCalledTimes(3));
    while (sent.length < 5) {
      await vi.waitFor(() => expect(wakes.length).toBeGreaterThan(0));
      wakes.shift()!();
      await new Promise((r) => setImmediate(r));
    }
    await all;
    expect(store.reserveRate).toHaveBeenCalledTimes(5);
  });

  it('needs a finite cap: a missing one (NaN) or Infinity is a programming error, not an unmetered request', async () => {
    const store = fakeStore([granted(0)]);
    const budget = new RateBudget(store, 'qonto', PARAMS, fakeTime());
    expect(() => budget.wrap(async () => new Response('ok'), {} as { maxBudgetWaitMs: number })).toThrow(TypeError);
    expect(() => budget.wrap(async () => new Response('ok'), { maxBudgetWaitMs: Number.POSITIVE_INFINITY })).toThrow(TypeError);
    await expect(budget.acquire(undefined, Number.NaN)).rejects.toThrow(TypeError);
    expect(() => budget.lease().wrap(async () => new Response('ok'), {} as { maxBudgetWaitMs: number })).toThrow(TypeError);
    expect(store.reserveRate).not.toHaveBeenCalled();
  });

  it('a request queued for a reservation place longer than its cap is refused, unreserved and unsent', async () => {
    const store = fakeStore([granted(60_000), granted(60_000)]);
    // The two places sleep for ever (their slots are far away); a third request waits in line.
    const budget = new RateBudget(store, 'qonto', PARAMS, { sleep: () => new Promise<void>(() => {}) });
    const inner = vi.fn(async () => new Response('ok'));
    const fetch = budget.wrap(inner, { maxBudgetWaitMs: 30 });
    void fetch('http://qonto.test/a');
    void fetch('http://qonto.test/b');
    await vi.waitFor(() => expect(store.reserveRate).toHaveBeenCalledTimes(2));
    await expect(fetch('http://qonto.test/c')).rejects.toMatchObject({ code: 'budgetWait' });
    expect(store.reserveRate).toHaveBeenCalledTimes(2);
    expect(inner).not.toHaveBeenCalled();
  });

  it('a refused request is not sent', async () => {
    const store = fakeStore([{ granted: false, retryInMs: 90_000 }]);
    const inner = vi.fn(async () => new Response('ok'));
    const fetch = new RateBudget(store, 'qonto', PARAMS, fakeTime()).wrap(inner, { maxBudgetWaitMs: 5_000 });
    await expect(fetch('http://qonto.test/v2/organization')).rejects.toMatchObject({ code: 'budgetWait', retryAfterMs: 90_000 });
    expect(inner).not.toHaveBeenCalled();
    expect(store.reserveRate).toHaveBeenCalledWith('qonto', 1, PARAMS, 5_000);
  });

  it('records a 429 it passes through as a hold, and hands the answer on', async () => {
    const store = fakeStore([granted(0)]);
    const fetch = new RateBudget(store, 'qonto', PARAMS, fakeTime()).wrap(async () => new Response(null, { status: 429 }), {
      maxBudgetWaitMs: 5_000,
    });
    expect((await fetch('http://qonto.test/v2/transactions')).status).toBe(429);
    expect(store.holdRate).toHaveBeenCalledWith('qonto', null, 0, COMPUTED_HOLD);
  });
});

describe('RateBudget.lease', () => {
  it('takes permits from blocks of n, one reservation per block; unused ones expire after half the 1 s slack', async () => {
    const store = fakeStore([granted(0), granted(0), granted(0), granted(0)]);
    const time = fakeTime();
    const lease = new RateBudget(store, 'graph', { windows: [{ windowMs: 10_000, limit: 100_000 }] }, time).lease(100);
    await Promise.all(Array.from({ length: 250 }, () => lease.take(undefined, 40_000)));
    expect(store.reserveRate).toHaveBeenCalledTimes(3);
    expect(store.reserveRate.mock.calls.every(([, permits]) => permits === 100)).toBe(true);
    await lease.take(undefined, 40_000); // 51 of the third block left
    expect(store.reserveRate).toHaveBeenCalledTimes(3);
    time.advance(499);
    await lease.take(undefined, 40_000);
    expect(store.reserveRate).toHaveBeenCalledTimes(3);
    time.advance(1);
    await lease.take(undefined, 40_000);
    expect(store.reserveRate).toHaveBeenCalledTimes(4);
  });

  it("a block's permits count from its slot, not from a late wake", async () => {
    const store = fakeStore([granted(2_000), granted(0)]);
    let clock = 0;
    // The timer fires 400 ms late.
    const sleep = async (ms: number) => void (clock += ms + 400);
    const lease = new RateBudget(store, 'graph', { windows: [{ windowMs: 10_000, limit: 100_000 }] }, { sleep, now: () => clock }).lease(100);
    await lease.take(undefined, 40_000);
    clock += 100; // 500 ms after the slot
    await lease.take(undefined, 40_000);
    expect(store.reserveRate).toHaveBeenCalledTimes(2);
  });

  it('takes smaller blocks when the budget\'s burst is smaller than a block', async () => {
    const store = fakeStore([granted(0)]);
    // 100 per 10 s: a burst of 10, so blocks of 11.
    await new RateBudget(store, 'graph', { windows: [{ windowMs: 10_000, limit: 100 }] }, fakeTime()).lease(100).take(undefined, 40_000);
    expect(store.reserveRate.mock.calls[0]![1]).toBe(11);
  });

  /** A sleep that waits until the test wakes it, or its signal aborts. */
  function heldSleep() {
    const wakes: (() => void)[] = [];
    const signals: (AbortSignal | undefined)[] = [];
    const sleep = (_ms: number, signal?: AbortSignal) =>
      new Promise<void>((resolve, reject) => {
        signals.push(signal);
        wakes.push(resolve);
        signal?.addEventListener('abort', () => reject(signal.reason as Error), { once: true });
      });
    return { wakes, signals, sleep };
  }
  const GRAPH: BudgetParams = { windows: [{ windowMs: 10_000, limit: 100_000 }] };

  it('a caller joining a block further away than its own cap is refused at once, not held for the block', async () => {
    const store = fakeStore([granted(20 * 60_000)]);
    const time = heldSleep();
    const lease = new RateBudget(store, 'graph', GRAPH, { sleep: time.sleep, now: () => 0 }).lease(100);
    const patient = lease.take(undefined, 30 * 60_000);
    await vi.waitFor(() => expect(time.wakes).toHaveLength(1));
    await expect(lease.take(undefined, 40_000)).rejects.toMatchObject({ code: 'budgetWait' });
    time.wakes[0]!();
    await expect(patient).resolves.toMatchObject({ epoch: 0 });
    expect(store.reserveRate).toHaveBeenCalledTimes(1);
  });

  it("a caller's abort ends its own wait only: the block still comes for the others", async () => {
    const store = fakeStore([granted(5_000)]);
    const time = heldSleep();
    const lease = new RateBudget(store, 'graph', GRAPH, { sleep: time.sleep, now: () => 0 }).lease(100);
    const first = new AbortController();
    const reserver = lease.take(first.signal, 40_000);
    await vi.waitFor(() => expect(time.wakes).toHaveLength(1));
    const joiner = new AbortController();
    const joined = lease.take(joiner.signal, 40_000);
    const other = lease.take(undefined, 40_000);
    first.abort(new Error('first gone'));
    joiner.abort(new Error('joiner gone'));
    await expect(reserver).rejects.toThrow('first gone');
    await expect(joined).rejects.toThrow('joiner gone');
    time.wakes[0]!();
    await expect(other).resolves.toMatchObject({ epoch: 0 });
    expect(store.reserveRate).toHaveBeenCalledTimes(1);
  });

  it('a refusal under the first caller\'s short cap does not refuse a joiner that may wait longer', async () => {
    const store = fakeStore([{ granted: false, retryInMs: 30_000 }, granted(30_000)]);
    const time = heldSleep();
    const lease = new RateBudget(store, 'graph', GRAPH, { sleep: time.sleep, now: () => 0 }).lease(100);
    const short = lease.take(undefined, 1_000);
    const long = lease.take(undefined, 60_000);
    await expect(short).rejects.toMatchObject({ code: 'budgetWait' });
    await vi.waitFor(() => expect(time.wakes).toHaveLength(1));
    time.wakes[0]!();
    await expect(long).resolves.toMatchObject({ epoch: 0 });
    expect(store.reserveRate.mock.calls.map((c) => c[3])).toEqual([1_000, 60_000]);
  });

  it('acquire ends its sleep when its signal aborts', async () => {
    const store = fakeStore([granted(5_000)]);
    const time = heldSleep();
    const abort = new AbortController();
    const waiting = new RateBudget(store, 'qonto', PARAMS, { sleep: time.sleep, now: () => 0 }).acquire(abort.signal, 40_000);
    await vi.waitFor(() => expect(time.wakes).toHaveLength(1));
    abort.abort(new Error('cancelled'));
    await expect(waiting).rejects.toThrow('cancelled');
  });
});
