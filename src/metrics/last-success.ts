import { Gauge } from 'prom-client';
import { PREFIX, registry } from './registry.js';

/** Each integration's last successful run (null: none yet), read at scrape time. */
export type LastSuccessSource = () => Promise<Array<{ integrationId: string; lastSuccessAt: string | null }>>;

/** Without a success for this long an integration counts as stale (the alerts' threshold). */
export const STALE_AFTER_SECONDS = 30 * 3600;

const integrations = new Gauge({
  name: `${PREFIX}integrations`,
  help: 'Integrations known to the store',
  registers: [registry],
});
const never = new Gauge({
  name: `${PREFIX}integrations_never_succeeded`,
  help: 'Integrations without a successful run yet',
  registers: [registry],
});
const stale = new Gauge({
  name: `${PREFIX}integrations_stale`,
  help: 'Integrations whose last successful run is more than 30 h ago',
  registers: [registry],
});
const maxAge = new Gauge({
  name: `${PREFIX}last_success_age_seconds_max`,
  help: 'Age of the oldest last successful run among the integrations that had one',
  registers: [registry],
});
const medianAge = new Gauge({
  name: `${PREFIX}last_success_age_seconds_median`,
  help: 'Median age of the last successful run among the integrations that had one',
  registers: [registry],
});
const perIntegration = new Gauge({
  name: `${PREFIX}last_success_age_seconds`,
  help: 'Age of an integration\'s last successful run (only with METRICS_PER_INTEGRATION=true)',
  labelNames: ['integration_id'] as const,
  registers: [registry],
});

export interface LastSuccessSummary {
  integrations: number;
  never: number;
  stale: number;
  maxAgeSeconds: number;
  medianAgeSeconds: number;
  ages: Map<string, number>;
}

/** Ages at `now` (ms). A time in the future (clocks apart) counts as age 0; an unreadable one as none. */
export function summarizeLastSuccess(rows: Array<{ integrationId: string; lastSuccessAt: string | null }>, now: number): LastSuccessSummary {
  const ages = new Map<string, number>();
  for (const row of rows) {
    const at = row.lastSuccessAt === null ? Number.NaN : Date.parse(row.lastSuccessAt);
    if (Number.isFinite(at)) ages.set(row.integrationId, Math.max(0, (now - at) / 1000));
  }
  const sorted = [...ages.values()].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  const median = sorted.length === 0 ? 0 : sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
  return {
    integrations: rows.length,
    never: rows.length - ages.size,
    stale: sorted.filter((age) => age > STALE_AFTER_SECONDS).length,
    maxAgeSeconds: sorted.at(-1) ?? 0,
    medianAgeSeconds: median,
    ages,
  };
}

/** Sets the last-success gauges from `source`, at scrape time. */
export async function refreshLastSuccessGauges(source: LastSuccessSource, options: { perIntegration: boolean; now: number }): Promise<void> {
  const summary = summarizeLastSuccess(await source(), options.now);
  integrations.set(summary.integrations);
  never.set(summary.never);
  stale.set(summary.stale);
  maxAge.set(summary.maxAgeSeconds);
  medianAge.set(summary.medianAgeSeconds);
  perIntegration.reset();
  if (options.perIntegration) for (const [id, age] of summary.ages) perIntegration.set({ integration_id: id }, age);
}
