import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { keepHeartbeating, PROGRESS_BEAT_MS } from '../../activities/heartbeat.js';
import { RateBudget, type BudgetStore } from '../../src/budget/rate-budget.js';
import { BackoffGate } from '../../src/http/backoff-gate.js';
import { outboundFetch } from '../../src/http/outbound.js';
import { ANSWER_GRACE_MS } from '../../src/http/transfer-pulse.js';

let server: Server;
let base: string;
/** Answers the server holds back until the test releases them. */
let held: ServerResponse[];

beforeEach(async () => {
  held = [];
  server = createServer((req, res) => {
    req.resume(); // the body is read; the answer waits for the test
    held.push(res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  // Only the heartbeat's interval is faked: sockets and the deadlines run in real time.
  vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
});
afterEach(async () => {
  vi.useRealTimers();
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

function recorder() {
  const beats: unknown[] = [];
  return { beats, ctx: { heartbeat: (details?: unknown) => void beats.push(details) } };
}

async function until(predicate: () => boolean): Promise<void> {
  while (!predicate()) await new Promise((r) => setImmediate(r));
}

describe('keepHeartbeating', () => {
  it('beats while the activity moves bytes, and goes quiet while a request waits with nothing moving', async () => {
    const { beats, ctx } = recorder();
    const beat = keepHeartbeating(ctx, 2_000);
    const fetchImpl = outboundFetch({ idleMs: 60_000 });
    const answered = beat.run(async () => (await fetchImpl(`${base}/stalled`)).text());
    await until(() => held.length === 1);

    vi.advanceTimersByTime(10_000); // five ticks with the request hanging: no beat
    expect(beats).toHaveLength(0);

    held[0]!.end('x'.repeat(1_000));
    expect(await answered).toHaveLength(1_000);
    vi.advanceTimersByTime(2_000); // bytes moved since the last tick: a beat, with the bytes
    expect(beats).toEqual([{ bytes: 1_001 }]);
    beat.stop();
  });

  it('stays alive for a bounded time while a request whose body is fully sent waits for its answer', async () => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval', 'Date'] });
    const { beats, ctx } = recorder();
    const beat = keepHeartbeating(ctx, 2_000);
    const fetchImpl = outboundFetch({ idleMs: 60_000, slowAnswerMs: 600_000 });
    let closed = false;
    let pieces = 0;
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (pieces++ < 3) return controller.enqueue(new Uint8Array(1_000));
        closed = true;
        controller.close();
      },
    });
    const init: RequestInit & { duplex: 'half' } = { method: 'PUT', body, duplex: 'half' };
    const answered = beat.run(async () => (await fetchImpl(`${base}/fragment`, init)).text());
    await until(() => held.length === 1 && closed);
    for (let i = 0; i < 10; i++) await new Promise((r) => setImmediate(r));

    vi.advanceTimersByTime(2_000); // the body's bytes moved
    expect(beats).toHaveLength(1);
    vi.advanceTimersByTime(ANSWER_GRACE_MS - 2_000); // body sent, answer awaited: alive throughout the grace
    expect(beats).toHaveLength(ANSWER_GRACE_MS / 2_000);
    const afterGrace = beats.length;
    vi.advanceTimersByTime(10_000); // the grace is over: nothing moves, the beat stops
    expect(beats).toHaveLength(afterGrace);

    held[0]!.end('stored');
    expect(await answered).toBe('stored');
    vi.advanceTimersByTime(2_000);
    expect(beats).toHaveLength(afterGrace + 1);
    beat.stop();
  });

  it('keeps beating while nothing waits on the network: waiting out a back-off window lets a cancellation through', async () => {
    const { beats, ctx } = recorder();
    const beat = keepHeartbeating(ctx, 2_000);
    const gate = new BackoffGate();
    gate.hold(60_000);
    const controller = new AbortController();
    const waiting = beat.run(() => gate.pass(controller.signal));
    vi.advanceTimersByTime(10_000);
    expect(beats).toHaveLength(5);
    controller.abort(); // what a heartbeat's answer does when the activity is cancelled
    await expect(waiting).rejects.toThrow();
    beat.stop();
    vi.advanceTimersByTime(10_000);
    expect(beats).toHaveLength(5);
  });

  it('keeps beating while a request waits for its slot in the rate budget: that is no wait on the network', async () => {
    const { beats, ctx } = recorder();
    const beat = keepHeartbeating(ctx, 2_000);
    const slotInAMinute: BudgetStore = {
      reserveRate: async () => ({ granted: true, waitMs: 60_000, epoch: 0 }),
      holdRate: async () => ({ holdMs: 0, epoch: 0 }),
      rateHold: async () => ({ epoch: 0, remainingMs: 0 }),
      clearRateHolds: async () => {},
    };
    const budget = new RateBudget(slotInAMinute, 'qonto', { windows: [{ windowMs: 10_000, limit: 100 }] });
    const fetchImpl = budget.wrap(outboundFetch({ idleMs: 60_000 }), { maxBudgetWaitMs: 120_000 });
    const controller = new AbortController();
    const waiting = beat.run(() => fetchImpl(`${base}/budgeted`, { signal: controller.signal }));
    for (let i = 0; i < 10; i++) await new Promise((r) => setImmediate(r));
    vi.advanceTimersByTime(10_000);
    expect(beats).toHaveLength(5);
    expect(held).toHaveLength(0); // still waiting for its slot, unsent
    controller.abort();
    await expect(waiting).rejects.toThrow();
    beat.stop();
  });

  it('beats at once on progress, its details carrying the bytes moved', () => {
    const { beats, ctx } = recorder();
    const beat = keepHeartbeating(ctx, 2_000);
    beat.progress({ done: 3 });
    expect(beats).toEqual([{ done: 3, bytes: 0 }]);
    beat.stop();
  });

  it('folds progress reported faster than PROGRESS_BEAT_MS into one beat carrying the latest details', () => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval', 'setTimeout', 'clearTimeout', 'Date'] });
    const { beats, ctx } = recorder();
    const beat = keepHeartbeating(ctx, 2_000);
    for (let done = 1; done <= 100; done++) beat.progress({ done });
    expect(beats).toEqual([{ done: 1, bytes: 0 }]);
    vi.advanceTimersByTime(PROGRESS_BEAT_MS);
    expect(beats).toEqual([{ done: 1, bytes: 0 }, { done: 100, bytes: 0 }]);
    beat.progress({ done: 101 });
    vi.advanceTimersByTime(PROGRESS_BEAT_MS - 1);
    expect(beats).toHaveLength(2);
    vi.advanceTimersByTime(1);
    expect(beats.at(-1)).toEqual({ done: 101, bytes: 0 });
    beat.stop();
  });

  it('sends the progress still waiting for its beat when stopped, once', () => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval', 'setTimeout', 'clearTimeout', 'Date'] });
    const { beats, ctx } = recorder();
    const beat = keepHeartbeating(ctx, 2_000);
    beat.progress({ checkpoint: 1 });
    beat.progress({ checkpoint: 2 }); // the last checkpoint, folded into a later beat
    beat.stop();
    expect(beats).toEqual([{ checkpoint: 1, bytes: 0 }, { checkpoint: 2, bytes: 0 }]);
    vi.advanceTimersByTime(10 * PROGRESS_BEAT_MS);
    beat.stop();
    expect(beats).toHaveLength(2);
  });

  it('sends nothing more when stopped with no progress waiting', () => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval', 'setTimeout', 'clearTimeout', 'Date'] });
    const { beats, ctx } = recorder();
    const beat = keepHeartbeating(ctx, 2_000);
    beat.progress({ checkpoint: 1 });
    beat.stop();
    expect(beats).toEqual([{ checkpoint: 1, bytes: 0 }]);
  });
});
