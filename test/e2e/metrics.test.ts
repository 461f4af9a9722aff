import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { dashboardMetricNames, familyOf } from '../support/dashboard.js';
import { ADMIN_TOKEN, freePort, startHarness, type Harness } from '../support/harness.js';
import { parseSamples, sampleValue } from '../support/metrics-text.js';
import { freshDatabaseUrl } from '../support/postgres.js';
import { startProductProcess, startWorkerProcess, type WorkerProcess } from '../support/worker-process.js';

/**
 * `GET /metrics` of an api and a worker process (`src/main.ts`, as `npm start` runs them) after a
 * backfill through both, checked by Prometheus's own `promtool check metrics`. CI installs promtool
 * (Debian's `prometheus` package); without it this test fails rather than skip.
 */
const PROMTOOL = process.env.PROMTOOL_PATH ?? 'promtool';

let h: Harness;
const processes: WorkerProcess[] = [];
let apiBase: string;
let workerBase: string;

beforeAll(async () => {
  h = await startHarness({ extraEnv: { DATABASE_URL: await freshDatabaseUrl() }, demo: { seed: 5, accounts: 2, months: 2, receipts: 24 } });
  const taskQueue = `tq-metrics-${randomUUID().slice(0, 8)}`;
  const [apiPort, workerPort] = [await freePort(), await freePort()];
  const shared = { ...h.env, TEMPORAL_ADDRESS: inject('temporalAddress'), TEMPORAL_TASK_QUEUE: taskQueue, PUBLIC_URL: `http://127.0.0.1:${apiPort}` };
  // The api aggregates only; the worker has the per-integration switch on.
  processes.push(await startProductProcess({ ...shared, ROLE: 'api', PORT: String(apiPort) }, 'Listening on port'));
  processes.push(await startWorkerProcess({ ...shared, ROLE: 'worker', PORT: String(workerPort), METRICS_PER_INTEGRATION: 'true' }));
  apiBase = `http://127.0.0.1:${apiPort}`;
  workerBase = `http://127.0.0.1:${workerPort}`;
});
afterAll(async () => {
  for (const p of processes) await p.kill();
  await h?.close();
});

/** `promtool check metrics` on `text`: its exit code and what it printed. */
function promtoolCheck(text: string): { status: number | null; output: string } {
  const run = spawnSync(PROMTOOL, ['check', 'metrics'], { input: text, encoding: 'utf8' });
  if (run.error) throw new Error(`promtool is needed for this test (Debian: apt-get install prometheus; or PROMTOOL_PATH): ${run.error.message}`);
  return { status: run.status, output: `${run.stdout}${run.stderr}` };
}

async function scrape(base: string): Promise<string> {
  const res = await fetch(`${base}/metrics`);
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
  return res.text();
}

const sum = (text: string, name: string, labels: Record<string, string> = {}) =>
  parseSamples(text)
    .filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))
    .reduce((total, s) => total + s.value, 0);
const declares = (text: string, name: string) => text.includes(`# TYPE ${name} `);

describe('GET /metrics on the api and worker roles', () => {
  it('is Prometheus text promtool accepts, with the series of a backfill', async () => {
    const id = randomUUID();
    const person = `person-${id.slice(0, 8)}`;
    await h.connect(id, h.newUser(person));
    // Throttling on both services: a 429 with a 1 s Retry-After from Graph and from Qonto, each to a
    // request the client retries itself once that second has passed.
    h.sims.graph.faults.add({ method: 'GET', path: /\/me\/drive$/ }, { kind: 'status', status: 429, retryAfterSec: 1 }, 1);
    h.sims.qonto.faults.add({ path: '/v2/transactions' }, { kind: 'status', status: 429, retryAfterSec: 1 }, 1);
    const call = (method: string, path: string, body?: unknown) =>
      fetch(`${apiBase}${path}`, { method, headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
    expect((await call('POST', `/api/integrations/${id}/finish`, { syncFrom: '2020-01-01' })).status).toBe(202);
    const deadline = Date.now() + 90_000;
    let status: { status: string; nextRunAt: string | null; counts: { exported: number; failed: number } };
    for (;;) {
      status = (await (await call('GET', `/api/integrations/${id}`)).json()) as typeof status;
      if (status.status === 'idle' && status.nextRunAt !== null) break;
      if (Date.now() > deadline) throw new Error(`the backfill did not end: ${JSON.stringify(status)}`);
      await new Promise((r) => setTimeout(r, 200));
    }
    expect(status.counts.exported).toBeGreaterThan(0);

    const worker = await scrape(workerBase);
    const api = await scrape(apiBase);
    for (const [role, text] of [['worker', worker], ['api', api]] as const) {
      const check = promtoolCheck(text);
      expect(check, `${role}: ${check.output}`).toMatchObject({ status: 0 });
    }

    // The worker ran the export: every receipt counted once, requests to both services by class.
    expect(sampleValue(worker, 'receipts_sync_receipts_total', { result: 'exported' })).toBe(status.counts.exported);
    expect(sampleValue(worker, 'receipts_sync_receipts_total', { result: 'failed' })).toBe(status.counts.failed);
    expect(sampleValue(worker, 'receipts_sync_exported_bytes_total')).toBeGreaterThan(0);
    expect(sampleValue(worker, 'receipts_sync_outbound_requests_total', { service: 'qonto', status_class: '2xx' })).toBeGreaterThan(0);
    expect(sampleValue(worker, 'receipts_sync_outbound_requests_total', { service: 'graph', status_class: '2xx' })).toBeGreaterThan(0);
    expect(sampleValue(worker, 'receipts_sync_outbound_throttled_total', { service: 'graph', status: '429' })).toBeGreaterThanOrEqual(1);
    expect(sampleValue(worker, 'receipts_sync_outbound_throttled_total', { service: 'qonto', status: '429' })).toBeGreaterThanOrEqual(1);
    // Each throttled request waited its 1 s before its retry.
    expect(sampleValue(worker, 'receipts_sync_outbound_wait_seconds_total', { service: 'graph', reason: 'retry_backoff' })).toBeGreaterThanOrEqual(1);
    expect(sampleValue(worker, 'receipts_sync_outbound_wait_seconds_total', { service: 'qonto', reason: 'retry_backoff' })).toBeGreaterThanOrEqual(1);
    expect(sampleValue(worker, 'receipts_sync_drives_read')).toBe(1);
    expect(sampleValue(worker, 'receipts_sync_drive_quota_used_ratio_max')).toBeGreaterThan(0);
    // The worker's switch is on: its drive by integration id.
    expect(sampleValue(worker, 'receipts_sync_drive_quota_used_ratio', { integration_id: id })).toBe(sampleValue(worker, 'receipts_sync_drive_quota_used_ratio_max'));
    // The backfill's end reached the run metrics (the worker ran it) and the store's last success,
    // which every role reads.
    expect(sampleValue(worker, 'receipts_sync_runs_total', { outcome: 'completed' })).toBe(1);
    expect(sampleValue(worker, 'receipts_sync_run_duration_seconds_count', { outcome: 'completed' })).toBe(1);
    for (const text of [worker, api]) {
      expect(sampleValue(text, 'receipts_sync_integrations')).toBe(1);
      expect(sampleValue(text, 'receipts_sync_integrations_never_succeeded')).toBe(0);
      expect(sampleValue(text, 'receipts_sync_integrations_stale')).toBe(0);
    }
    expect(sampleValue(worker, 'receipts_sync_last_success_age_seconds', { integration_id: id })).toBeGreaterThanOrEqual(0);
    for (const name of ['receipts_sync_runs_total', 'receipts_sync_run_duration_seconds', 'receipts_sync_last_success_age_seconds_max', 'receipts_sync_integrations_stale']) {
      expect(declares(worker, name), name).toBe(true);
      expect(declares(api, name), name).toBe(true);
    }

    // The Temporal SDK's worker metrics, through the same endpoint.
    expect(sampleValue(worker, 'receipts_sync_temporal_sdk_metrics_up')).toBe(1);
    expect(sum(worker, 'temporal_activity_execution_latency_seconds_count', { activity_type: 'exportBatch' })).toBeGreaterThan(0);
    expect(sum(worker, 'temporal_workflow_task_execution_latency_seconds_count')).toBeGreaterThan(0);

    // The Grafana dashboard's SDK series are among those a worker serves after a backfill.
    const sdkHistograms = new Set([...worker.matchAll(/^# TYPE (temporal_\S+) histogram$/gm)].map((m) => m[1]!));
    const sdkUsed = [...dashboardMetricNames()].filter((name) => name.startsWith('temporal_'));
    expect(sdkUsed.length).toBeGreaterThan(0);
    expect(sdkUsed.filter((name) => !declares(worker, familyOf(name, sdkHistograms)))).toEqual([]);

    // The api: no worker, so no SDK series; aggregates only, no integration id anywhere.
    expect(api).not.toMatch(/^temporal_/m);
    expect(sampleValue(api, 'receipts_sync_temporal_sdk_metrics_up')).toBeUndefined();
    expect(parseSamples(api).filter((s) => 'integration_id' in s.labels)).toEqual([]);
    expect(sampleValue(api, 'process_resident_memory_bytes')).toBeGreaterThan(0);
    // No personal data on either: the Microsoft account's name and address stay out.
    for (const text of [worker, api]) expect(text).not.toContain(person);
  });
});
