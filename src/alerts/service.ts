import type { AlertMailKey, AlertRecord } from '../store/alert-store.js';
import type { Store } from '../store/types.js';
import { logger } from '../logger.js';
import { FAILURES, afterRun, nextCheck, overdue, reminderNumber, NO_SUCCESS_MS, type AlertCondition, type RunEnd } from './conditions.js';
import type { Mailer } from './mailer.js';
import { duePeriod, renderPeriodReminder } from './period-reminder.js';
import { alertLink, mailLanguage, renderMail, type Mail, type MailLanguage } from './templates.js';

export interface AlertServiceDeps {
  store: Store;
  /** Null without SMTP_URL: alerts are recorded for the dashboard only. */
  mailer: Mailer | null;
  publicUrl: string;
  /** ALERT_TO: the operator, on every alert. */
  alertTo: string | null;
  /** API-key mode: nobody signs in, so ALERT_TO is the only recipient. */
  apiKeyMode: boolean;
  /** OAuth mode: the e-mail and locale of the Qonto member who connected the integration. */
  membership?: (integrationId: string) => Promise<{ email?: string | undefined; locale?: string | undefined }>;
  /** MISSING_RECEIPTS_REMINDER: remind once a period closes with receipts still missing. */
  periodReminder?: boolean;
}

export interface AlertCheck {
  /** When time alone makes the next alert due (a reminder, the 30 h mark); null: only a run's end can. */
  nextCheckAt: string | null;
}

/** How many occurrences the dashboard's history shows. */
export const HISTORY_LENGTH = 10;

/**
 * Records alert occurrences and mails them (docs/alerts.md). Every method takes the time from its
 * caller (the workflow's clock), and is safe to call again with the same input: occurrences are keyed
 * by (integration, condition, occurrence) and each mail is claimed in the store before it is sent and
 * marked after, so a retried activity never sends a mail that was marked sent.
 */
export function alertService(deps: AlertServiceDeps) {
  const alerts = deps.store.alerts;

  async function recipients(integrationId: string): Promise<string[]> {
    const operator = deps.alertTo ? [deps.alertTo] : [];
    if (deps.apiKeyMode) return operator;
    const profile = await alerts.profile(integrationId);
    const person = profile?.contactEmail ?? (await deps.store.getIntegration(integrationId))?.microsoftAccount?.username ?? null;
    return [...new Set([...(person ? [person] : []), ...operator])];
  }

  /** `render` words a mail that says more than its condition's (the period reminder's list); it runs
   * only when the mail is to be sent. */
  async function sendOnce(key: AlertMailKey, now: string, render?: (language: MailLanguage, link: string) => Promise<Mail>): Promise<void> {
    if (!deps.mailer) return;
    const to = await recipients(key.integrationId);
    if (to.length === 0) return;
    if (!(await alerts.claimMail(key, now))) return;
    const profile = await alerts.profile(key.integrationId);
    const condition = key.condition as AlertCondition;
    const language = mailLanguage(profile?.contactLanguage);
    const link = alertLink(deps.publicUrl, key.integrationId, condition);
    const mail = render ? await render(language, link) : renderMail({ condition, reminder: key.kind !== 'alert', language, link });
    await deps.mailer.send({ to, ...mail });
    // Dying here (after the server accepted, before the mark) sends it again on retry: at least once.
    await alerts.markMailSent(key, now);
  }

  /** The mails owed now: each mailed occurrence under way (or begun at `now`) once, and the reminder due. */
  async function deliver(integrationId: string, now: string): Promise<void> {
    // Under way however old, and the events recorded at `now` (a retry finds them again).
    const events = (await alerts.history(integrationId, HISTORY_LENGTH)).filter((r) => r.resolvedAt !== null && r.startedAt === now);
    for (const r of [...(await alerts.active(integrationId)), ...events]) {
      // A period reminder's mail needs its list: remindClosedPeriod sends it.
      if (!r.mailed || r.condition === 'missing_receipts') continue;
      const key = { integrationId, condition: r.condition, occurrence: r.occurrence };
      await sendOnce({ ...key, kind: 'alert' }, now);
      const n = r.resolvedAt === null && FAILURES.includes(r.condition as AlertCondition) ? reminderNumber(r.startedAt, now) : 0;
      if (n > 0) await sendOnce({ ...key, kind: `reminder-${n}` }, now);
    }
  }

  async function next(integrationId: string, now: string): Promise<AlertCheck> {
    const profile = await alerts.profile(integrationId);
    const active = (await alerts.active(integrationId)).map(asActive);
    const base = profile?.lastSuccessAt ?? profile?.createdAt ?? now;
    return { nextCheckAt: nextCheck(active, new Date(Date.parse(base) + NO_SUCCESS_MS).toISOString(), now) };
  }

  /** The person's e-mail (and, unless the page gave it, language), learnt once from Qonto. */
  async function learnContact(integrationId: string): Promise<void> {
    if (!deps.membership || (await alerts.profile(integrationId))?.contactEmail) return;
    try {
      const member = await deps.membership(integrationId);
      await alerts.updateProfile(integrationId, { contactEmail: member.email ?? null, contactLanguage: member.locale ?? null }, { onlyIfUnset: true });
    } catch (error) {
      // Qonto's sign-in may be what ended: the Microsoft account's name stands in meanwhile.
      logger.debug({ err: error }, 'the Qonto membership could not be read for alerts');
    }
  }

  /**
   * Once the latest closed period's grace is over (period-reminder.ts), one reminder per integration
   * and period while some of its transactions still lack a receipt. Only after a completed run, which
   * has just re-read the transactions: a receipt attached meanwhile is not listed. A period that
   * closed before the integration was created is left alone (connecting in March does not mail about
   * January). A mail that failed is sent at the next completed run while receipts are still missing.
   */
  async function remindClosedPeriod(integrationId: string, now: string): Promise<void> {
    if (!deps.periodReminder) return;
    const integration = await deps.store.getIntegration(integrationId);
    const profile = await alerts.profile(integrationId);
    if (!integration?.timeZone || !integration.syncFrom || !profile) return;
    const { period, dueAt } = duePeriod(now, integration.timeZone);
    if (Date.parse(dueAt) < Date.parse(profile.createdAt)) return;
    const counts = (await deps.store.missingByPeriod(integrationId, integration.syncFrom)).filter((c) => c.period === period);
    if (counts.length === 0) return;
    // An event: in the history, not in the banner (the missing-receipts section shows what is left).
    await alerts.open(integrationId, { condition: 'missing_receipts', occurrence: period, startedAt: now, resolvedAt: now, mailed: true });
    const { syncFrom } = integration;
    await sendOnce({ integrationId, condition: 'missing_receipts', occurrence: period, kind: 'alert' }, now, async (language, link) => {
      const missing = (await deps.store.missingReceipts(integrationId, syncFrom)).filter((m) => m.period === period);
      return renderPeriodReminder({ period, language, counts, missing, link });
    });
  }

  return {
    /** A run ended: conditions begin and end, the last success moves, mails go out. */
    async runEnded(integrationId: string, run: RunEnd): Promise<AlertCheck> {
      const now = run.finishedAt;
      const profile = await alerts.profile(integrationId);
      if (!profile) return { nextCheckAt: null };
      await learnContact(integrationId);
      if (run.outcome === 'completed') await alerts.updateProfile(integrationId, { lastSuccessAt: now });
      const active = new Map((await alerts.active(integrationId)).map((r) => [r.condition as AlertCondition, { mailed: r.mailed }]));
      const change = afterRun(active, run, overdue(profile.lastSuccessAt, profile.createdAt, now));
      for (const b of change.begin) await alerts.open(integrationId, { condition: b.condition, occurrence: now, startedAt: now, mailed: b.mailed });
      // Recorded before the failures it ends, so a retry after the next step still finds it.
      if (change.backToNormal) await alerts.open(integrationId, { condition: 'back_to_normal', occurrence: now, startedAt: now, resolvedAt: now, mailed: true });
      await alerts.resolve(integrationId, change.end, now);
      await deliver(integrationId, now);
      if (run.outcome === 'completed') await remindClosedPeriod(integrationId, now);
      return next(integrationId, now);
    },

    /** A timer of the workflow fired: the 30 h mark or a reminder may be due. */
    async check(integrationId: string, now: string): Promise<AlertCheck> {
      const integration = await deps.store.getIntegration(integrationId);
      const profile = await alerts.profile(integrationId);
      if (!integration || !profile || integration.status === 'revoked') return { nextCheckAt: null };
      const active = await alerts.active(integrationId);
      if (overdue(profile.lastSuccessAt, profile.createdAt, now) && !active.some((a) => a.condition === 'no_success')) {
        await alerts.open(integrationId, { condition: 'no_success', occurrence: now, startedAt: now, mailed: true });
      }
      await deliver(integrationId, now);
      return next(integrationId, now);
    },

    /** Consent withdrawn: whatever was under way is over; one last mail. */
    async consentWithdrawn(integrationId: string, now: string): Promise<void> {
      if (!(await alerts.profile(integrationId))) return;
      // One per integration: withdrawal is final.
      await alerts.open(integrationId, { condition: 'consent_withdrawn', occurrence: 'consent', startedAt: now, resolvedAt: now, mailed: true });
      await alerts.resolve(integrationId, (await alerts.active(integrationId)).map((a) => a.condition), now);
      await sendOnce({ integrationId, condition: 'consent_withdrawn', occurrence: 'consent', kind: 'alert' }, now);
    },
  };
}

export type AlertService = ReturnType<typeof alertService>;

function asActive(r: AlertRecord) {
  return { condition: r.condition as AlertCondition, startedAt: r.startedAt, mailed: r.mailed };
}
