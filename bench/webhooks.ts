/**
 * The webhook section of `npm run bench` (alone: `npm run bench:webhooks`): how long a receipt attached
 * in Qonto takes to be in the drive, verified, when Qonto's webhooks announce it. API-key mode, as an
 * operator runs it: a subscription registered by hand in the simulated Qonto (http callback to the
 * product's API, QONTO_WEBHOOK_SECRET), the API (`ROLE=api`) and the worker (`ROLE=worker`) as their
 * own processes on one Postgres store, the production debounce and rechecks, and the simulators'
 * per-request latency.
 *
 * Latency runs from `attachReceipt` to the manifest row `uploaded` with `verifiedAt` (the time the
 * worker verified the file in the drive; the store's count of exported receipts is polled every
 * 250 ms to know when all have landed). Two loads:
 *   - single events, each attached once the previous one landed and a short gap passed;
 *   - a burst of receipts attached within about 2 s: how many incremental runs it took.
 *
 * Settings (environment):
 *   BENCH_WEBHOOK_SINGLES=20    single events
 *   BENCH_WEBHOOK_GAP_MS=2000   pause after each single event landed
 *   BENCH_WEBHOOK_BURST=500     receipts in the burst
 */
import { randomBytes } from 'node:crypto';
import type { Client } from '@temporalio/client';
import pg from 'pg';
import type { RequestLogEntry } from '../src/simulators/graph/server.js';
import type { SimTransaction } from '../src/simulators/qonto/data.js';
import { TRANSACTIONS_TYPE } from '../src/simulators/qonto/webhooks.js';
import { settingsFrom, startIntegration } from '../src/temporal/integrations.js';
import { statusQuery, workflowIdFor } from '../workflows/messages.js';
import type { IntegrationView } from '../workflows/state.js';
import { freePort, startHarness, type Harness } from '../test/support/harness.js';
import { startPostgresServer } from '../test/support/postgres-server.js';
import { startProductProcess, startWorkerProcess, type WorkerProcess } from '../test/support/worker-process.js';
import { WORKER_RUNTIME, countQontoRequests } from './archive.js';

const SINGLES = Number(process.env.BENCH_WEBHOOK_SINGLES ?? 20);
const GAP_MS = Number(process.env.BENCH_WEBHOOK_GAP_MS ?? 2_000);
const BURST = Number(process.env.BENCH_WEBHOOK_BURST ?? 500);
/** The burst is attached in this many slices, spread over about 2 s. */
const BURST_SLICES = 20;
const BURST_SPREAD_MS = 2_000;
const POLL_MS = 250;
const SECRET = randomBytes(32).toString('base64url');
const ZONE = 'Europe/Paris';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const round = (n: number, digits = 2) => Math.round(n * 10 ** digits) / 10 ** digits;
const log = (message: string) => console.log(`[bench ${new Date().toISOString().slice(11, 19)}] ${message}`);

function countBy(values: string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const v of values) out[v] = (out[v] ?? 0) + 1;
  return out;
}

export function percentile(values: number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

interface Load {
  events: number;
  p50Seconds: number;
  p95Seconds: number;
  maxSeconds: number;
  /** Runs of the workflow (incremental ones) the load started. */
  runs: number;
  qonto429: number;
  graph429: number;
  qontoRequestsPerEvent: number;
  graphRequestsPerEvent: number;
  /** Deliveries the simulated Qonto made (duplicates and retries included) and how many failed. */
  deliveries: number;
  failedDeliveries: number;
  /** The receiver's answers by status (`timeout`: none within Qonto's second; `error`: no connection). */
  answers: Record<string, number>;
}

export type WebhookResult = Awaited<ReturnType<typeof measureWebhooks>>;

/** A Postgres database of its own (split roles share one store; SQLite serves ROLE=all only). */
export async function openDatabase(): Promise<{ url: string; close(): Promise<void> }> {
  const server = await startPostgresServer();
  const name = `${server.prefix}bench`;
  const admin = new pg.Client({ connectionString: server.url });
  await admin.connect();
  await admin.query(`CREATE DATABASE "${name}"`);
  await admin.end();
  const url = new URL(server.url);
  url.pathname = `/${name}`;
  return { url: url.toString(), close: () => server.stop() };
}

export async function measureWebhooks(address: string, client: Client, latencyMs: number) {
  const db = await openDatabase();
  const processes: WorkerProcess[] = [];
  let h: Harness | undefined;
  try {
    h = await startHarness({
      latencyMs,
      demo: { seed: 97, accounts: 1, months: 2, receipts: 100, sizes: { minBytes: 20_000, maxBytes: 200_000 } },
      // Qonto's own behaviour (2 % duplicates, out of order); http callbacks to the local API.
      qontoWebhooks: { allowHttpCallbacks: true },
      extraEnv: { DATABASE_URL: db.url, QONTO_WEBHOOK_SECRET: SECRET },
    });
    const { sims } = h;
    const qonto = countQontoRequests(h);
    const graphRequests = () => sims.graph.traffic.requests.graph + sims.graph.traffic.requests.upload;
    // The Graph simulator keeps its last requests only: count the 429s as they are recorded.
    let graph429 = 0;
    const graphLog = sims.graph.requestLog as RequestLogEntry[];
    const recordGraph = graphLog.push.bind(graphLog);
    graphLog.push = (...entries) => {
      for (const e of entries) if (e.status === 429) graph429 += 1;
      return recordGraph(...entries);
    };

    const taskQueue = `bench-webhooks-${Date.now().toString(36)}`;
    const common = { ...h.env, TEMPORAL_ADDRESS: address, TEMPORAL_TASK_QUEUE: taskQueue };
    const apiPort = await freePort();
    const apiBase = `http://127.0.0.1:${apiPort}`;
    processes.push(await startProductProcess({ ...common, ROLE: 'api', PORT: String(apiPort), PUBLIC_URL: apiBase }, 'Listening on port'));
    processes.push(await startWorkerProcess({ ...common, ...WORKER_RUNTIME, ROLE: 'worker', PORT: String(await freePort()) }));

    // The transactions the receipts will be attached to exist before the subscription (Qonto sends
    // no event for them here): the events measured are the receipts' alone.
    const data = sims.qonto.data;
    const account = data.bankAccounts()[0]!;
    const pay = (label: string, i: number): SimTransaction => data.addTransaction({ bankAccountId: account.id, amount: 5 + i, label, side: 'debit' });
    const singles = Array.from({ length: SINGLES }, (_, i) => pay(`Single ${i}`, i));
    const burst = Array.from({ length: BURST }, (_, i) => pay(`Burst ${i}`, i));
    data.addWebhookSubscription({ callbackUrl: `${apiBase}/webhooks/qonto`, types: [TRANSACTIONS_TYPE], secret: SECRET });

    const id = `webhooks-${Date.now().toString(36)}`;
    await h.connect(id, h.newUser(id));
    await startIntegration(client, taskQueue, { integrationId: id, syncFrom: '2015-01-01', timeZone: ZONE, settings: settingsFrom(h.config) });
    const handle = client.workflow.getHandle(workflowIdFor(id));
    const view = async (done: (v: IntegrationView) => boolean): Promise<IntegrationView> => {
      for (;;) {
        const v = await handle.query(statusQuery).catch(() => null);
        if (v && done(v)) return v;
        await sleep(100);
      }
    };
    const settled = (v: IntegrationView) => v.phase.startsWith('sleeping') && v.pendingChanges === 0;
    await view((v) => v.runNumber >= 1 && settled(v));
    const subscription = await h.services.store.getWebhookSubscription(id);
    if (subscription?.state !== 'manual') throw new Error(`the integration is not subscribed: ${JSON.stringify(subscription)}`);
    log(`backfill done; webhooks ${subscription.state}`);

    const store = h.services.store;
    const exported = async () => (await store.counts(id)).exported;
    const receipt = (tx: SimTransaction, i: number) =>
      data.attachReceipt(tx.id, { fileName: `receipt-${i}.pdf`, contentType: 'application/pdf', size: 20_000 + ((i * 7_919) % 180_000) });

    const measure = async (name: string, attach: () => Promise<Map<string, number>>): Promise<Load> => {
      const before = { view: await view(settled), exported: await exported(), qonto: qonto.total(), graph: graphRequests(), qonto429: sims.qonto.rateLimited(), graph429, deliveries: sims.qonto.webhooks.deliveries.length };
      const attachedAt = await attach();
      // One cheap query per poll (a query per receipt would load the machine being measured); the
      // latencies come from each row's verifiedAt, written when the upload was verified in the drive.
      while ((await exported()) < before.exported + attachedAt.size) await sleep(POLL_MS);
      const latencies: number[] = [];
      for (const [attachmentId, at] of attachedAt) {
        const entry = await store.getEntry(id, attachmentId);
        if (entry?.state !== 'uploaded' || !entry.verifiedAt) throw new Error(`${attachmentId} is ${entry?.state ?? 'unknown'}`);
        latencies.push((Date.parse(entry.verifiedAt) - at) / 1000);
      }
      await sims.qonto.webhooks.idle();
      const after = await view(settled);
      const deliveries = sims.qonto.webhooks.deliveries.slice(before.deliveries);
      const events = attachedAt.size;
      const load: Load = {
        events,
        p50Seconds: round(percentile(latencies, 50)),
        p95Seconds: round(percentile(latencies, 95)),
        maxSeconds: round(Math.max(...latencies)),
        runs: after.runNumber - before.view.runNumber,
        qonto429: sims.qonto.rateLimited() - before.qonto429,
        graph429: graph429 - before.graph429,
        qontoRequestsPerEvent: round((qonto.total() - before.qonto) / events),
        graphRequestsPerEvent: round((graphRequests() - before.graph) / events),
        deliveries: deliveries.length,
        failedDeliveries: deliveries.filter((d) => typeof d.status !== 'number' || d.status >= 300).length,
        answers: countBy(deliveries.map((d) => String(d.status))),
      };
      log(`${name}: ${JSON.stringify(load)}`);
      return load;
    };

    // 1. Single events, one at a time.
    const singleLatencies: number[] = [];
    const single = { events: 0, runs: 0, qonto429: 0, graph429: 0, qontoRequests: 0, graphRequests: 0, deliveries: 0, failedDeliveries: 0, answers: [] as string[] };
    for (const [i, tx] of singles.entries()) {
      const one = await measure(`single ${i + 1}/${SINGLES}`, async () => {
        const a = receipt(tx, i);
        return new Map([[a.id, Date.now()]]);
      });
      singleLatencies.push(one.p50Seconds);
      single.events += 1;
      single.runs += one.runs;
      single.qonto429 += one.qonto429;
      single.graph429 += one.graph429;
      single.qontoRequests += one.qontoRequestsPerEvent;
      single.graphRequests += one.graphRequestsPerEvent;
      single.deliveries += one.deliveries;
      single.failedDeliveries += one.failedDeliveries;
      for (const [status, n] of Object.entries(one.answers)) single.answers.push(...Array<string>(n).fill(status));
      await sleep(GAP_MS);
    }
    const singlesResult: Load = {
      events: single.events,
      p50Seconds: round(percentile(singleLatencies, 50)),
      p95Seconds: round(percentile(singleLatencies, 95)),
      maxSeconds: round(Math.max(...singleLatencies)),
      runs: single.runs,
      qonto429: single.qonto429,
      graph429: single.graph429,
      qontoRequestsPerEvent: round(single.qontoRequests / single.events),
      graphRequestsPerEvent: round(single.graphRequests / single.events),
      deliveries: single.deliveries,
      failedDeliveries: single.failedDeliveries,
      answers: countBy(single.answers),
    };

    // 2. A burst, attached in slices over about 2 s.
    const burstResult = await measure(`burst of ${BURST}`, async () => {
      const attachedAt = new Map<string, number>();
      const perSlice = Math.ceil(burst.length / BURST_SLICES);
      for (let from = 0; from < burst.length; from += perSlice) {
        for (const [j, tx] of burst.slice(from, from + perSlice).entries()) attachedAt.set(receipt(tx, from + j).id, Date.now());
        await sleep(BURST_SPREAD_MS / BURST_SLICES);
      }
      return attachedAt;
    });
    await handle.terminate('benchmark over');
    return { settings: { latencyMs, debounceAndRecheck: 'production defaults', pollMs: POLL_MS, gapMs: GAP_MS }, singles: singlesResult, burst: burstResult };
  } finally {
    for (const p of processes) await p.stop();
    await h?.close();
    await db.close();
  }
}

/** Rows for the benchmark's table, with the targets. */
export function webhookRows(w: WebhookResult): [string, string | number, string][] {
  const { singles: s, burst: b } = w;
  return [
    ['webhook single: p50 / p95 s', `${s.p50Seconds} / ${s.p95Seconds}`, `${s.events} receipts one at a time, max ${s.maxSeconds} s (target p95 < 90)`],
    ['webhook single: Qonto / Graph requests per event', `${s.qontoRequestsPerEvent} / ${s.graphRequestsPerEvent}`, `${s.runs} runs, 429s: Qonto ${s.qonto429}, Graph ${s.graph429}`],
    [`webhook burst of ${b.events}: p50 / p95 s`, `${b.p50Seconds} / ${b.p95Seconds}`, `max ${b.maxSeconds} s`],
    ['webhook burst: runs', b.runs, 'target ≤ 3'],
    ['webhook burst: 429s Qonto / Graph', `${b.qonto429} / ${b.graph429}`, 'target 0'],
    ['webhook burst: Qonto / Graph requests per event', `${b.qontoRequestsPerEvent} / ${b.graphRequestsPerEvent}`, `${b.deliveries} deliveries, answers ${JSON.stringify(b.answers)}`],
  ];
}
