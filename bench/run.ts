/**
 * `npm run bench`: a Temporal dev server, the simulators with a per-request latency and the product's
 * worker as its own process. Measures, on one seeded archive: the backfill against the latency bound
 * and against a naive exporter, Temporal history per receipt, a daily run with nothing new, memory
 * (backfill, one big upload), and a backfill under Microsoft throttling; then the daily run and the
 * history again on an archive four times larger; then receipts announced by Qonto's webhooks
 * (bench/webhooks.ts). Prints a table, writes bench/results/<date>.json.
 *
 * Settings (environment):
 *   BENCH_RECEIPTS=5000         receipts in the archive (sizes 20 kB–2 MB log-uniform, 0.2 % of 20 MB)
 *   BENCH_LATENCY_MS=30         added by the simulators before every answer (Qonto and Graph)
 *   BENCH_NAIVE_RECEIPTS=1000   receipts the naive exporter copies (an even sample; its time is scaled
 *                               to the whole archive); "all" for every one
 *   BENCH_THROTTLED_RECEIPTS=300  size of the backfill run with 10 % of Graph requests answered 429
 *   BENCH_BIG_FILE_MB=200       the single large upload whose memory is measured
 *   BENCH_LARGER=4              the second archive's size, in multiples of BENCH_RECEIPTS (0: skip it)
 *   BENCH_WORKER_DEFAULTS=1     run the worker without the proposed runtime settings (bench/archive.ts)
 *   BENCH_ONLY=webhooks         only the webhook section (`npm run bench:webhooks`; its settings are in
 *                               bench/webhooks.ts)
 *   BENCH_ONLY=backfill         only the backfill: ratio, peak RSS, CPU, activity phases and timeline
 *   BENCH_WORKER_DIST=1         run the compiled worker (dist/src/main.js, as the Docker image): `npm run build` first
 *   BENCH_WORKER_NODE_OPTIONS   appended to the worker's NODE_OPTIONS (e.g. --trace-gc)
 *   BENCH_WORKER_EXEC_ARGV      flags Node refuses in NODE_OPTIONS, on the worker's command line (--cpu-prof --cpu-prof-dir=…)
 *   BENCH_SIM_STORAGE           where the simulated drive keeps its files (default /dev/shm when present, else the
 *                               temp folder; bench/archive.ts says why)
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { Client, Connection } from '@temporalio/client';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { DEFAULT_UPLOAD_CONCURRENCY } from '../activities/deps.js';
import type { ReceiptSizes } from '../src/simulators/qonto/demo.js';
import { serverExecutable } from '../src/temporal/binaries.js';
import { settingsFrom } from '../src/temporal/integrations.js';
import { dataConverter } from '../test/support/harness.js';
import { expectedReceipts } from '../test/support/expectations.js';
import { BenchIntegration, WORKER_RUNTIME, openArchive, trafficSince, type Archive } from './archive.js';
import { naiveExport } from './naive-exporter.js';
import { measureWebhooks, webhookRows, type WebhookResult } from './webhooks.js';

const RECEIPTS = Number(process.env.BENCH_RECEIPTS ?? 5000);
const LATENCY_MS = Number(process.env.BENCH_LATENCY_MS ?? 30);
const NAIVE_SETTING = process.env.BENCH_NAIVE_RECEIPTS ?? '1000';
const NAIVE_RECEIPTS = NAIVE_SETTING === 'all' ? RECEIPTS : Math.min(RECEIPTS, Number(NAIVE_SETTING));
const THROTTLED_RECEIPTS = Number(process.env.BENCH_THROTTLED_RECEIPTS ?? 300);
const BIG_FILE_BYTES = Number(process.env.BENCH_BIG_FILE_MB ?? 200) * 2 ** 20;
const LARGER = Number(process.env.BENCH_LARGER ?? 4);
const ONLY = process.env.BENCH_ONLY?.trim() || null;
if (ONLY !== null && ONLY !== 'webhooks' && ONLY !== 'backfill') throw new Error(`BENCH_ONLY=${ONLY}: only "webhooks" or "backfill" can run alone`);

const SIZES: ReceiptSizes = { minBytes: 20_000, maxBytes: 2_000_000, largeBytes: 20_000_000, largeShare: 0.002 };
/** The larger archive only measures costs that do not depend on file sizes: small files keep it quick. */
const SMALL_SIZES: ReceiptSizes = { minBytes: 1_000, maxBytes: 4_000 };
const THROTTLE = { fraction: 0.1, retryAfterSec: 1, seed: 7 };
/** A request arriving this soon after a 429 was written crossed it on the way: it was sent before the
 * worker's event loop had read the 429, or it waited that long for the simulator's loop to notice it
 * (both processes share two loaded cores). A client ignoring the window keeps sending through all of
 * its 1,000 ms. test/unit/graph-throttle.test.ts uses the same bound. */
const IN_FLIGHT_MS = 100;
const ZONE = 'Europe/Paris';
const SYNC_FROM = '2015-01-01';
const MB = 2 ** 20;

const round = (n: number, digits = 2) => Math.round(n * 10 ** digits) / 10 ** digits;
const seconds = (since: number) => (performance.now() - since) / 1000;
const log = (message: string) => console.log(`[bench ${new Date().toISOString().slice(11, 19)}] ${message}`);

async function main(): Promise<void> {
  const env = await TestWorkflowEnvironment.createLocal({ server: { executable: serverExecutable('cli') } });
  const client = new Client({ connection: await Connection.connect({ address: env.address }), dataConverter });
  try {
    if (ONLY === 'webhooks') {
      const webhooks = await measureWebhooks(env.address, client, LATENCY_MS);
      write({ date: new Date().toISOString(), machine: machine(), webhooks }, webhookRows(webhooks));
      return;
    }
    const a = await openArchive({ address: env.address, receipts: RECEIPTS, sizes: SIZES, latencyMs: LATENCY_MS, seed: 99 });
    if (ONLY === 'backfill') {
      try {
        const backfill = await measureBackfill(a, client);
        write({ date: new Date().toISOString(), machine: machine(), load: loadavg(), workerRuntime: WORKER_RUNTIME, simStorage: a.simStorage, backfill }, [
          ['ratio to latency bound', backfill.ratioToBound, `${backfill.seconds} s, bound ${backfill.boundReceiptsPerSecond}/s`],
          ['worker peak RSS in backfill (MB)', backfill.peakRssMB, `at start ${backfill.startupPeakMB}`],
        ]);
      } finally {
        await a.close();
      }
      return;
    }
    let measured: Awaited<ReturnType<typeof measureArchive>>;
    try {
      measured = await measureArchive(a, client);
    } finally {
      await a.close();
    }
    const larger = LARGER > 0 ? await measureLargerArchive(env.address, client) : null;
    const webhooks = await measureWebhooks(env.address, client, LATENCY_MS);
    report(measured, larger, webhooks);
  } finally {
    await client.connection.close();
    await env.teardown();
  }
}

async function measureArchive(a: Archive, client: Client) {
  const expected = expectedReceipts(a.h.sims.qonto.data, SYNC_FROM, ZONE);
  const bytes = expected.reduce((n, r) => n + r.size, 0);
  log(`archive: ${expected.length} receipts, ${round(bytes / MB, 0)} MB, ${expected.filter((r) => r.size >= SIZES.largeBytes!).length} of 20 MB`);

  // 1. Backfill.
  const engine = await BenchIntegration.connect(a, client, 'engine');
  const before = a.traffic();
  const startupPeakMB = a.memory.peakMB();
  a.memory.resetPeak();
  const started = performance.now();
  const backfill = await engine.backfill(SYNC_FROM, ZONE);
  const backfillSeconds = seconds(started);
  const backfillPeakMB = a.memory.peakMB();
  const traffic = trafficSince(before, a.traffic());
  const counters = a.h.sims.graph.drive(engine.user.id).counters;
  log(`backfill: ${backfill.lastRun?.exported} exported in ${round(backfillSeconds)} s (${backfill.lastRun?.outcome})`);

  // The latency bound: requests each receipt waits for one after the other (link look-up, download,
  // upload requests), times the latency, shared by the uploads in flight.
  const chained = traffic.qontoAttachmentLookups + traffic.qontoDownloads + counters.simpleUploads + counters.createUploadSession + counters.uploadFragments;
  const requestsPerReceipt = chained / expected.length;
  const boundPerSecond = DEFAULT_UPLOAD_CONCURRENCY / ((requestsPerReceipt * LATENCY_MS) / 1000);
  const history = await engine.historyEvents();
  const phases = await engine.activityTimes();
  log(`backfill phases: ${JSON.stringify(phases)}`);

  // 2. Daily runs with nothing new: the first also reads the backfill's own uploads back from the
  // drive's change feed (once); the second is what every later day costs.
  const firstDaily = await dailyRun(a, engine);
  const daily = await dailyRun(a, engine);

  // 3. The naive exporter on the same data, into another user's drive.
  const naiveIntegration = await BenchIntegration.connect(a, client, 'naive');
  const every = Math.max(1, Math.floor(expected.length / NAIVE_RECEIPTS));
  const naive = await naiveExport({
    qontoUrl: a.h.env.QONTO_API_URL!,
    qontoLogin: a.h.env.QONTO_API_LOGIN!,
    qontoSecret: a.h.env.QONTO_API_SECRET!,
    graphUrl: a.h.env.GRAPH_URL!,
    accessToken: () => a.h.services.microsoftAuth.getAccessToken(naiveIntegration.id),
    folder: 'naive',
    pick: (index) => index % every === 0,
  });
  const naiveSeconds = naive.listSeconds + (naive.exportSeconds * naive.listed) / naive.exported;
  log(`naive: ${naive.exported} of ${naive.listed} in ${round(naive.listSeconds + naive.exportSeconds)} s → ${round(naiveSeconds)} s for all`);

  // 4. Throttling: 10 % of Graph requests (API and upload host) answered 429 with Retry-After: 1.
  const recent = expected.map((r) => a.h.sims.qonto.data.transaction(r.transactionId)!.emittedAt).sort().reverse();
  const throttledFrom = recent[Math.min(recent.length, THROTTLED_RECEIPTS) - 1]!.slice(0, 10);
  const throttled = await BenchIntegration.connect(a, client, 'throttled');
  const { faults } = a.h.sims.graph;
  const servedBefore = faults.served;
  const windowsBefore = { ...a.h.sims.graph.throttling, sinceAnnouncementMs: [...a.h.sims.graph.throttling.sinceAnnouncementMs] };
  const graphBefore = a.traffic();
  const rule = faults.addRandom({}, { kind: 'status', status: 429, retryAfterSec: THROTTLE.retryAfterSec }, THROTTLE);
  const throttledStarted = performance.now();
  const throttledView = await throttled.backfill(throttledFrom, ZONE);
  const throttledSeconds = seconds(throttledStarted);
  faults.remove(rule);
  const throttledTraffic = trafficSince(graphBefore, a.traffic());
  const windows = a.h.sims.graph.throttling;
  const lateness = windows.sinceAnnouncementMs.slice(windowsBefore.sinceAnnouncementMs.length);
  const afterItCouldKnow = lateness.filter((ms) => ms >= IN_FLIGHT_MS).length;
  await throttled.terminate();
  log(`throttled: ${throttledView.lastRun?.exported} in ${round(throttledSeconds)} s, ${lateness.length} requests arrived in back-off windows (ms after the 429: ${lateness.join(', ')})`);

  // 5. One big upload: what it adds to the worker's memory.
  const bigTransaction = a.h.sims.qonto.data.addTransaction({ bankAccountId: a.h.sims.qonto.data.bankAccounts()[0]!.id, amount: 99, label: 'Big scan' });
  a.h.sims.qonto.data.attachReceipt(bigTransaction.id, { fileName: 'big-scan.pdf', contentType: 'application/pdf', size: BIG_FILE_BYTES });
  await new Promise((r) => setTimeout(r, 2_000)); // let the worker settle before taking its baseline
  const bigBaselineMB = a.memory.rssMB();
  a.memory.resetPeak();
  const bigStarted = performance.now();
  const big = await engine.syncNow();
  const bigSeconds = seconds(bigStarted);
  const bigPeakMB = a.memory.peakMB();
  log(`big file: ${big.lastRun?.exported} exported in ${round(bigSeconds)} s, RSS ${round(bigBaselineMB)} → peak ${round(bigPeakMB)} MB`);
  await engine.terminate();

  return {
    machine: machine(),
    settings: {
      receipts: expected.length,
      latencyMs: LATENCY_MS,
      uploadConcurrency: DEFAULT_UPLOAD_CONCURRENCY,
      batchSize: settingsFrom(a.h.config).batchSize,
      sizes: SIZES,
      workerRuntime: WORKER_RUNTIME,
      simStorage: a.simStorage,
    },
    backfill: {
      seconds: round(backfillSeconds),
      exported: backfill.lastRun?.exported ?? 0,
      failed: backfill.lastRun?.failed ?? 0,
      outcome: backfill.lastRun?.outcome,
      megabytes: round(bytes / MB),
      receiptsPerSecond: round(expected.length / backfillSeconds),
      megabytesPerSecond: round(bytes / MB / backfillSeconds),
      requestsPerReceiptInChain: round(requestsPerReceipt, 3),
      boundReceiptsPerSecond: round(boundPerSecond),
      ratioToBound: round(expected.length / backfillSeconds / boundPerSecond),
      traffic,
    },
    naive: {
      receiptsCopied: naive.exported,
      listed: naive.listed,
      listSeconds: round(naive.listSeconds),
      copySeconds: round(naive.exportSeconds),
      secondsForAll: round(naiveSeconds),
      receiptsPerSecond: round(naive.exported / naive.exportSeconds),
      engineSpeedup: round(naiveSeconds / backfillSeconds, 1),
    },
    temporal: {
      executions: history.length,
      historyEvents: history.reduce((n, e) => n + e, 0),
      historyEventsPer100Receipts: round((history.reduce((n, e) => n + e, 0) / expected.length) * 100),
      largestHistory: Math.max(...history),
    },
    daily: { ...daily, firstAfterBackfill: firstDaily },
    memory: {
      workerPeakRssAtStartMB: round(startupPeakMB),
      workerPeakRssDuringBackfillMB: round(backfillPeakMB),
      bigFileMB: round(BIG_FILE_BYTES / MB),
      bigFileSeconds: round(bigSeconds),
      rssBeforeBigFileMB: round(bigBaselineMB),
      peakRssDuringBigFileMB: round(bigPeakMB),
      bigFileAddsMB: round(bigPeakMB - bigBaselineMB),
    },
    throttling: {
      fractionAnswered429: THROTTLE.fraction,
      retryAfterSec: THROTTLE.retryAfterSec,
      exported: throttledView.lastRun?.exported ?? 0,
      seconds: round(throttledSeconds),
      receiptsPerSecond: round((throttledView.lastRun?.exported ?? 0) / throttledSeconds),
      answered429: faults.served - servedBefore,
      graphRequests: throttledTraffic.graphRequests + throttledTraffic.uploadHostRequests,
      backoffWindows: windows.windows - windowsBefore.windows,
      requestsArrivingInBackoffWindows: windows.requestsInWindows - windowsBefore.requestsInWindows,
      requestsSentDuringBackoff: afterItCouldKnow,
      msAfterAnnouncement: lateness,
    },
  };
}

/** BENCH_ONLY=backfill: only the backfill, its ratio, its phases and the worker's peak RSS. */
async function measureBackfill(a: Archive, client: Client) {
  const expected = expectedReceipts(a.h.sims.qonto.data, SYNC_FROM, ZONE);
  const bytes = expected.reduce((n, r) => n + r.size, 0);
  const engine = await BenchIntegration.connect(a, client, 'engine');
  const before = a.traffic();
  const startupPeakMB = a.memory.peakMB();
  a.memory.resetPeak();
  const loadBefore = loadavg();
  const workerCpuBefore = a.memory.cpuSeconds();
  const benchCpuBefore = process.cpuUsage();
  const started = performance.now();
  const backfill = await engine.backfill(SYNC_FROM, ZONE);
  const backfillSeconds = seconds(started);
  const peakRssMB = a.memory.peakMB();
  const workerCpuSeconds = a.memory.cpuSeconds() - workerCpuBefore;
  const benchCpu = process.cpuUsage(benchCpuBefore);
  const traffic = trafficSince(before, a.traffic());
  const counters = a.h.sims.graph.drive(engine.user.id).counters;
  const chained = traffic.qontoAttachmentLookups + traffic.qontoDownloads + counters.simpleUploads + counters.createUploadSession + counters.uploadFragments;
  const requestsPerReceipt = chained / expected.length;
  const boundPerSecond = DEFAULT_UPLOAD_CONCURRENCY / ((requestsPerReceipt * LATENCY_MS) / 1000);
  const phases = await engine.activityTimes();
  const timeline = await engine.activityTimeline();
  await engine.terminate();
  const result = {
    receipts: expected.length,
    megabytes: round(bytes / MB),
    seconds: round(backfillSeconds),
    exported: backfill.lastRun?.exported ?? 0,
    outcome: backfill.lastRun?.outcome,
    requestsPerReceiptInChain: round(requestsPerReceipt, 3),
    boundReceiptsPerSecond: round(boundPerSecond),
    ratioToBound: round(expected.length / backfillSeconds / boundPerSecond),
    startupPeakMB: round(startupPeakMB),
    peakRssMB: round(peakRssMB),
    loadBefore,
    loadAfter: loadavg(),
    // CPU of the worker, and of this process (the simulators), during the backfill.
    workerCpuSeconds: round(workerCpuSeconds),
    simulatorsCpuSeconds: round((benchCpu.user + benchCpu.system) / 1e6),
    traffic,
    phases,
    timeline,
  };
  log(`backfill: ${JSON.stringify({ ...result, timeline: undefined })}`);
  return result;
}

async function dailyRun(a: Archive, integration: BenchIntegration) {
  const before = a.traffic();
  const started = performance.now();
  const view = await integration.syncNow();
  const t = trafficSince(before, a.traffic());
  return {
    seconds: round(seconds(started)),
    exported: view.lastRun?.exported ?? 0,
    qontoRequests: t.qontoApi + t.qontoDownloads,
    graphRequests: t.graphRequests + t.uploadHostRequests,
  };
}

async function measureLargerArchive(address: string, client: Client) {
  const a = await openArchive({ address, receipts: RECEIPTS * LARGER, sizes: SMALL_SIZES, latencyMs: LATENCY_MS, seed: 98 });
  try {
    const expected = expectedReceipts(a.h.sims.qonto.data, SYNC_FROM, ZONE);
    const integration = await BenchIntegration.connect(a, client, 'larger');
    const started = performance.now();
    const view = await integration.backfill(SYNC_FROM, ZONE);
    const backfillSeconds = seconds(started);
    log(`larger archive: ${view.lastRun?.exported} exported in ${round(backfillSeconds)} s`);
    const history = await integration.historyEvents();
    const firstDaily = await dailyRun(a, integration);
    const daily = await dailyRun(a, integration);
    await integration.terminate();
    return {
      receipts: expected.length,
      backfillSeconds: round(backfillSeconds),
      receiptsPerSecond: round(expected.length / backfillSeconds),
      historyEvents: history.reduce((n, e) => n + e, 0),
      largestHistory: Math.max(...history),
      daily: { ...daily, firstAfterBackfill: firstDaily },
    };
  } finally {
    await a.close();
  }
}

function machine() {
  return { cpus: cpus().length, cpuModel: cpus()[0]?.model, memoryGiB: Math.round(totalmem() / 2 ** 30), node: process.version };
}

/** Writes bench/results/<date>.json and prints the table. */
function write(result: { date: string } & Record<string, unknown>, rows: [string, string | number, string][]): void {
  mkdirSync('bench/results', { recursive: true });
  const file = `bench/results/${result.date.replace(/[:.]/g, '-')}.json`;
  writeFileSync(file, `${JSON.stringify(result, null, 2)}\n`);
  console.table(Object.fromEntries(rows.map(([name, value, note]) => [name, { value, note }])));
  console.log(`written ${file}`);
}

function report(m: Awaited<ReturnType<typeof measureArchive>>, larger: Awaited<ReturnType<typeof measureLargerArchive>> | null, webhooks: WebhookResult): void {
  // History grows linearly with receipts (a fixed part per run, a part per batch): fit it on the two
  // archives and extrapolate to a backfill of 100,000 receipts in one execution.
  const slope = larger ? (larger.largestHistory - m.temporal.largestHistory) / (larger.receipts - m.settings.receipts) : null;
  const fixed = slope === null ? null : m.temporal.largestHistory - slope * m.settings.receipts;
  const for100k = slope === null || fixed === null ? null : Math.round(fixed + slope * 100_000);
  const result = {
    date: new Date().toISOString(),
    ...m,
    temporal: { ...m.temporal, eventsPerReceipt: slope === null ? null : round(slope, 4), fixedEventsPerRun: fixed === null ? null : Math.round(fixed), largestHistoryFor100kReceipts: for100k },
    larger,
    webhooks,
  };

  const th = m.throttling;
  const rows: [string, string | number, string][] = [
    ['backfill receipts/s', m.backfill.receiptsPerSecond, `${m.backfill.exported} receipts, ${m.backfill.megabytes} MB in ${m.backfill.seconds} s`],
    ['backfill MB/s', m.backfill.megabytesPerSecond, ''],
    ['ratio to latency bound', m.backfill.ratioToBound, `bound ${m.backfill.boundReceiptsPerSecond}/s: ${m.settings.uploadConcurrency} in flight, ${m.backfill.requestsPerReceiptInChain} requests × ${m.settings.latencyMs} ms per receipt (target ≥ 0.7)`],
    ['speed-up over naive exporter', m.naive.engineSpeedup, `naive ${m.naive.receiptsPerSecond} receipts/s, ${m.naive.secondsForAll} s for all (${m.naive.receiptsCopied} copied) (target ≥ 10)`],
    ['history events / 100 receipts', m.temporal.historyEventsPer100Receipts, `${m.temporal.historyEvents} events in ${m.temporal.executions} executions (target ≤ 10)`],
    ['largest history', m.temporal.largestHistory, larger ? `${larger.largestHistory} at ${larger.receipts} receipts` : ''],
    ['largest history at 100k receipts', for100k ?? 'n/a', slope === null ? '' : `${round(slope, 4)} events/receipt + ${Math.round(fixed!)} per run (limit 50,000)`],
    ['daily run, nothing new: Qonto / Graph requests', `${m.daily.qontoRequests} / ${m.daily.graphRequests}`, `${m.settings.receipts} receipts, ${m.daily.seconds} s (first after the backfill: ${m.daily.firstAfterBackfill.qontoRequests} / ${m.daily.firstAfterBackfill.graphRequests})`],
    ...(larger
      ? [['same at the larger archive', `${larger.daily.qontoRequests} / ${larger.daily.graphRequests}`, `${larger.receipts} receipts, ${larger.daily.seconds} s (first after the backfill: ${larger.daily.firstAfterBackfill.qontoRequests} / ${larger.daily.firstAfterBackfill.graphRequests})`] as [string, string, string]]
      : []),
    ['worker peak RSS in backfill (MB)', m.memory.workerPeakRssDuringBackfillMB, 'target < 300'],
    [`${m.memory.bigFileMB} MB upload adds (MB)`, m.memory.bigFileAddsMB, `${m.memory.rssBeforeBigFileMB} → ${m.memory.peakRssDuringBigFileMB} MB, ${m.memory.bigFileSeconds} s (target < 50)`],
    ['throttled: receipts/s', th.receiptsPerSecond, `${th.exported} receipts, ${th.answered429} answers 429 of ${th.graphRequests} Graph requests`],
    ['throttled: requests sent in back-off windows', th.requestsSentDuringBackoff, `${th.backoffWindows} windows; ${th.requestsArrivingInBackoffWindows - th.requestsSentDuringBackoff} more crossed a 429 on the way (< ${IN_FLIGHT_MS} ms) (target 0)`],
    ...webhookRows(webhooks),
  ];
  write(result, rows);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
