/**
 * `npm run bench`: the real worker (a separate process, as `npm start` runs it), a Temporal dev server
 * and the simulators with a per-request latency; measures the backfill and a daily run with nothing
 * new. Settings: BENCH_RECEIPTS (default 5000), BENCH_LATENCY_MS (default 30).
 * Writes bench/results/<date>.json and prints a table.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { Client, Connection } from '@temporalio/client';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { statusQuery, syncNowSignal, workflowIdFor } from '../workflows/messages.js';
import type { IntegrationView } from '../workflows/state.js';
import { serverExecutable } from '../src/temporal/binaries.js';
import { settingsFrom, startIntegration } from '../src/temporal/integrations.js';
import { expectedReceipts } from '../test/support/expectations.js';
import { startHarness } from '../test/support/harness.js';
import { startWorkerProcess } from '../test/support/worker-process.js';

const RECEIPTS = Number(process.env.BENCH_RECEIPTS ?? 5000);
const LATENCY_MS = Number(process.env.BENCH_LATENCY_MS ?? 30);
const UPLOAD_CONCURRENCY = 2;
const ZONE = 'Europe/Paris';
const SYNC_FROM = '2015-01-01';
const ID = `bench-${Date.now().toString(36)}`;

function rssOf(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) * 1024;
}

async function main(): Promise<void> {
  const env = await TestWorkflowEnvironment.createLocal({ server: { executable: serverExecutable('cli') } });
  const h = await startHarness({ latencyMs: LATENCY_MS, demo: { seed: 99, accounts: 2, months: 12, receipts: RECEIPTS } });
  const client = new Client({ connection: await Connection.connect({ address: env.address }) });
  const workerEnv = { ...h.env, TEMPORAL_ADDRESS: env.address, TEMPORAL_TASK_QUEUE: `tq-${ID}` };
  const worker = await startWorkerProcess(workerEnv);
  let peakRss = 0;
  const sampler = setInterval(() => {
    try {
      peakRss = Math.max(peakRss, rssOf(worker.child.pid!));
    } catch {
      // the worker exited
    }
  }, 100);

  const user = h.sims.users.personal;
  await h.connect(ID, user);
  const expected = expectedReceipts(h.sims.qonto.data, SYNC_FROM, ZONE);
  const bytes = expected.reduce((n, a) => n + a.size, 0);
  const handle = client.workflow.getHandle(workflowIdFor(ID));
  const waitFor = async (done: (v: IntegrationView) => boolean) => {
    for (;;) {
      try {
        const v = await handle.query(statusQuery);
        if (done(v)) return v;
      } catch {
        // between continue-as-new and the next run's first task
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  };

  const started = performance.now();
  await startIntegration(client, workerEnv.TEMPORAL_TASK_QUEUE, { integrationId: ID, syncFrom: SYNC_FROM, timeZone: ZONE, settings: settingsFrom(h.config) });
  const backfill = await waitFor((v) => v.runNumber >= 1 && v.lastRun !== null && v.phase.startsWith('sleeping'));
  const backfillSeconds = (performance.now() - started) / 1000;

  // Temporal cost: every execution of the backfill chain.
  let historyEvents = 0;
  let largestHistory = 0;
  for await (const execution of client.workflow.list({ query: `WorkflowId = '${workflowIdFor(ID)}'` })) {
    const events = (await client.workflow.getHandle(execution.workflowId, execution.runId).fetchHistory()).events?.length ?? 0;
    historyEvents += events;
    largestHistory = Math.max(largestHistory, events);
  }

  // A daily run with nothing new: requests made to each service.
  const graphLogBefore = h.sims.graph.requestLog.at(-1);
  const qontoLogBefore = h.sims.qonto.requests.at(-1);
  const dailyStarted = performance.now();
  await handle.signal(syncNowSignal);
  const daily = await waitFor((v) => v.runNumber >= 2 && v.phase.startsWith('sleeping'));
  const dailySeconds = (performance.now() - dailyStarted) / 1000;
  const after = <T>(log: readonly T[], last: T | undefined) => log.length - 1 - (last === undefined ? -1 : log.lastIndexOf(last));
  const dailyGraphRequests = after(h.sims.graph.requestLog, graphLogBefore);
  const dailyQontoRequests = after(h.sims.qonto.requests, qontoLogBefore);

  clearInterval(sampler);
  // Per receipt at least: fetch the attachment, download it, upload it (more for sessions and folders).
  const boundPerSecond = UPLOAD_CONCURRENCY / ((3 * LATENCY_MS) / 1000);
  const result = {
    date: new Date().toISOString(),
    machine: { cpus: cpus().length, cpuModel: cpus()[0]?.model, memoryGiB: Math.round(totalmem() / 2 ** 30), node: process.version },
    settings: { receipts: expected.length, latencyMs: LATENCY_MS, uploadConcurrency: UPLOAD_CONCURRENCY, batchSize: settingsFrom(h.config).batchSize },
    backfill: {
      seconds: round(backfillSeconds),
      receiptsPerSecond: round(expected.length / backfillSeconds),
      megabytesPerSecond: round(bytes / 2 ** 20 / backfillSeconds),
      boundReceiptsPerSecond: round(boundPerSecond),
      ratioToBound: round(expected.length / backfillSeconds / boundPerSecond),
      exported: backfill.counts.exported,
    },
    temporal: {
      historyEventsPer100Receipts: round((historyEvents / expected.length) * 100),
      largestHistory,
      extrapolatedLargestHistoryFor100k: 'bounded: continue-as-new when suggested (4k events) or after every run',
    },
    daily: { seconds: round(dailySeconds), graphRequests: dailyGraphRequests, qontoRequests: dailyQontoRequests, exported: daily.lastRun?.exported ?? 0 },
    memory: { workerPeakRssMB: round(peakRss / 2 ** 20) },
  };
  const file = `bench/results/${result.date.replace(/[:.]/g, '-')}.json`;
  writeFileSync(file, `${JSON.stringify(result, null, 2)}\n`);
  console.table({
    'backfill receipts/s': result.backfill.receiptsPerSecond,
    'backfill MB/s': result.backfill.megabytesPerSecond,
    'ratio to latency bound': result.backfill.ratioToBound,
    'history events / 100 receipts': result.temporal.historyEventsPer100Receipts,
    'largest history': result.temporal.largestHistory,
    'daily run (nothing new) s': result.daily.seconds,
    'daily run Graph requests': result.daily.graphRequests,
    'daily run Qonto requests': result.daily.qontoRequests,
    'worker peak RSS MB': result.memory.workerPeakRssMB,
  });
  console.log(`written ${file}`);

  await handle.terminate('benchmark over');
  await worker.stop();
  await client.connection.close();
  await h.close();
  await env.teardown();
}

const round = (n: number) => Math.round(n * 100) / 100;

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
