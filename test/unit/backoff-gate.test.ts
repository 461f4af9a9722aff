import { describe, expect, it } from 'vitest';
import { RetryableError } from '../../src/errors.js';
import { BackoffGate, gatesByKey, isThrottling } from '../../src/http/backoff-gate.js';

/** A fetch that records when each request was really sent and answers from `answers` in turn. */
function scriptedFetch(answers: Array<{ status: number; retryAfter?: string }>) {
  const sent: number[] = [];
  const fetchImpl: typeof fetch = async () => {
    sent.push(Date.now());
    const answer = answers.shift() ?? { status: 200 };
    const headers = answer.retryAfter === undefined ? undefined : { 'retry-after': answer.retryAfter };
    return new Response(answer.status === 204 ? null : '{}', { status: answer.status, headers });
  };
  return { sent, fetchImpl };
}

/** A fetch whose requests wait until the test answers them: `answer(status, index)`. */
function heldFetch() {
  const waiting: Array<((res: Response) => void) | null> = [];
  const fetchImpl: typeof fetch = () => new Promise<Response>((resolve) => waiting.push(resolve));
  const answer = Object.assign(
    (status: number, index?: number) => {
      const at = index ?? waiting.findIndex((w) => w !== null);
      const resolve = waiting[at]!;
      waiting[at] = null;
      resolve(new Response('{}', { status }));
    },
    { sent: () => waiting.length },
  );
  return { fetchImpl, answer };
}

/** Resolves once `n` requests have been sent (each passes the gate after a turn of the event loop). */
async function sentCount(answer: { sent: () => number }, n: number): Promise<void> {
  while (answer.sent() < n) await new Promise((resolve) => setImmediate(resolve));
}

describe('BackoffGate', () => {
  it('sends nothing, from any caller, inside the window a 429 with Retry-After announced', async () => {
    const gate = new BackoffGate();
    const { sent, fetchImpl } = scriptedFetch([{ status: 429, retryAfter: '0.3' }]);
    const gated = gate.wrap(fetchImpl);

    const throttled = await gated('http://service/a');
    const windowEnd = Date.now() + 300;
    expect(throttled.status).toBe(429);
    expect(gate.remaining()).toBeGreaterThan(250);

    // Five callers arrive during the window: none of them is sent before it ends.
    const answers = await Promise.all(Array.from({ length: 5 }, (_, i) => gated(`http://service/${i}`)));
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200, 200, 200]);
    expect(sent).toHaveLength(6);
    for (const at of sent.slice(1)) expect(at).toBeGreaterThanOrEqual(windowEnd - 5);
  });

  it('closes on 503 with Retry-After too, but not on other statuses', async () => {
    for (const [answer, closes] of [
      [{ status: 503, retryAfter: '1' }, true],
      [{ status: 500, retryAfter: '1' }, false],
      [{ status: 500 }, false],
      [{ status: 200, retryAfter: '1' }, false],
    ] as const) {
      const gate = new BackoffGate();
      await gate.wrap(scriptedFetch([answer]).fetchImpl)('http://service/');
      expect(gate.remaining() > 0).toBe(closes);
    }
  });

  it('keeps the longer window when another answer announces a shorter one, and waits for an extension', async () => {
    let now = 1_000_000;
    const gate = new BackoffGate(() => now);
    gate.hold(60_000);
    gate.hold(1_000);
    expect(gate.remaining()).toBe(60_000);

    const real = new BackoffGate();
    real.hold(50);
    const started = Date.now();
    const passed = real.pass();
    real.hold(200); // extended while a caller waits
    await passed;
    expect(Date.now() - started).toBeGreaterThanOrEqual(195);
    now += 60_000;
    expect(gate.remaining()).toBe(0);
  });

  it('refuses at once, without sending, a window longer than the caller waits in process', async () => {
    let now = 5_000_000;
    const gate = new BackoffGate(() => now);
    const { sent, fetchImpl } = scriptedFetch([{ status: 429, retryAfter: '120' }]);
    const gated = gate.wrap(fetchImpl, 60_000);
    await gated('http://service/');

    const refused = await gated('http://service/').catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(RetryableError);
    expect((refused as RetryableError).retryAfterMs).toBe(120_000);
    expect(sent).toHaveLength(1);

    now += 120_000;
    expect((await gated('http://service/')).status).toBe(200);
    expect(sent).toHaveLength(2);
  });

  it('closes for a computed window on 429/503 without Retry-After, growing with each throttle in a row', async () => {
    let now = 0;
    // random() = 1: each window is its full ceiling, base × 2^(n-1), capped.
    const gate = new BackoffGate(() => now, { baseDelayMs: 1_000, maxDelayMs: 8_000, random: () => 1 });
    const gated = gate.wrap(scriptedFetch([{ status: 429 }, { status: 503 }, { status: 429 }, { status: 429 }, { status: 429 }]).fetchImpl, 60_000);
    const windows: number[] = [];
    for (let i = 0; i < 5; i++) {
      now += gate.remaining(); // the caller waited the window out
      await gated('http://service/');
      windows.push(gate.remaining());
    }
    expect(windows).toEqual([1_000, 2_000, 4_000, 8_000, 8_000]);
  });

  it('jitters the computed window, and a success sent after the window starts the count again', async () => {
    let now = 0;
    const draws = [0, 0.5, 0];
    const gate = new BackoffGate(() => now, { baseDelayMs: 1_000, maxDelayMs: 60_000, random: () => draws.shift() ?? 0 });
    const gated = gate.wrap(scriptedFetch([{ status: 429 }, { status: 429 }, { status: 200 }, { status: 429 }]).fetchImpl);
    await gated('http://service/');
    expect(gate.remaining()).toBe(500); // half the 1 s ceiling at the lowest draw
    now += 500;
    await gated('http://service/');
    expect(gate.remaining()).toBe(1_500); // between 1 and 2 s for the second throttle in a row
    now += 1_500;
    await gated('http://service/');
    expect(gate.remaining()).toBe(0);
    await gated('http://service/');
    expect(gate.remaining()).toBe(500); // back to the first window after a success
  });

  it('counts a burst of 429s to requests sent together as one throttle, not one each', async () => {
    const now = 0;
    const gate = new BackoffGate(() => now, { baseDelayMs: 1_000, maxDelayMs: 60_000, random: () => 1 });
    const { fetchImpl, answer } = heldFetch();
    const gated = gate.wrap(fetchImpl);
    // Four requests pass the open gate, then all four are answered 429 without Retry-After.
    const pending = Array.from({ length: 4 }, (_, i) => gated(`http://service/${i}`));
    await sentCount(answer, 4);
    for (let i = 0; i < 4; i++) answer(429);
    await Promise.all(pending);
    expect(gate.remaining()).toBe(1_000); // the first window, not base × 2^3
  });

  it('is not reset by a success to a request sent before the last window', async () => {
    let now = 0;
    const gate = new BackoffGate(() => now, { baseDelayMs: 1_000, maxDelayMs: 60_000, random: () => 1 });
    const { fetchImpl, answer } = heldFetch();
    const gated = gate.wrap(fetchImpl);
    const slow = gated('http://service/slow'); // sent before any window, answered last
    await sentCount(answer, 1);
    const first = gated('http://service/a');
    await sentCount(answer, 2);
    answer(429, 1); // a: the first window, 1 s
    await first;
    expect(gate.remaining()).toBe(1_000);
    now += 1_000;
    const second = gated('http://service/b');
    await sentCount(answer, 3);
    answer(429, 2); // b, sent after the window: the second in a row, 2 s
    await second;
    expect(gate.remaining()).toBe(2_000);
    answer(200, 0); // the slow request from before the windows succeeds: says nothing about them
    await slow;
    now += 2_000;
    const third = gated('http://service/c');
    await sentCount(answer, 4);
    answer(429, 3);
    await third;
    expect(gate.remaining()).toBe(4_000); // the third in a row
  });

  it('waits a little even when Retry-After says 0', async () => {
    const now = 0;
    const gate = new BackoffGate(() => now);
    await gate.wrap(scriptedFetch([{ status: 429, retryAfter: '0' }]).fetchImpl)('http://service/');
    expect(gate.remaining()).toBeGreaterThanOrEqual(250);
  });

  it('stops waiting when the caller aborts', async () => {
    const gate = new BackoffGate();
    gate.hold(10_000);
    const controller = new AbortController();
    const waiting = gate.pass(controller.signal);
    controller.abort();
    await expect(waiting).rejects.toThrow();
  });

  it('gives one gate per key, shared by everyone asking for that key', () => {
    const gateFor = gatesByKey();
    expect(gateFor('a')).toBe(gateFor('a'));
    expect(gateFor('a')).not.toBe(gateFor('b'));
  });

  it('forgets a gate left open and unused for the idle time, and keeps one closed, in use or recently asked for', async () => {
    let now = 0;
    const minutes = (n: number) => (now += n * 60_000);
    const gateFor = gatesByKey(600_000, () => now);
    const idle = gateFor('idle');
    const closed = gateFor('closed');
    closed.hold(30 * 60_000);
    const busy = gateFor('busy');
    const { fetchImpl, answer } = heldFetch();
    const inFlight = busy.wrap(fetchImpl)('http://drive.test/');
    while (answer.sent() === 0) await new Promise((r) => setImmediate(r));
    const recent = gateFor('recent');
    minutes(5);
    expect(gateFor('recent')).toBe(recent);
    minutes(6);
    expect(gateFor('idle')).not.toBe(idle);
    expect(gateFor('closed')).toBe(closed);
    expect(gateFor('busy')).toBe(busy);
    expect(gateFor('recent')).toBe(recent);
    answer(200);
    await inFlight;
    minutes(11);
    expect(gateFor('busy')).not.toBe(busy);
  });
});

describe('isThrottling', () => {
  it('tells a throttled answer or a refusal by the gate from a failure of the request itself', async () => {
    const gate = new BackoffGate();
    gate.hold(120_000);
    const refused = await gate.pass(undefined, 1_000).catch((e: unknown) => e);
    expect(isThrottling(refused)).toBe(true);
    expect(isThrottling(new RetryableError('Graph PUT: HTTP 429', { status: 429 }))).toBe(true);
    expect(isThrottling(new RetryableError('Graph PUT: HTTP 503', { status: 503, retryAfterMs: 5_000 }))).toBe(true);
    expect(isThrottling(new RetryableError('Graph PUT: HTTP 500', { status: 500 }))).toBe(false);
    expect(isThrottling(new RetryableError('network error'))).toBe(false);
    expect(isThrottling(new Error('HTTP 429'))).toBe(false);
  });
});
