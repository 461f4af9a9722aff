import { z } from 'zod';
import type { AlertMailKey, AlertRecord } from '../store/alert-store.js';
import type { Store } from '../store/types.js';
import type { SignInProvider } from '../errors.js';
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
  /** The wall clock (epoch ms) of mail leases; tests move it. */
  wallClock?: () => number;
}

/** How long an attempt holds a mail it claimed: longer than the alert activity's timeout (1 minute),
 * so an attempt still sending it (its activity timed out, a retry started) is never doubled. */
export const MAIL_LEASE_MS = 2 * 60_000;
/** A mail the server could not take (down, 4xx) is tried again at every check for this long, then
 * given up, so one broken mail never blocks the integration's alerts for good. */
export const MAIL_GIVE_UP_MS = 24 * 3600_000;

/** Raised when some mail could not go yet (server unavailable, another attempt sending it): the
 * activity's retry (or the next check) tries those again; the others went. */
export class MailsPendingError extends Error {
  constructor(readonly pending: number) {
    super(`${pending} alert mail(s) could not be sent yet`);
    this.name = 'MailsPendingError';
  }
}

/** An SMTP answer that will not change by trying again (5xx: mailbox unknown, sender refused). */
function refusedForGood(error: unknown): boolean {
  const code = (error as { responseCode?: unknown }).responseCode;
  return typeof code === 'number' && code >= 500 && code < 600;
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
const MailAddress = z.email();
const isMailAddress = (value: string): boolean => MailAddress.safeParse(value).success;

export function alertService(deps: AlertServiceDeps) {
  const alerts = deps.store.alerts;

  async function recipients(integrationId: string): Promise<string[]> {
    const operator = deps.alertTo ? [deps.alertTo] : [];
    if (deps.apiKeyMode) return operator;
    const profile = await alerts.profile(integrationId);
    const person = profile?.contactEmail ?? (await deps.store.getIntegration(integrationId))?.microsoftAccount?.username ?? null;
    // One address, as Qonto or Microsoft gave it: never a list (nodemailer splits on commas) or a name.
    return [...new Set([...(person && isMailAddress(person) ? [person] : []), ...operator])];
  }

  const wallClock = deps.wallClock ?? Date.now;

  /** Sends the mail unless it went already: `pending` when it must be tried again later. `render`
   * words a mail that says more than its condition's (the period reminder's list); it runs only when
   * the mail is to be sent. */
  async function sendOnce(key: AlertMailKey, now: string, render?: (language: MailLanguage, link: string) => Promise<Mail>, signIn: SignInProvider | null = null): Promise<'done' | 'pending'> {
    if (!deps.mailer) return 'done';
    const to = await recipients(key.integrationId);
    if (to.length === 0) return 'done';
    const wall = wallClock();
    const claim = await alerts.claimMail(key, { at: new Date(wall).toISOString(), now: wall, leaseUntil: wall + MAIL_LEASE_MS });
    if (claim === 'done') return 'done';
    if (claim === 'busy') return 'pending';
    const profile = await alerts.profile(key.integrationId);
    const condition = key.condition as AlertCondition;
    const language = mailLanguage(profile?.contactLanguage);
    const link = alertLink(deps.publicUrl, key.integrationId, condition);
    const mail = render ? await render(language, link) : renderMail({ condition, reminder: key.kind !== 'alert', language, link, signIn, apiKeyMode: deps.apiKeyMode });
    try {
      await deps.mailer.send({ to, ...mail });
    } catch (error) {
      const first = Date.parse((await alerts.mailFirstClaimed(key)) ?? new Date(wall).toISOString());
      if (refusedForGood(error) || wall - first >= MAIL_GIVE_UP_MS) {
        await alerts.giveUpMail(key, now);
        // The condition stays on the dashboard; the log says why its mail did not go (no address in it).
        logger.warn({ condition: key.condition, kind: key.kind, responseCode: (error as { responseCode?: unknown }).responseCode }, 'alert mail given up');
        return 'done';
      }
      await alerts.releaseMail(key);
      logger.info({ condition: key.condition, kind: key.kind, responseCode: (error as { responseCode?: unknown }).responseCode }, 'alert mail not sent yet');
      return 'pending';
    }
    // Dying here (after the server accepted, before the mark) sends it again once the lease has run
    // out: at least once, in that window only.
    await alerts.markMailSent(key, now);
    return 'done';
  }

  /** The mails owed now: each mailed occurrence under way (or begun at `now`) once, and the reminder due.
   * `signIn`: whose sign-in ended, as the workflow knows it, named by a `reconnect_required` mail. */
  async function deliver(integrationId: string, now: string, signIn: SignInProvider | null): Promise<number> {
    // Under way however old, and the events recorded at `now` (a retry finds them again).
    const events = (await alerts.history(integrationId, HISTORY_LENGTH)).filter((r) => r.resolvedAt !== null && r.startedAt === now);
    // Each mail on its own: one that cannot go yet holds back none of the others.
    let pending = 0;
    for (const r of [...(await alerts.active(integrationId)), ...events]) {
      // A period reminder's mail needs its list: remindClosedPeriod sends it.
      if (!r.mailed || r.condition === 'missing_receipts') continue;
      const key = { integrationId, condition: r.condition, occurrence: r.occurrence };
      if ((await sendOnce({ ...key, kind: 'alert' }, now, undefined, signIn)) === 'pending') pending += 1;
      const n = r.resolvedAt === null && FAILURES.includes(r.condition as AlertCondition) ? reminderNumber(r.startedAt, now) : 0;
      if (n > 0 && (await sendOnce({ ...key, kind: `reminder-${n}` }, now, undefined, signIn)) === 'pending') pending += 1;
    }
    return pending;
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
      const email = member.email !== undefined && isMailAddress(member.email) ? member.email : null;
      await alerts.updateProfile(integrationId, { contactEmail: email, contactLanguage: member.locale ?? null }, { onlyIfUnset: true });
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
  async function remindClosedPeriod(integrationId: string, now: string): Promise<'done' | 'pending'> {
    if (!deps.periodReminder) return 'done';
    const integration = await deps.store.getIntegration(integrationId);
    const profile = await alerts.profile(integrationId);
    if (!integration?.timeZone || !integration.syncFrom || !profile) return 'done';
    const { period, dueAt } = duePeriod(now, integration.timeZone);
    if (Date.parse(dueAt) < Date.parse(profile.createdAt)) return 'done';
    const counts = (await deps.store.missingByPeriod(integrationId, integration.syncFrom)).filter((c) => c.period === period);
    if (counts.length === 0) return 'done';
    // An event: in the history, not in the banner (the missing-receipts section shows what is left).
    await alerts.open(integrationId, { condition: 'missing_receipts', occurrence: period, startedAt: now, resolvedAt: now, mailed: true });
    const { syncFrom } = integration;
    return sendOnce({ integrationId, condition: 'missing_receipts', occurrence: period, kind: 'alert' }, now, async (language, link) => {
      const missing = (await deps.store.missingReceipts(integrationId, syncFrom)).filter((m) => m.period === period);
      return renderPeriodReminder({ period, language, counts, missing, link });
    });
  }

  return {
    /** A run ended: conditions begin and end, the last success moves, mails go out. */
    async runEnded(integrationId: string, run: RunEnd & { signInEnded?: SignInProvider | null }): Promise<AlertCheck> {
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
      let pending = await deliver(integrationId, now, run.signInEnded ?? null);
      if (run.outcome === 'completed' && (await remindClosedPeriod(integrationId, now)) === 'pending') pending += 1;
      if (pending > 0) throw new MailsPendingError(pending);
      return next(integrationId, now);
    },

    /** A timer of the workflow fired: the 30 h mark or a reminder may be due. */
    async check(integrationId: string, now: string, signInEnded: SignInProvider | null = null): Promise<AlertCheck> {
      const integration = await deps.store.getIntegration(integrationId);
      const profile = await alerts.profile(integrationId);
      if (!integration || !profile || integration.status === 'revoked') return { nextCheckAt: null };
      const active = await alerts.active(integrationId);
      if (overdue(profile.lastSuccessAt, profile.createdAt, now) && !active.some((a) => a.condition === 'no_success')) {
        await alerts.open(integrationId, { condition: 'no_success', occurrence: now, startedAt: now, mailed: true });
      }
      const pending = await deliver(integrationId, now, signInEnded);
      if (pending > 0) throw new MailsPendingError(pending);
      return next(integrationId, now);
    },

    /** Consent withdrawn: whatever was under way is over; one last mail. */
    async consentWithdrawn(integrationId: string, now: string): Promise<void> {
      if (!(await alerts.profile(integrationId))) return;
      // One per integration: withdrawal is final.
      await alerts.open(integrationId, { condition: 'consent_withdrawn', occurrence: 'consent', startedAt: now, resolvedAt: now, mailed: true });
      await alerts.resolve(integrationId, (await alerts.active(integrationId)).map((a) => a.condition), now);
      if ((await sendOnce({ integrationId, condition: 'consent_withdrawn', occurrence: 'consent', kind: 'alert' }, now)) === 'pending') {
        throw new MailsPendingError(1);
      }
    },
  };
}

export type AlertService = ReturnType<typeof alertService>;

function asActive(r: AlertRecord) {
  return { condition: r.condition as AlertCondition, startedAt: r.startedAt, mailed: r.mailed };
}
