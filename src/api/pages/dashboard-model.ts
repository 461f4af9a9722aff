import type { FolderCounts, IntegrationStatus } from '../../store/types.js';
import type { IntegrationStatusBody } from '../status.js';
import type { EndedSignIn, Locale, Messages } from './i18n.js';
import { alertsModel, type AlertsModel } from './alerts-model.js';
import { webhookModel, type WebhookModel } from './webhook-model.js';

/** How a state reads at a glance: drives the colour and icon of the state line. */
export type Tone = 'ok' | 'working' | 'attention' | 'off';

const TONES: Record<IntegrationStatus, Tone> = {
  connecting: 'working',
  backfilling: 'working',
  syncing: 'working',
  idle: 'ok',
  quota_exceeded: 'attention',
  reconnect_required: 'attention',
  failed: 'attention',
  revoked: 'off',
};

export type GaugeLevel = 'normal' | 'nearing' | 'critical' | 'full';
export type Need = 'reconnect' | 'free_space' | 'retry';

export interface DashboardModel {
  status: IntegrationStatus;
  tone: Tone;
  stateText: string;
  lastRun: string;
  nextRun: string;
  /** After a failed run: when it is tried again by itself (the status's next run, formatted). */
  retryAt: string | null;
  /** During the first import: receipts done of those found so far. */
  progress: { done: number; total: number; percent: number } | null;
  gauge: { percent: number; level: GaugeLevel; text: string; warning: string | null } | null;
  needs: Need[];
  /** With the `reconnect` need: whose sign-in ended and what to do, in words. */
  reconnectText: string | null;
  accounts: { account: string; periods: { period: string; exported: number; failed: number; pending: number }[] }[];
  /** Seconds until the page asks again: often while work is under way. */
  refreshSeconds: number;
  alerts: AlertsModel;
  webhooks: WebhookModel;
}

const LOCALE_TAGS: Record<Locale, string> = { en: 'en-GB', de: 'de-DE' };

/** A date and time in the integration's zone, with the zone's short name so nobody has to guess. */
export function formatInstant(iso: string, locale: Locale, timeZone: string): string {
  const format = new Intl.DateTimeFormat(LOCALE_TAGS[locale], {
    weekday: 'short',
    day: 'numeric',
    month: 'short',
    year: 'numeric',
    hour: '2-digit',
    minute: '2-digit',
    timeZone,
    timeZoneName: 'short',
  });
  return format.format(new Date(iso));
}

export function formatBytes(bytes: number, locale: Locale): string {
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  const digits = unit === 0 || value >= 100 ? 0 : 1;
  return `${new Intl.NumberFormat(LOCALE_TAGS[locale], { maximumFractionDigits: digits }).format(value)} ${units[unit]}`;
}

function gaugeOf(quota: NonNullable<IntegrationStatusBody['quota']>, status: IntegrationStatus, t: Messages, locale: Locale): DashboardModel['gauge'] {
  const percent = quota.total > 0 ? Math.min(100, Math.round((quota.used / quota.total) * 1000) / 10) : 0;
  const full = status === 'quota_exceeded' || quota.state === 'exceeded' || quota.remaining <= 0;
  const level: GaugeLevel = full ? 'full' : quota.state === 'critical' ? 'critical' : quota.state === 'nearing' ? 'nearing' : 'normal';
  const warning = { normal: null, nearing: t.storageNearing, critical: t.storageCritical, full: t.storageFull }[level];
  const text = t.storageText(formatBytes(quota.used, locale), formatBytes(quota.total, locale), formatBytes(Math.max(0, quota.remaining), locale));
  return { percent, level, text, warning };
}

/** `<account> (<last 4>)/<YYYY>/<YYYY-MM>` → account and period, grouped by account in path order. */
function accountsOf(folders: FolderCounts[]): DashboardModel['accounts'] {
  const accounts: DashboardModel['accounts'] = [];
  for (const f of folders) {
    const segments = f.folderPath.split('/');
    const account = segments[0] ?? f.folderPath;
    const period = segments.length > 1 ? segments[segments.length - 1]! : '';
    let group = accounts.find((a) => a.account === account);
    if (!group) accounts.push((group = { account, periods: [] }));
    group.periods.push({ period, exported: f.exported, failed: f.failed, pending: f.pending });
  }
  for (const a of accounts) a.periods.sort((x, y) => y.period.localeCompare(x.period));
  return accounts;
}

/** Everything the dashboard says about one integration, in words, in the user's language and zone. */
export function dashboardModel(
  status: IntegrationStatusBody,
  folders: FolderCounts[],
  locale: Locale,
  t: Messages,
  fallbackZone: string,
  syncTime = '23:30',
  /** Qonto through the service's API key (no member signs in with Qonto). */
  apiKeyMode = false,
): DashboardModel {
  const zone = status.timeZone ?? fallbackZone;
  const ended: EndedSignIn | null = status.signInEnded === 'qonto' && apiKeyMode ? 'qontoApiKey' : status.signInEnded;
  const run = status.lastRun;
  const lastRun = run
    ? `${formatInstant(run.finishedAt, locale, zone)}: ${t.outcomes[run.outcome] ?? run.outcome}, ${t.runSummary(run.exported, run.failed)}`
    : t.never;
  const active = status.status !== 'revoked' && status.status !== 'connecting';
  const nextRun = status.nextRunAt && active ? formatInstant(status.nextRunAt, locale, zone) : t.notPlanned;

  const b = status.backfill;
  const progress =
    status.status === 'backfilling' && b && !b.done
      ? (() => {
          const total = b.exported + b.pending;
          return { done: b.exported, total, percent: total > 0 ? Math.floor((b.exported / total) * 100) : 0 };
        })()
      : null;

  const needs: Need[] = [];
  if (status.status === 'reconnect_required') needs.push('reconnect');
  if (status.status === 'quota_exceeded') needs.push('free_space');
  if (status.status === 'failed') needs.push('retry');

  const working = status.status === 'backfilling' || status.status === 'syncing' || status.status === 'connecting';
  return {
    status: status.status,
    tone: TONES[status.status],
    stateText: status.status === 'reconnect_required' && ended ? t.signInEnded[ended] : t.states[status.status],
    lastRun,
    nextRun,
    retryAt: status.status === 'failed' && status.nextRunAt ? nextRun : null,
    progress,
    gauge: status.quota ? gaugeOf(status.quota, status.status, t, locale) : null,
    needs,
    reconnectText: status.status === 'reconnect_required' ? t.reconnectTexts[ended ?? 'unknown'] : null,
    accounts: accountsOf(folders),
    refreshSeconds: working ? 2 : status.status === 'revoked' ? 0 : 10,
    alerts: alertsModel(status.alerts, locale, (iso) => formatInstant(iso, locale, zone)),
    webhooks: webhookModel(status, locale, (iso) => formatInstant(iso, locale, zone), syncTime),
  };
}
