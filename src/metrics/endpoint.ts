import type { Handler } from 'hono';
import { Gauge } from 'prom-client';
import { mergeExpositions } from './exposition.js';
import { refreshLastSuccessGauges, type LastSuccessSource } from './last-success.js';
import { refreshQuotaGauges } from './quota.js';
import { PREFIX, registry } from './registry.js';

export interface MetricsOptions {
  /** METRICS_PER_INTEGRATION: also series labelled with integration ids (off: aggregates only). */
  perIntegration: boolean;
  /** Each integration's last successful run, read at every scrape; no last-success series without. */
  lastSuccess?: LastSuccessSource;
  /** The Temporal SDK's own Prometheus endpoint in this process (loopback), appended to ours. */
  temporalSdkUrl?: string;
  /** Injected clock (tests). */
  now?: () => number;
}

/** How long a scrape waits for the SDK's endpoint (loopback, in process: it answers at once). */
const SDK_TIMEOUT_MS = 2_000;

const SDK_UP = `${PREFIX}temporal_sdk_metrics_up`;
const sdkUp = new Gauge({
  name: SDK_UP,
  help: "1 when the Temporal SDK's worker metrics were read for this scrape, 0 when they could not be (only in processes with a worker)",
  // Registered by the first scrape that reads them: a process without a worker has no such series.
  registers: [],
});

/** The whole text of a scrape: our series (scrape-time gauges refreshed first), then the SDK's. */
export async function scrape(options: MetricsOptions): Promise<string> {
  const now = options.now?.() ?? Date.now();
  refreshQuotaGauges({ perIntegration: options.perIntegration, now });
  if (options.lastSuccess) await refreshLastSuccessGauges(options.lastSuccess, { perIntegration: options.perIntegration, now });
  let sdk: string | null = null;
  if (options.temporalSdkUrl) {
    sdk = await fetch(options.temporalSdkUrl, { signal: AbortSignal.timeout(SDK_TIMEOUT_MS) }).then(
      async (res) => (res.ok ? res.text() : null),
      () => null,
    );
    if (!registry.getSingleMetric(SDK_UP)) registry.registerMetric(sdkUp);
    sdkUp.set(sdk === null ? 0 : 1);
  }
  return mergeExpositions(await registry.metrics(), sdk ?? '');
}

/** `GET /metrics`: Prometheus text, without authentication like /healthz; it holds counts and ages,
 * never personal data, and integration ids only when the operator turned that on. */
export function metricsHandler(options: MetricsOptions): Handler {
  return async (c) => c.body(await scrape(options), 200, { 'content-type': registry.contentType, 'cache-control': 'no-store' });
}
