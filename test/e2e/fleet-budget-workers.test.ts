import { Client, Connection } from '@temporalio/client';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { SimUser } from '../../src/simulators/identity/directory.js';
import { settingsFrom, startIntegration } from '../../src/temporal/integrations.js';
import { driveMismatches, expectedReceipts } from '../support/expectations.js';
import { dataConverter, freePort, startHarness, type Harness } from '../support/harness.js';
import { freshDatabaseUrl } from '../support/postgres.js';
import { until } from '../support/until.js';
import { handleOf } from '../support/workflow.js';
import { startWorkerProcess, type WorkerProcess } from '../support/worker-process.js';
import { peakInWindow } from '../../bench/fleet-measure.js';

/**
 * The fleet's Qonto budget with the product's own worker processes: two `ROLE=worker` processes of
 * the real entry point on one Postgres database back-fill several integrations of one Qonto
 * organization (one egress address) over real HTTP. The simulator allows 30 per 10 s; the budget is
 * 20 per 10 s, and the accounts' listing pages alone need longer than 10 s at that rate, so the budget
 * binds. Together the workers stay inside it in every sliding window the simulator saw and take no
 * 429 from its limiter; a 429 without Retry-After, which only the one worker that sent that request
 * gets, stops every Qonto API request of both for the hold that worker wrote in `rate_budgets`.
 */
const ZONE = 'Europe/Paris';
const SYNC_FROM = '2020-01-01';
const RUN = `fbw-${Date.now().toString(36)}`;
const INTEGRATIONS = 4;
const ACCOUNTS = 2;
/** Per account: ten pages of 100 to list in every integration's backfill, 80 listing requests in all:
 * at 20 per 10 s, listing is still under way when the 429 is injected (after the first 10 s window). */
const TRANSACTIONS_PER_ACCOUNT = 1_000;
const BUDGET = '20/10s,2000/10min';
const PER_10S = 20;
/** A request that had its slot and was on its way when the hold began may still arrive. */
const IN_FLIGHT_MS = 250;
/** Activities that call Qonto's API. */
const QONTO_ACTIVITIES = /"activityType":"(loadOrganization|discoverAccount|discoverTransactions|unlistedAttachments|exportBatch)"/g;

let h: Harness;
let client: Client;
let db: pg.Client;
let workers: WorkerProcess[] = [];
const users: { id: string; user: SimUser }[] = [];


/** The Qonto activities a worker's log shows started since `from` (an offset in its output). */
const qontoActivities = (worker: WorkerProcess, from = 0) => [...worker.output().slice(from).matchAll(QONTO_ACTIVITIES)].length;

/** When the simulator served a fault beyond the first `served` (read every 5 ms: the bound on how
 * late that time is, in the test's favour by at most that much). */
async function servedAfter(served: number, timeoutMs = 30_000): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  while (h.sims.qonto.faults.served <= served) {
    if (Date.now() > deadline) throw new Error('the injected 429 was never served');
    await new Promise((r) => setTimeout(r, 5));
  }
  return Date.now();
}

/** The listing requests the simulator received so far. */
const listings = () => h.sims.qonto.requests.filter((r) => r.method === 'GET' && r.path.startsWith('/v2/transactions?')).length;

async function holdRow(): Promise<{ holdUntil: number; epoch: number }> {
  const { rows } = await db.query<{ hold_until_ms: number; hold_epoch: number }>(`SELECT hold_until_ms, hold_epoch FROM rate_budgets WHERE name = 'qonto'`);
  return { holdUntil: Number(rows[0]?.hold_until_ms ?? 0), epoch: Number(rows[0]?.hold_epoch ?? 0) };
}

beforeAll(async () => {
  const databaseUrl = await freshDatabaseUrl();
  h = await startHarness({
    demo: { seed: 15, accounts: ACCOUNTS, months: 1, receipts: 6, sizes: { minBytes: 1_000, maxBytes: 4_000 } },
    qontoRateLimit: { perTenSeconds: 30, perTenMinutes: 3_000 },
    qontoRecordArrivals: true,
    extraEnv: { DATABASE_URL: databaseUrl },
  });
  const data = h.sims.qonto.data;
  for (const account of data.bankAccounts()) {
    for (let i = 0; i < TRANSACTIONS_PER_ACCOUNT; i++) data.addTransaction({ bankAccountId: account.id, amount: 1 + i, label: `Coffee ${i}`, side: 'debit' });
  }
  db = new pg.Client({ connectionString: databaseUrl });
  await db.connect();
  client = new Client({ connection: await Connection.connect({ address: inject('temporalAddress') }), dataConverter });
  for (let i = 0; i < INTEGRATIONS; i++) {
    const id = `${RUN}-${i}`;
    const user = h.newUser(id);
    await h.connect(id, user);
    users.push({ id, user });
  }
  const env = { ...h.env, ROLE: 'worker', LOG_LEVEL: 'debug', TEMPORAL_ADDRESS: inject('temporalAddress'), TEMPORAL_TASK_QUEUE: `tq-${RUN}`, QONTO_RATE_LIMIT: BUDGET };
  workers = await Promise.all([0, 1].map(async () => startWorkerProcess({ ...env, PORT: String(await freePort()) })));
}, 120_000);

afterAll(async () => {
  for (const { id } of users) await handleOf(client, id).terminate('suite over').catch(() => {});
  await Promise.all(workers.map((w) => w.kill()));
  await client?.connection.close();
  await db?.end();
  await h?.close();
});

describe('the Qonto budget across two ROLE=worker processes', () => {
  it('keeps both within the budget with no 429, and a 429 one of them got pauses both for the hold it wrote', async () => {
    const started = Date.now();
    const settings = settingsFrom(h.config);
    for (const { id } of users) await startIntegration(client, `tq-${RUN}`, { integrationId: id, syncFrom: SYNC_FROM, timeZone: ZONE, settings });
    const arrivals = () => h.sims.qonto.arrivals!;

    // Both workers under way on Qonto, for a whole 10 s window since the first request: the budget binds.
    await until(async () => workers.map((w) => qontoActivities(w)), (n) => n.every((x) => x > 0), 'both workers running Qonto activities', 60_000);
    await until(async () => arrivals(), (a) => a.length >= PER_10S && Date.now() - a[0]! >= 10_000, 'a 10 s window of requests', 60_000);
    expect(peakInWindow(arrivals(), 10_000)).toBeLessThanOrEqual(PER_10S);
    expect(h.sims.qonto.rateLimited()).toBe(0);

    // One 429 without Retry-After to the next listing page, whoever sends it.
    const before = await holdRow();
    const served = h.sims.qonto.faults.served;
    const listedBefore = listings();
    h.sims.qonto.faults.add({ method: 'GET', path: '/v2/transactions' }, { kind: 'status', status: 429 }, 1);
    const throttledAt = await servedAfter(served);
    const hold = await until(holdRow, (r) => r.epoch > before.epoch, 'the hold written', 10_000);
    // The product's computed hold: base 10 s, at least half of it whatever the jitter drew.
    expect(hold.holdUntil - throttledAt).toBeGreaterThanOrEqual(5_000 - IN_FLIGHT_MS);
    await until(async () => arrivals().filter((t) => t >= hold.holdUntil).length, (n) => n > 0, 'requests again after the hold', 30_000);
    expect(arrivals().filter((t) => t >= throttledAt + IN_FLIGHT_MS && t < hold.holdUntil)).toEqual([]);

    // Every integration completes with every receipt, both workers having run Qonto activities after the hold too.
    const expected = expectedReceipts(h.sims.qonto.data, SYNC_FROM, ZONE);
    expect(expected.length).toBeGreaterThan(0);
    await until(
      async () => Promise.all(users.map(async ({ id }) => (await h.services.store.counts(id)).exported)),
      (n) => n.every((x) => x === expected.length),
      'every receipt exported',
      120_000,
    );
    for (const { id, user } of users) expect(await driveMismatches(h.sims.graph.drive(user.id), h.services.store, id, expected), id).toEqual([]);
    // Listing was far from done when the 429 came: the hold stopped work both workers still had. (Which
    // worker runs which activity after it is Temporal's choice: not asserted.)
    expect(listings() - listedBefore).toBeGreaterThan(PER_10S);

    const seen = arrivals().filter((t) => t >= started);
    expect(seen.length).toBeGreaterThan(PER_10S + 10);
    expect(peakInWindow(seen, 10_000)).toBeLessThanOrEqual(PER_10S);
    expect(h.sims.qonto.rateLimited()).toBe(0);
  }, 240_000);
});
