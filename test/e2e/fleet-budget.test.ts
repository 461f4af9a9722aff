import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createInterface } from 'node:readline';
import { setTimeout as delay } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startQontoSimulator, type QontoSimulator } from '../../src/simulators/qonto/server.js';
import { openPostgresStore } from '../../src/store/postgres.js';
import { freshDatabaseUrl } from '../support/postgres.js';
import { until } from '../support/until.js';
import { peakInWindow } from '../../bench/fleet-measure.js';

/**
 * The fleet's Qonto budget across processes: two processes, each with its own RateBudget and
 * QontoClient on one Postgres database (test/fixtures/budget-child.ts), list one account each as
 * fast as the budget lets them, over real HTTP to the Qonto simulator. The simulator allows 30 per
 * 10 s; the budget is 20 per 10 s, so its 10 s window binds (about 40 requests in 25 s). Together
 * they stay inside the budget in every sliding window the simulator saw, take no 429, and share it.
 * A 429 that only one of them gets holds back both, for the hold that one computed or was told.
 */
const KEY = { login: 'fleet-org', secret: 'fleet-secret' };
const BUDGET = '20/10s,2000/10min';
const PER_10S = 20;
const PHASE_MS = 25_000;
/** A request that had its slot and was on its way when the hold began may still arrive. */
const IN_FLIGHT_MS = 250;

interface ChildEvent {
  event: 'ready' | 'sent' | '429';
  at: number;
  holdUntil?: number;
}

class Child {
  readonly events: ChildEvent[] = [];
  readonly process: ChildProcessWithoutNullStreams;
  stderr = '';

  constructor(env: Record<string, string>) {
    const fixture = fileURLToPath(new URL('../fixtures/budget-child.ts', import.meta.url));
    this.process = spawn(process.execPath, ['--import', 'tsx', fixture], { env: { ...process.env, ...env }, stdio: 'pipe' });
    createInterface({ input: this.process.stdout }).on('line', (line) => this.events.push(JSON.parse(line) as ChildEvent));
    this.process.stderr.on('data', (chunk: Buffer) => (this.stderr += chunk.toString()));
  }

  sent(from: number, to = Number.POSITIVE_INFINITY): number[] {
    return this.events.filter((e) => e.event === 'sent' && e.at >= from && e.at < to).map((e) => e.at);
  }

  /** The next 429 it got after `after`. */
  async throttledAfter(after: number): Promise<ChildEvent> {
    const find = () => this.events.find((e) => e.event === '429' && e.at > after);
    return until(async () => find(), (e) => e !== undefined, `a 429 to the child (stderr: ${this.stderr})`, 20_000) as Promise<ChildEvent>;
  }

  async stop(): Promise<void> {
    if (this.process.exitCode !== null) return;
    const exited = new Promise((resolve) => this.process.once('exit', resolve));
    this.process.stdin.end();
    await Promise.race([exited, delay(10_000)]);
    if (this.process.exitCode === null) this.process.kill('SIGKILL');
  }
}


let sim: QontoSimulator;
let a: Child;
let b: Child;
let accountA: string;
let phaseStart: number;

beforeAll(async () => {
  sim = await startQontoSimulator({ apiKeys: [KEY], rateLimit: { perTenSeconds: 30, perTenMinutes: 3_000 }, recordArrivals: true });
  accountA = sim.data.addBankAccount().id;
  const accountB = sim.data.addBankAccount().id;
  const databaseUrl = await freshDatabaseUrl();
  // Migrated once here, so the children start on a ready schema.
  await (await openPostgresStore(databaseUrl, { poolSize: 1, statementTimeoutMs: 10_000 })).close();
  const env = { BUDGET_DATABASE_URL: databaseUrl, BUDGET_QONTO_URL: sim.url, BUDGET_LIMIT: BUDGET, BUDGET_API_KEY: `${KEY.login}:${KEY.secret}` };
  a = new Child({ ...env, BUDGET_ACCOUNT: accountA });
  b = new Child({ ...env, BUDGET_ACCOUNT: accountB });
  for (const child of [a, b]) await until(async () => child.events, (e) => e.some((x) => x.event === 'ready'), `the child ready (stderr: ${child.stderr})`, 60_000);
  phaseStart = Date.now();
  for (const child of [a, b]) child.process.stdin.write('go\n');
});

afterAll(async () => {
  await Promise.all([a?.stop(), b?.stop()]);
  await sim?.close();
});

describe('the Qonto budget across processes', () => {
  it('keeps two processes together within the budget in every sliding window, with no 429, each making progress', async () => {
    await delay(PHASE_MS); // the length of the measurement, not a wait for something to happen
    const phaseEnd = Date.now();
    const arrivals = sim.arrivals!.filter((t) => t >= phaseStart && t < phaseEnd);
    expect(arrivals.length).toBeGreaterThanOrEqual(30);
    expect(peakInWindow(arrivals, 10_000)).toBeLessThanOrEqual(PER_10S);
    expect(sim.rateLimited()).toBe(0);
    const byA = a.sent(phaseStart, phaseEnd).length;
    const byB = b.sent(phaseStart, phaseEnd).length;
    expect(byA / (byA + byB)).toBeGreaterThanOrEqual(0.4);
    expect(byB / (byA + byB)).toBeGreaterThanOrEqual(0.4);
  });

  it('holds back the other process too after a 429 without Retry-After, for the hold computed', async () => {
    const before = Date.now();
    sim.faults.add({ method: 'GET', path: `bank_account_id=${accountA}` }, { kind: 'status', status: 429 }, 1);
    const throttled = await a.throttledAfter(before);
    // Base 3 s with jitter: at least half of it, whatever A drew.
    await until(async () => b.sent(throttled.at + 1_500).length, (n) => n > 0, 'the other process sending again', 20_000);
    expect(sim.arrivals!.filter((t) => t >= throttled.at + IN_FLIGHT_MS && t < throttled.at + 1_500)).toEqual([]);
    // And through the whole hold A wrote.
    const holdUntil = throttled.holdUntil!;
    expect(holdUntil - throttled.at).toBeGreaterThanOrEqual(1_500 - IN_FLIGHT_MS);
    await until(async () => b.sent(holdUntil).length, (n) => n > 0, 'the other process sending again after the hold', 20_000);
    expect(sim.arrivals!.filter((t) => t >= throttled.at + IN_FLIGHT_MS && t < holdUntil)).toEqual([]);
    expect(b.sent(throttled.at + IN_FLIGHT_MS, holdUntil)).toEqual([]);
  });

  it('holds back the other process for the Retry-After of a 429 only one of them got', async () => {
    const before = Date.now();
    sim.faults.add({ method: 'GET', path: `bank_account_id=${accountA}` }, { kind: 'status', status: 429, retryAfterSec: 3 }, 1);
    const throttled = await a.throttledAfter(before);
    await until(async () => b.sent(throttled.at + 3_000).length, (n) => n > 0, 'the other process sending again after the hold', 20_000);
    expect(sim.arrivals!.filter((t) => t >= throttled.at + IN_FLIGHT_MS && t < throttled.at + 3_000 - IN_FLIGHT_MS)).toEqual([]);
    const holdUntil = throttled.holdUntil!;
    expect(Math.abs(holdUntil - throttled.at - 3_000)).toBeLessThanOrEqual(IN_FLIGHT_MS);
    expect(b.sent(throttled.at + IN_FLIGHT_MS, holdUntil)).toEqual([]);
    // Over the whole run too, the restart after each hold included: never more than the budget.
    expect(peakInWindow(sim.arrivals!, 10_000)).toBeLessThanOrEqual(PER_10S);
    expect(sim.rateLimited()).toBe(0);
  });
});
