/**
 * `npm run bench:fleet`: many integrations behind one Qonto egress address. A Postgres store, a
 * Temporal dev server, two `ROLE=worker` processes sharing the fleet budget (QONTO_RATE_LIMIT), and
 * the simulators with Qonto's per-IP limiter scaled down so that the budget, not the limiter, binds.
 * Measures the fleet's backfill and then one daily wave (with the product's spread), and writes
 * bench/results/fleet-<date>.json.
 *
 * Completion is read from Temporal visibility (executions closed as ContinuedAsNew and their close
 * times), one list every 5 s: a status query per workflow would replay the evicted ones and load the
 * workers being measured. Requests are the simulator's API arrivals (downloads and OAuth excluded, as
 * Qonto counts), 429s included.
 *
 * Settings (environment):
 *   BENCH_FLEET_INTEGRATIONS=1000          integrations, one organization each (0–20 receipts, 1–2 accounts)
 *   BENCH_FLEET_WORKERS=2                  ROLE=worker processes
 *   BENCH_FLEET_QONTO_LIMIT=300/10s,3000/10min  the simulator's per-IP limit
 *   BENCH_FLEET_BUDGET=270/10s,2700/10min  QONTO_RATE_LIMIT of the workers
 *   BENCH_FLEET_SPREAD_MINUTES=2           SYNC_SPREAD_MINUTES of the integrations
 *   BENCH_FLEET_NEW_SHARE=0.1              share of organizations with 1–3 new receipts on the measured day
 *   BENCH_FLEET_LATENCY_MS=30              added by the simulators before every answer
 *   BENCH_FLEET_SEED=42
 *   BENCH_FLEET_WAVE_MARGIN=1.4            the wave's minute: now + margin × the budget's time for the estimated backfill + 2 min
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { Client, Connection } from '@temporalio/client';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { parseRateLimit, type RateWindow } from '../src/budget/limits.js';
import { loadConfig } from '../src/config.js';
import { MIGRATION_NAMES } from '../src/store/migrations.js';
import { REPORT_FILE_NAMES } from '../src/sync/drive-reports.js';
import { parseSyncTime } from '../src/sync/schedule.js';
import { nextDailyRun, spreadOffsetMs } from '../src/sync/spread.js';
import { serverExecutable } from '../src/temporal/binaries.js';
import { settingsFrom, startIntegration } from '../src/temporal/integrations.js';
import { statusQuery, workflowIdFor } from '../workflows/messages.js';
import { expectedReceipts } from '../test/support/expectations.js';
import { dataConverter, freePort, startHarness, type Harness } from '../test/support/harness.js';
import { spawnProduct, type ProductProcess } from '../test/support/worker-process.js';
import { WORKER_RUNTIME, WorkerMemory } from './archive.js';
import { addNewReceipts, connectFleet, estimatedBackfillRequests, seedFleet, type FleetTenant } from './fleet-seed.js';
import {
  boundSeconds,
  burstAdjustedBoundSeconds,
  driveTally,
  dueTime,
  metricSum,
  peakInWindow,
  peaksBetween,
  percentile,
  phaseLine,
  runFailures,
  waveExecution,
} from './fleet-measure.js';
import { openDatabase } from './webhooks.js';

const env = process.env;
const INTEGRATIONS = Number(env.BENCH_FLEET_INTEGRATIONS ?? 1000);
const WORKERS = Number(env.BENCH_FLEET_WORKERS ?? 2);
const QONTO_LIMIT = env.BENCH_FLEET_QONTO_LIMIT ?? '300/10s,3000/10min';
const BUDGET = env.BENCH_FLEET_BUDGET ?? '270/10s,2700/10min';
const SPREAD_MINUTES = Number(env.BENCH_FLEET_SPREAD_MINUTES ?? 2);
const NEW_SHARE = Number(env.BENCH_FLEET_NEW_SHARE ?? 0.1);
const LATENCY_MS = Number(env.BENCH_FLEET_LATENCY_MS ?? 30);
const SEED = Number(env.BENCH_FLEET_SEED ?? 42);
const WAVE_MARGIN = Number(env.BENCH_FLEET_WAVE_MARGIN ?? 1.4);

const ZONE = 'Etc/UTC';
const SYNC_FROM = '2015-01-01';
const APP_FOLDER = 'Apps/Qonto Receipts';
const POLL_MS = 5_000;
const PARALLEL = 16;
/** A wave not over this long after its last due time is reported as stuck, not waited for forever. */
const WAVE_GIVE_UP_MS = 45 * 60_000;
const TEN_S = 10_000;
const TEN_MIN = 600_000;

const round = (n: number, digits = 2) => Math.round(n * 10 ** digits) / 10 ** digits;
const log = (message: string) => console.log(`[fleet ${new Date().toISOString().slice(11, 19)}] ${message}`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function windowOf(windows: RateWindow[], ms: number, what: string): number {
  const w = windows.find((x) => x.windowMs === ms);
  if (!w) throw new Error(`${what} needs a ${ms / 1000} s window`);
  return w.limit;
}

/** Runs `work` over `items`, `PARALLEL` at a time. */
async function inParallel<T, R>(items: readonly T[], work: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  const lane = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await work(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: PARALLEL }, lane));
  return out;
}

/** Settings the product may not know yet are left out (and listed in the result) rather than failing its start. */
function knownSettings(base: Record<string, string>, wanted: Record<string, string>): { known: Record<string, string>; unknown: string[] } {
  const known: Record<string, string> = {};
  const unknown: string[] = [];
  for (const [name, value] of Object.entries(wanted)) {
    try {
      loadConfig({ ...base, [name]: value });
      known[name] = value;
    } catch (error) {
      if (!String((error as Error).message).includes(`${name}: unknown setting`)) throw error;
      unknown.push(name);
    }
  }
  return { known, unknown };
}

interface Execution {
  workflowId: string;
  runId: string;
  startMs: number;
  closeMs: number;
  historyLength: number;
}

/** Executions of the task queue closed as ContinuedAsNew, by workflow id, oldest first. */
async function closedExecutions(client: Client, taskQueue: string): Promise<Map<string, Execution[]>> {
  const byWorkflow = new Map<string, Execution[]>();
  for await (const e of client.workflow.list({ query: `TaskQueue = '${taskQueue}' AND ExecutionStatus = 'ContinuedAsNew'` })) {
    const list = byWorkflow.get(e.workflowId) ?? [];
    list.push({ workflowId: e.workflowId, runId: e.runId, startMs: e.startTime.getTime(), closeMs: e.closeTime?.getTime() ?? Number.NaN, historyLength: e.historyLength });
    byWorkflow.set(e.workflowId, list);
  }
  for (const list of byWorkflow.values()) list.sort((a, b) => a.startMs - b.startMs);
  return byWorkflow;
}

/** Polls visibility until `pick` finds an execution for every workflow (or `giveUpAt`); returns what it found. */
async function waitForExecutions(
  client: Client,
  taskQueue: string,
  workflowIds: string[],
  pick: (id: string, executions: Execution[]) => Execution | undefined,
  giveUpAt: number,
): Promise<Map<string, Execution>> {
  for (;;) {
    const closed = await closedExecutions(client, taskQueue);
    const found = new Map<string, Execution>();
    for (const id of workflowIds) {
      const e = pick(id, closed.get(id) ?? []);
      if (e) found.set(id, e);
    }
    if (found.size === workflowIds.length || Date.now() > giveUpAt) return found;
    log(`${found.size}/${workflowIds.length} done`);
    await sleep(POLL_MS);
  }
}

/** What the simulator saw of one phase: API arrivals in `[fromMs, toMs]` and the 429s. */
function phaseTraffic(arrivals: readonly number[], fromMs: number, toMs: number, budget: RateWindow[], qonto429: number) {
  const times = arrivals.filter((t) => t >= fromMs && t <= toMs);
  const seconds = (toMs - fromMs) / 1000;
  const bound = boundSeconds(times.length, budget);
  const burstAdjusted = burstAdjustedBoundSeconds(times.length, { windows: budget });
  return {
    requests: times.length,
    seconds: round(seconds),
    boundSeconds: round(bound),
    ratio: round(bound / seconds, 3),
    burstAdjustedBoundSeconds: round(burstAdjusted),
    burstAdjustedRatio: round(burstAdjusted / seconds, 3),
    qonto429,
    peakPer10s: peakInWindow(times, TEN_S),
    peakPer10min: peakInWindow(times, TEN_MIN),
  };
}

/** Writes the result to bench/results/fleet-<date>.json; returns the file's path. */
function writeResult(result: { date: string } & Record<string, unknown>): string {
  mkdirSync('bench/results', { recursive: true });
  const file = `bench/results/fleet-${result.date.replace(/[:.]/g, '-')}.json`;
  writeFileSync(file, `${JSON.stringify(result, null, 2)}\n`);
  return file;
}

async function scrape(port: number): Promise<string> {
  const res = await fetch(`http://127.0.0.1:${port}/metrics`, { signal: AbortSignal.timeout(10_000) }).catch(() => null);
  return res?.ok ? res.text() : '';
}

/** A metric summed over the workers; the SDK's names carry a `_total` suffix or not by exporter. */
function workersSum(texts: string[], ...names: string[]): number {
  return texts.reduce((n, t) => n + names.reduce((m, name) => m + metricSum(t, name), 0), 0);
}

async function startWorker(common: Record<string, string>): Promise<{ process: ProductProcess; port: number; memory: WorkerMemory }> {
  const port = await freePort();
  const worker = spawnProduct({ ...common, ...WORKER_RUNTIME, ROLE: 'worker', PORT: String(port), LOG_LEVEL: 'warn' });
  await worker.healthy(port);
  // Ready once it polls: /readyz answers 200 from then on.
  for (let ok = false; !ok; await sleep(200)) {
    ok = await fetch(`http://127.0.0.1:${port}/readyz`).then((r) => r.ok, () => false);
  }
  return { process: worker, port, memory: new WorkerMemory(worker.child.pid!) };
}

/** Receipts missing from each integration's drive and files beyond one per receipt. */
async function receiptTally(h: Harness, tenants: FleetTenant[]): Promise<{ lost: number; duplicated: number }> {
  const reportNames = new Set(Object.values(REPORT_FILE_NAMES));
  const tallies = await inParallel(tenants, async (t) => {
    const expected = expectedReceipts(t.data, SYNC_FROM, ZONE).map((a) => a.id);
    const entries = new Map(await Promise.all(expected.map(async (id) => [id, (await h.services.store.getEntry(t.integrationId, id)) ?? undefined] as const)));
    let files: string[] = [];
    try {
      files = h.sims.graph
        .drive(t.user.id)
        .listFiles()
        .filter((f) => f.path.startsWith(`${APP_FOLDER}/`) && !reportNames.has(f.path.slice(f.path.lastIndexOf('/') + 1)))
        .map((f) => f.id);
    } catch {
      // no drive yet: nothing was uploaded
    }
    return driveTally(expected, entries, files);
  });
  return tallies.reduce((a, b) => ({ lost: a.lost + b.lost, duplicated: a.duplicated + b.duplicated }), { lost: 0, duplicated: 0 });
}

/** Failed and timed-out activities, and retried attempts, in the given executions' histories. */
async function activityFailures(client: Client, executions: Execution[]): Promise<{ failed: number; retries: number }> {
  const counts = await inParallel(executions, async (e) => {
    const history = await client.workflow.getHandle(e.workflowId, e.runId).fetchHistory();
    let failed = 0;
    let retries = 0;
    for (const event of history.events ?? []) {
      if (event.activityTaskFailedEventAttributes || event.activityTaskTimedOutEventAttributes) failed++;
      if ((event.activityTaskStartedEventAttributes?.attempt ?? 1) > 1) retries++;
    }
    return { failed, retries };
  });
  return counts.reduce((a, b) => ({ failed: a.failed + b.failed, retries: a.retries + b.retries }), { failed: 0, retries: 0 });
}

async function main(): Promise<void> {
  const qontoWindows = parseRateLimit(QONTO_LIMIT);
  const budget = parseRateLimit(BUDGET);
  const qontoLimit = { per10s: windowOf(qontoWindows, TEN_S, 'BENCH_FLEET_QONTO_LIMIT'), per10min: windowOf(qontoWindows, TEN_MIN, 'BENCH_FLEET_QONTO_LIMIT') };
  const budgetLimit = { per10s: windowOf(budget, TEN_S, 'BENCH_FLEET_BUDGET'), per10min: windowOf(budget, TEN_MIN, 'BENCH_FLEET_BUDGET') };

  const db = await openDatabase();
  const temporal = await TestWorkflowEnvironment.createLocal({ server: { executable: serverExecutable('cli') } });
  const client = new Client({ connection: await Connection.connect({ address: temporal.address }), dataConverter });
  const workers: Awaited<ReturnType<typeof startWorker>>[] = [];
  let h: Harness | undefined;
  try {
    h = await startHarness({
      qontoMode: 'oauth',
      demo: false,
      latencyMs: LATENCY_MS,
      qontoRateLimit: { perTenSeconds: qontoLimit.per10s, perTenMinutes: qontoLimit.per10min },
      qontoRecordArrivals: true,
      extraEnv: { DATABASE_URL: db.url },
    });
    // API arrivals as the limiter sees them, refused ones included (downloads and OAuth are not counted).
    const arrivals = h.sims.qonto.arrivals!;

    log(`seeding ${INTEGRATIONS} organizations`);
    const tenants = seedFleet(h, INTEGRATIONS, SEED);
    const seededAt = Date.now();
    await connectFleet(h, tenants);
    log(`${INTEGRATIONS} integrations signed in in ${round((Date.now() - seededAt) / 1000)} s`);

    const taskQueue = `fleet-${Date.now().toString(36)}`;
    const { known, unknown } = knownSettings(h.env, {
      QONTO_RATE_LIMIT: BUDGET,
      SYNC_SPREAD_MINUTES: String(SPREAD_MINUTES),
    });
    if (unknown.length > 0) log(`the product does not know ${unknown.join(', ')} yet: left out`);
    const common = { ...h.env, ...known, TEMPORAL_ADDRESS: temporal.address, TEMPORAL_TASK_QUEUE: taskQueue };
    for (let i = 0; i < WORKERS; i++) workers.push(await startWorker(common));
    log(`${WORKERS} workers polling ${taskQueue}`);

    // The wave's time: after the backfill the budget allows, with a margin, on a whole minute.
    // Without persisted download links an export on the worker that did not list looks each receipt
    // up again (GET /v2/attachments/{id}): about (workers − 1)/workers of them.
    const lookupsPerReceipt = MIGRATION_NAMES.includes('0014_download_links') ? 0 : (WORKERS - 1) / WORKERS;
    const estimate = estimatedBackfillRequests(tenants, lookupsPerReceipt);
    const startMs = Date.now();
    const waveAtMs = Math.ceil((startMs + WAVE_MARGIN * boundSeconds(estimate, budget) * 1000 + 120_000) / 60_000) * 60_000;
    const syncTime = new Date(waveAtMs).toISOString().slice(11, 16);
    const { hour, minute } = parseSyncTime(syncTime);
    const spread = { syncSpreadMinutes: SPREAD_MINUTES };
    const dues = new Map(tenants.map((t) => [t.integrationId, nextDailyRun(startMs, ZONE, hour, minute, spreadOffsetMs(t.integrationId, SPREAD_MINUTES))]));
    log(`backfill: about ${estimate} requests; wave at ${syncTime} UTC + up to ${SPREAD_MINUTES} min`);

    // 1. Backfill.
    const backfill429 = h.sims.qonto.rateLimited();
    const backfillStart = Date.now();
    await inParallel(tenants, (t) =>
      startIntegration(client, taskQueue, {
        integrationId: t.integrationId,
        syncFrom: SYNC_FROM,
        timeZone: ZONE,
        settings: { ...settingsFrom(h!.config), syncTime, ...spread },
      }),
    );
    const workflowIds = tenants.map((t) => workflowIdFor(t.integrationId));
    // SYNC_TIME is in each workflow's start input and carried across continue-as-new, so the wave's
    // time cannot move once the backfill runs. A backfill not over by the first due time has run into
    // the wave: the run stops there, failed, instead of waiting for a wave that cannot be measured.
    const firstPlannedDue = Math.min(...dues.values());
    const backfills = await waitForExecutions(client, taskQueue, workflowIds, (_, list) => list[0], firstPlannedDue);
    const backfillEnd = backfills.size === 0 ? Date.now() : Math.max(...[...backfills.values()].map((e) => e.closeMs));
    const backfill = phaseTraffic(arrivals, backfillStart, backfillEnd, budget, h.sims.qonto.rateLimited() - backfill429);
    log(`backfill: ${JSON.stringify(backfill)}`);
    if (backfills.size < INTEGRATIONS || backfillEnd >= firstPlannedDue) {
      const failures = [`the wave overlaps the backfill: ${INTEGRATIONS - backfills.size} backfill(s) still running at the first due time`];
      const file = writeResult({ date: new Date().toISOString(), integrations: INTEGRATIONS, workers: WORKERS, failures, backfill, budget: budgetLimit, waveOverlapsBackfill: true, estimatedBackfillRequests: estimate, settings: { qontoLimit: QONTO_LIMIT, budget: BUDGET, syncTime } });
      log(phaseLine('backfill (cut at the first due time)', backfill, `, ${backfills.size}/${INTEGRATIONS} done`));
      log(`FAILED: ${failures.join('; ')} (${file})`);
      process.exitCode = 1;
      return;
    }

    // The measured day's new receipts go in at once, before the status queries below (a thousand of them
    // take a while): a receipt attached after its integration's run has started belongs to the next day,
    // and would be counted lost.
    const newReceipts = addNewReceipts(tenants, NEW_SHARE, SEED);
    const newReceiptsAt = Date.now();
    // The backfill's outcome and the due times, from the workflows themselves: one status query each, once.
    const views = await inParallel(tenants, (t) => client.workflow.getHandle(workflowIdFor(t.integrationId)).query(statusQuery).catch(() => null));
    const backfillOutcomes: Record<string, number> = {};
    for (const v of views) {
      const outcome = v?.lastRun?.outcome ?? 'none';
      backfillOutcomes[outcome] = (backfillOutcomes[outcome] ?? 0) + 1;
    }
    const backfillNotCompleted = views.filter((v) => v?.lastRun?.outcome !== 'completed').length;
    // The product's nextDailyRun must agree with the time each workflow planned; lateness is measured
    // from the workflow's own time, so a disagreement shows here and does not skew it. After a backfill
    // that did not complete, nextRunAt is its retry time, not the wave's: the daily time stands (and the
    // run fails, below).
    const dueMismatches = tenants.flatMap((t, i) => {
      const v = views[i];
      const computed = dues.get(t.integrationId)!;
      if (v?.lastRun?.outcome !== 'completed') return [];
      const nextRunAt = v.nextRunAt ?? null;
      dues.set(t.integrationId, dueTime(computed, { outcome: v.lastRun.outcome, nextRunAt }));
      return nextRunAt !== null && Date.parse(nextRunAt) === computed ? [] : [{ id: t.integrationId, computed: new Date(computed).toISOString(), nextRunAt }];
    });
    if (backfillNotCompleted > 0) log(`${backfillNotCompleted} backfill(s) did not complete: ${JSON.stringify(backfillOutcomes)}`);
    if (dueMismatches.length > 0) log(`${dueMismatches.length} due times differ from the workflows' nextRunAt, e.g. ${JSON.stringify(dueMismatches.slice(0, 2))}`);

    const waveOverlapsBackfill = backfillEnd >= Math.min(...dues.values());
    const newReceiptsLate = newReceiptsAt >= Math.min(...dues.values());

    // 2. The measured day: the new receipts (added above, before the first due time), then the wave.
    log(`${newReceipts} new receipts; waiting for the wave`);
    const firstDue = Math.min(...dues.values());
    const lastDue = Math.max(...dues.values());
    const wave429 = h.sims.qonto.rateLimited();
    const waves = await waitForExecutions(
      client,
      taskQueue,
      workflowIds,
      // The execution that slept until the wave and ran it (whatever offset the workflow applied).
      (id, list) => waveExecution(list, backfills.get(id), waveAtMs),
      lastDue + WAVE_GIVE_UP_MS,
    );
    const waveEnd = Math.max(...[...waves.values()].map((e) => e.closeMs));
    const wave = phaseTraffic(arrivals, firstDue, waveEnd, budget, h.sims.qonto.rateLimited() - wave429);
    // Per phase alone misses a window spanning the backfill's end and the wave's start.
    const overall = peaksBetween(arrivals, backfillStart, waveEnd);
    const lateness = tenants.flatMap((t) => {
      const e = waves.get(workflowIdFor(t.integrationId));
      return e ? [(e.closeMs - dues.get(t.integrationId)!) / 1000] : [];
    });
    const failures = await activityFailures(client, [...waves.values()]);
    const events = [...waves.values()].map((e) => e.historyLength);
    const texts = await Promise.all(workers.map((w) => scrape(w.port)));
    const tally = await receiptTally(h, tenants);

    const result = {
      date: new Date().toISOString(),
      integrations: INTEGRATIONS,
      workers: WORKERS,
      qontoLimit,
      failures: runFailures({ integrations: INTEGRATIONS, backfillOutcomes, waveOverlapsBackfill, waveCompleted: waves.size, newReceiptsLate }),
      backfill,
      peakPer10sOverall: overall.per10s,
      peakPer10minOverall: overall.per10min,
      wave: {
        ...wave,
        latenessP50s: round(percentile(lateness, 50)),
        latenessP99s: round(percentile(lateness, 99)),
        failedActivities: failures.failed,
        activityRetries: failures.retries,
        completed: waves.size,
      },
      historyEventsPerIntegrationDay: round(events.reduce((a, b) => a + b, 0) / Math.max(1, events.length), 1),
      historyEventsMax: Math.max(0, ...events),
      workerRssMb: workers.map((w) => round(w.memory.peakMB(), 1)),
      workerRssAfterWaveMb: workers.map((w) => round(w.memory.rssMB(), 1)),
      receiptsLost: tally.lost,
      receiptsDuplicated: tally.duplicated,
      budget: budgetLimit,
      requestsPerIntegration: { backfill: round(backfill.requests / INTEGRATIONS), wave: round(wave.requests / INTEGRATIONS) },
      budgetRefusals: workersSum(texts, 'receipts_sync_rate_budget_refusals_total'),
      evictions: workersSum(texts, 'temporal_sticky_cache_total_forced_eviction', 'temporal_sticky_cache_total_forced_eviction_total'),
      waveOverlapsBackfill,
      backfillOutcomes,
      backfillNotCompleted,
      dueTimes: { checked: tenants.length, mismatches: dueMismatches.length, examples: dueMismatches.slice(0, 3) },
      newReceipts,
      estimatedBackfillRequests: estimate,
      qontoConnections: h.sims.qonto.connections(),
      settingsLeftOut: unknown,
      machine: { cpus: cpus().length, cpuModel: cpus()[0]?.model, memoryGiB: Math.round(totalmem() / 2 ** 30), node: process.version },
      settings: {
        qontoLimit: QONTO_LIMIT,
        budget: BUDGET,
        spreadMinutes: SPREAD_MINUTES,
        newShare: NEW_SHARE,
        latencyMs: LATENCY_MS,
        seed: SEED,
        waveMargin: WAVE_MARGIN,
        syncTime,
        workerRuntime: WORKER_RUNTIME,
        // The workers inherit this process's environment: their cache is this (the product's default when unset).
        maxCachedWorkflows: env.TEMPORAL_MAX_CACHED_WORKFLOWS ?? 'default',
        commit: headCommit(),
      },
    };
    const file = writeResult(result);
    console.log(JSON.stringify(result, null, 2));
    log(`written ${file}`);
    log(phaseLine('backfill', backfill, `, outcomes ${JSON.stringify(backfillOutcomes)}`));
    log(
      phaseLine(
        'wave',
        wave,
        `, lateness p50/p99 ${result.wave.latenessP50s}/${result.wave.latenessP99s} s, ${result.wave.completed}/${INTEGRATIONS} done, ${failures.failed} failed activities`,
      ),
    );
    log(`overall (backfill start → wave end): peaks ${overall.per10s}/10 s ${overall.per10min}/10 min (budget ${budgetLimit.per10s}/${budgetLimit.per10min})`);
    log(`lost ${tally.lost}, duplicated ${tally.duplicated}, worker peak RSS ${result.workerRssMb.join('/')} MB, budget refusals ${result.budgetRefusals}`);
    if (result.failures.length > 0) {
      log(`FAILED: ${result.failures.join('; ')}`);
      process.exitCode = 1;
    }
  } finally {
    for (const w of workers) await w.process.terminate();
    await h?.close();
    await client.connection.close();
    await temporal.teardown();
    await db.close();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});

/** The commit measured (with `+changes` when the work tree differs from it), or null outside a git checkout. */
function headCommit(): string | null {
  try {
    const commit = execFileSync('git', ['rev-parse', 'HEAD'], { encoding: 'utf8' }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], { encoding: 'utf8' }).trim() !== '';
    return dirty ? `${commit}+changes` : commit;
  } catch {
    return null;
  }
}
