import { Gauge } from 'prom-client';
import { PREFIX, registry } from './registry.js';

/** How long a drive's last quota reading counts: a daily run reads it again; one not read for longer
 * (revoked, or now checked by another worker) drops out. */
const QUOTA_READING_TTL_MS = 26 * 3600 * 1000;
/** Used share from which a drive counts as nearly full (the alerts' threshold). */
export const NEARLY_FULL_RATIO = 0.9;

interface Reading {
  ratio: number;
  at: number;
}

/** The last reading per integration, in this process (the workers that read them). */
const readings = new Map<string, Reading>();

const maxRatio = new Gauge({
  name: `${PREFIX}drive_quota_used_ratio_max`,
  help: 'Highest used share (0..1) of the drives this process read within 26 h',
  registers: [registry],
});
const nearlyFull = new Gauge({
  name: `${PREFIX}drives_nearly_full`,
  help: 'Drives this process read within 26 h that are at least 90 % used',
  registers: [registry],
});
const drives = new Gauge({
  name: `${PREFIX}drives_read`,
  help: 'Drives whose quota this process read within 26 h',
  registers: [registry],
});
const perIntegration = new Gauge({
  name: `${PREFIX}drive_quota_used_ratio`,
  help: 'Used share (0..1) of an integration\'s drive (only with METRICS_PER_INTEGRATION=true)',
  labelNames: ['integration_id'] as const,
  registers: [registry],
});

/** A quota reading of a drive (checkQuota). A drive reporting no total tells nothing. */
export function observeQuota(integrationId: string, quota: { used: number; total: number }, now = Date.now()): void {
  if (!(quota.total > 0)) return;
  readings.set(integrationId, { ratio: Math.min(1, Math.max(0, quota.used / quota.total)), at: now });
}

export interface QuotaSummary {
  drives: number;
  maxRatio: number;
  nearlyFull: number;
  current: Map<string, number>;
}

export function summarizeQuota(all: ReadonlyMap<string, Reading>, now: number): QuotaSummary {
  const current = new Map<string, number>();
  for (const [id, reading] of all) if (now - reading.at <= QUOTA_READING_TTL_MS) current.set(id, reading.ratio);
  const ratios = [...current.values()];
  return {
    drives: ratios.length,
    maxRatio: ratios.length > 0 ? Math.max(...ratios) : 0,
    nearlyFull: ratios.filter((r) => r >= NEARLY_FULL_RATIO).length,
    current,
  };
}

/** Sets the quota gauges from the readings, at scrape time. */
export function refreshQuotaGauges(options: { perIntegration: boolean; now: number }): void {
  for (const [id, reading] of readings) if (options.now - reading.at > QUOTA_READING_TTL_MS) readings.delete(id);
  const summary = summarizeQuota(readings, options.now);
  drives.set(summary.drives);
  maxRatio.set(summary.maxRatio);
  nearlyFull.set(summary.nearlyFull);
  perIntegration.reset();
  if (options.perIntegration) for (const [id, ratio] of summary.current) perIntegration.set({ integration_id: id }, ratio);
}
