import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { RateBudget } from '../../src/budget/rate-budget.js';
import { RetryableError } from '../../src/errors.js';
import { BackoffGate } from '../../src/http/backoff-gate.js';
import { withRetry } from '../../src/http/retry.js';
import { scrape } from '../../src/metrics/endpoint.js';
import { familyNames, mergeExpositions } from '../../src/metrics/exposition.js';
import { meteredFetch, meteredRetry, statusClass, windowWaits, type WaitReason } from '../../src/metrics/http.js';
import { summarizeLastSuccess } from '../../src/metrics/last-success.js';
import { observeQuota } from '../../src/metrics/quota.js';
import { observeReceipt, observeRunEnded } from '../../src/metrics/runs.js';
import { workerHttp } from '../../src/roles/worker-http.js';
import { openSqliteStoreReady } from '../../src/store/sqlite.js';
import { parseSamples, sampleValue } from '../support/metrics-text.js';

const up = async () => {};
const checks = { store: up, temporal: up, worker: up };
const aggregated = { perIntegration: false } as const;

/** The change of one sample across `act` (absent counts as 0). */
async function delta(name: string, labels: Record<string, string>, act: () => unknown): Promise<number> {
  const before = sampleValue(await scrape(aggregated), name, labels) ?? 0;
  await act();
  return (sampleValue(await scrape(aggregated), name, labels) ?? 0) - before;
}

const answering = (status: number, headers: Record<string, string> = {}): typeof fetch => async () => new Response(null, { status, headers });

describe('statusClass', () => {
  it('puts each status in its class, and no answer in network', () => {
    expect([200, 204, 302, 404, 429, 500, 503].map(statusClass)).toEqual(['2xx', '2xx', '3xx', '4xx', '4xx', '5xx', '5xx']);
    expect(statusClass(null)).toBe('network');
  });
});

describe('meteredFetch', () => {
  const requests = 'receipts_sync_outbound_requests_total';
  const throttled = 'receipts_sync_outbound_throttled_total';

  it('counts each answer by service and status class, and 429/503 as throttled too', async () => {
    expect(await delta(requests, { service: 'graph', status_class: '2xx' }, () => meteredFetch('graph', answering(201))('http://x/'))).toBe(1);
    expect(await delta(requests, { service: 'qonto', status_class: '3xx' }, () => meteredFetch('qonto', answering(302))('http://x/'))).toBe(1);
    expect(await delta(throttled, { service: 'qonto', status: '429' }, () => meteredFetch('qonto', answering(429))('http://x/'))).toBe(1);
    expect(await delta(requests, { service: 'qonto', status_class: '4xx' }, () => meteredFetch('qonto', answering(429))('http://x/'))).toBe(1);
    expect(await delta(throttled, { service: 'graph', status: '503' }, () => meteredFetch('graph', answering(503))('http://x/'))).toBe(1);
    expect(await delta(throttled, { service: 'graph', status: '503' }, () => meteredFetch('graph', answering(500))('http://x/'))).toBe(0);
  });

  it('counts a request without an answer as network, but not one its caller aborted', async () => {
    const refused = meteredFetch('graph', async () => {
      throw new TypeError('fetch failed');
    });
    expect(await delta(requests, { service: 'graph', status_class: 'network' }, () => refused('http://x/').catch(() => {}))).toBe(1);
    const aborted = new AbortController();
    aborted.abort();
    expect(await delta(requests, { service: 'graph', status_class: 'network' }, () => refused('http://x/', { signal: aborted.signal }).catch(() => {}))).toBe(0);
  });
});

describe('time waited before sending', () => {
  const waited = 'receipts_sync_outbound_wait_seconds_total';

  it('counts the time a request is held back by the window another request opened', async () => {
    const gate = new BackoffGate();
    const fetchImpl = gate.wrap(meteredFetch('graph', async () => new Response(null, { status: 429, headers: { 'retry-after': '0.3' } })), undefined, windowWaits('graph'));
    let elapsed = 0;
    const seconds = await delta(waited, { service: 'graph', reason: 'throttle_window' }, async () => {
      await fetchImpl('http://x/');
      const from = performance.now();
      await fetchImpl('http://x/');
      elapsed = (performance.now() - from) / 1000;
    });
    // The second request waited out (most of) the 300 ms window the first one's 429 opened, and
    // never more than it took.
    expect(seconds).toBeGreaterThanOrEqual(0.25);
    expect(seconds).toBeLessThanOrEqual(elapsed);
  });

  it('counts nothing for a request sent through an open gate', async () => {
    const fetchImpl = new BackoffGate().wrap(answering(200), undefined, windowWaits('qonto'));
    expect(await delta(waited, { service: 'qonto', reason: 'throttle_window' }, () => fetchImpl('http://x/'))).toBe(0);
  });

  it('counts the back-off before each retry, and still calls the given onRetry', async () => {
    const calls: number[] = [];
    const retry = meteredRetry('qonto', { attempts: 3, baseDelayMs: 1, maxDelayMs: 1, onRetry: (_e: RetryableError, attempt: number) => calls.push(attempt) });
    let tries = 0;
    const seconds = await delta(waited, { service: 'qonto', reason: 'retry_backoff' }, () =>
      withRetry(async () => {
        if (++tries < 3) throw new RetryableError('busy', { status: 503, retryAfterMs: 100 });
        return 'ok';
      }, retry),
    );
    expect(seconds).toBeCloseTo(0.2, 5);
    expect(calls).toEqual([1, 2]);
  });

  it('counts the time a request waits for its slot in the fleet-wide rate budget, Qonto\'s and Graph\'s (reason=budget)', async () => {
    // A real store's budget of 2 requests a minute: past its burst a request waits for its slot. The
    // sleep is the test's (it moves a clock, never waits): the store decides how long.
    const store = await openSqliteStoreReady(':memory:');
    try {
      const params = { windows: [{ windowMs: 60_000, limit: 2 }] };
      for (const service of ['qonto', 'graph'] as const) {
        let clock = 0;
        const slept: number[] = [];
        const budget = new RateBudget(store, service, params, { now: () => clock, sleep: async (ms) => {
            slept.push(ms);
            clock += ms;
          },
        });
        const limits = { maxBudgetWaitMs: 10 * 60_000 };
        const fetchImpl = service === 'qonto' ? budget.wrap(answering(200), limits) : budget.lease(1).wrap(answering(200), limits);
        const before = await scrape(aggregated);
        for (let i = 0; i < 4; i++) expect((await fetchImpl('http://x/')).status).toBe(200);
        const after = await scrape(aggregated);
        const change = (reason: WaitReason) => (sampleValue(after, waited, { service, reason }) ?? 0) - (sampleValue(before, waited, { service, reason }) ?? 0);
        expect(slept.length).toBeGreaterThan(0);
        expect(change('budget')).toBeGreaterThan(0);
        expect(change('budget')).toBeCloseTo(slept.reduce((a, b) => a + b, 0) / 1000, 6);
        // Counted once, under its own reason: over the same requests that waited, no back-off or
        // throttle window grew.
        expect(change('retry_backoff')).toBe(0);
        expect(change('throttle_window')).toBe(0);
      }
    } finally {
      await store.close();
    }
  });
});

describe('runs and receipts', () => {
  it('counts receipts by result and the bytes exported', async () => {
    expect(await delta('receipts_sync_receipts_total', { result: 'exported' }, () => observeReceipt({ kind: 'exported', bytes: 10 }))).toBe(1);
    expect(await delta('receipts_sync_exported_bytes_total', {}, () => observeReceipt({ kind: 'exported', bytes: 2048 }))).toBe(2048);
    expect(await delta('receipts_sync_receipts_total', { result: 'failed' }, () => observeReceipt({ kind: 'failed' }))).toBe(1);
  });

  it('observeRunEnded counts the run by outcome and observes its duration and receipts', async () => {
    const run = { outcome: 'quota_exceeded' as const, startedAt: '2026-11-03T10:00:00.000Z', finishedAt: '2026-11-03T10:02:30.000Z', exported: 120, failed: 2 };
    const before = await scrape(aggregated);
    observeRunEnded(run);
    const after = await scrape(aggregated);
    const change = (name: string, labels: Record<string, string>) => (sampleValue(after, name, labels) ?? 0) - (sampleValue(before, name, labels) ?? 0);
    expect(change('receipts_sync_runs_total', { outcome: 'quota_exceeded' })).toBe(1);
    expect(change('receipts_sync_runs_total', { outcome: 'completed' })).toBe(0);
    expect(change('receipts_sync_run_duration_seconds_count', { outcome: 'quota_exceeded' })).toBe(1);
    expect(change('receipts_sync_run_duration_seconds_sum', { outcome: 'quota_exceeded' })).toBe(150);
    expect(change('receipts_sync_run_duration_seconds_bucket', { outcome: 'quota_exceeded', le: '60' })).toBe(0);
    expect(change('receipts_sync_run_duration_seconds_bucket', { outcome: 'quota_exceeded', le: '300' })).toBe(1);
    expect(change('receipts_sync_run_receipts_sum', { result: 'exported' })).toBe(120);
    expect(change('receipts_sync_run_receipts_sum', { result: 'failed' })).toBe(2);
    // Receipts are counted by the export as they happen, not again at the end of the run.
    expect(change('receipts_sync_receipts_total', { result: 'exported' })).toBe(0);
  });

  it('shows every run outcome and receipt result from the first scrape, at 0 until it happens', async () => {
    const text = await scrape(aggregated);
    for (const outcome of ['completed', 'quota_exceeded', 'reconnect_required', 'failed', 'revoked']) {
      expect(sampleValue(text, 'receipts_sync_runs_total', { outcome })).toBeTypeOf('number');
    }
  });
});

describe('last successful run', () => {
  const now = Date.parse('2026-11-05T12:00:00Z');
  const rows = [
    { integrationId: 'a', lastSuccessAt: '2026-11-05T11:00:00Z' },
    { integrationId: 'b', lastSuccessAt: '2026-11-04T00:00:00Z' },
    { integrationId: 'c', lastSuccessAt: '2026-11-05T10:00:00Z' },
    { integrationId: 'd', lastSuccessAt: null },
  ];

  it('summarizes ages: oldest, median, stale past 30 h, never succeeded', () => {
    const summary = summarizeLastSuccess(rows, now);
    expect(summary).toMatchObject({ integrations: 4, never: 1, stale: 1, maxAgeSeconds: 36 * 3600, medianAgeSeconds: 2 * 3600 });
    expect(summarizeLastSuccess([], now)).toMatchObject({ integrations: 0, never: 0, stale: 0, maxAgeSeconds: 0, medianAgeSeconds: 0 });
    expect(summarizeLastSuccess(rows.slice(0, 2), now).medianAgeSeconds).toBe((3600 + 36 * 3600) / 2);
  });

  it('serves aggregates only, unless the per-integration switch is on', async () => {
    const source = async () => rows;
    const off = await scrape({ perIntegration: false, lastSuccess: source, now: () => now });
    expect(sampleValue(off, 'receipts_sync_last_success_age_seconds_max')).toBe(36 * 3600);
    expect(sampleValue(off, 'receipts_sync_integrations_stale')).toBe(1);
    expect(sampleValue(off, 'receipts_sync_integrations_never_succeeded')).toBe(1);
    expect(parseSamples(off).filter((s) => 'integration_id' in s.labels)).toEqual([]);

    const on = await scrape({ perIntegration: true, lastSuccess: source, now: () => now });
    expect(sampleValue(on, 'receipts_sync_last_success_age_seconds', { integration_id: 'c' })).toBe(2 * 3600);
    expect(sampleValue(on, 'receipts_sync_last_success_age_seconds', { integration_id: 'd' })).toBeUndefined();

    // Turned off again: the labelled series are gone, not frozen at their last value.
    const again = await scrape({ perIntegration: false, lastSuccess: source, now: () => now });
    expect(parseSamples(again).filter((s) => 'integration_id' in s.labels)).toEqual([]);
  });
});

describe('drive quota', () => {
  it('serves the fullest drive and the count of nearly full ones; per drive only with the switch', async () => {
    const now = Date.now();
    observeQuota('q1', { used: 50, total: 100 }, now);
    observeQuota('q2', { used: 95, total: 100 }, now);
    observeQuota('q3', { used: 1, total: 0 }, now); // no total: tells nothing
    const off = await scrape({ perIntegration: false, now: () => now });
    expect(sampleValue(off, 'receipts_sync_drive_quota_used_ratio_max')).toBe(0.95);
    expect(sampleValue(off, 'receipts_sync_drives_nearly_full')).toBe(1);
    expect(sampleValue(off, 'receipts_sync_drives_read')).toBe(2);
    expect(parseSamples(off).filter((s) => 'integration_id' in s.labels)).toEqual([]);
    const on = await scrape({ perIntegration: true, now: () => now });
    expect(sampleValue(on, 'receipts_sync_drive_quota_used_ratio', { integration_id: 'q1' })).toBe(0.5);
  });

  it('forgets a reading older than 26 h', async () => {
    const now = Date.now();
    observeQuota('old', { used: 99, total: 100 }, now - 27 * 3600 * 1000);
    observeQuota('new', { used: 10, total: 100 }, now);
    const text = await scrape({ perIntegration: true, now: () => now });
    expect(sampleValue(text, 'receipts_sync_drive_quota_used_ratio', { integration_id: 'old' })).toBeUndefined();
    expect(sampleValue(text, 'receipts_sync_drive_quota_used_ratio', { integration_id: 'new' })).toBe(0.1);
  });
});

describe('mergeExpositions', () => {
  const ours = '# HELP a_total A.\n# TYPE a_total counter\na_total 1\n';

  it('appends the other text, keeping ours for a family both declare and dropping repeated headers', () => {
    const theirs = [
      '# HELP a_total theirs',
      '# TYPE a_total counter',
      'a_total{x="1"} 5',
      '# HELP b B.',
      '# TYPE b gauge',
      'b 2',
      '# HELP b B again.',
      '# TYPE b gauge',
      'b{y="1"} 3',
      '',
    ].join('\n');
    expect(mergeExpositions(ours, theirs)).toBe(`${ours}# HELP b B.\n# TYPE b gauge\nb 2\nb{y="1"} 3\n`);
  });

  it('leaves ours alone when the other text is empty', () => {
    expect(mergeExpositions(ours, '')).toBe(ours);
    expect(familyNames(ours)).toEqual(new Set(['a_total']));
  });
});

describe('GET /metrics', () => {
  it('answers Prometheus text on the worker app, without credentials, with the SDK text appended', async () => {
    const sdk = createServer((_req, res) => res.end('# HELP temporal_num_pollers Pollers.\n# TYPE temporal_num_pollers gauge\ntemporal_num_pollers 3\n'));
    await new Promise<void>((resolve) => sdk.listen(0, '127.0.0.1', resolve));
    try {
      const url = `http://127.0.0.1:${(sdk.address() as AddressInfo).port}/metrics`;
      const res = await workerHttp(checks, undefined, { perIntegration: false, temporalSdkUrl: url }).request('/metrics');
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
      const text = await res.text();
      expect(sampleValue(text, 'temporal_num_pollers')).toBe(3);
      expect(sampleValue(text, 'receipts_sync_temporal_sdk_metrics_up')).toBe(1);
      expect(sampleValue(text, 'process_cpu_user_seconds_total')).toBeTypeOf('number');
    } finally {
      await new Promise((resolve) => sdk.close(resolve));
    }
  });

  it('says so when the SDK endpoint does not answer, and still serves ours', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const text = await scrape({ perIntegration: false, temporalSdkUrl: `http://127.0.0.1:${port}/metrics` });
    expect(sampleValue(text, 'receipts_sync_temporal_sdk_metrics_up')).toBe(0);
    expect(sampleValue(text, 'receipts_sync_runs_total', { outcome: 'completed' })).toBeTypeOf('number');
  });
});
