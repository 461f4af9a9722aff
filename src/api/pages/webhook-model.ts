import type { IntegrationStatusBody } from '../status.js';
import type { Locale } from './i18n.js';
import { WEBHOOK_MESSAGES } from './webhooks-i18n.js';

/** What the dashboard says about Qonto's webhooks, in words. */
export interface WebhookModel {
  /** "Last Qonto event": its time, or "none yet"; null while webhooks are not on. */
  lastEvent: { label: string; value: string } | null;
  /** Why only the daily run keeps the drive up to date, when Qonto cannot notify this service. */
  onceADay: string | null;
  /** A revoked integration whose consent was withdrawn in Qonto itself. */
  withdrawnInQonto: string | null;
}

/** `format` writes an instant in the integration's zone; `syncTime` is the daily run's HH:MM, named
 * when the next run's real time (`nextRunAt`, the spread offset included) is not known. */
export function webhookModel(status: IntegrationStatusBody, locale: Locale, format: (iso: string) => string, syncTime: string): WebhookModel {
  const w = WEBHOOK_MESSAGES[locale];
  const hook = status.status === 'revoked' ? null : status.webhook;
  const on = hook !== null && (hook.state === 'active' || hook.state === 'manual');
  return {
    lastEvent: on ? { label: w.lastEvent, value: hook.lastEventAt ? format(hook.lastEventAt) : w.noEventYet } : null,
    onceADay:
      hook?.state === 'unavailable' && hook.reason
        ? status.nextRunAt
          ? w.onceADayNext(format(status.nextRunAt), w.unavailable[hook.reason])
          : w.onceADay(syncTime, w.unavailable[hook.reason])
        : null,
    withdrawnInQonto: status.status === 'revoked' && status.revokedReason === 'withdrawn_in_qonto' ? w.withdrawnInQonto : null,
  };
}
