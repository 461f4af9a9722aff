import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { smtpMailer, type Mailer } from '../../src/alerts/mailer.js';
import { MAIL_GIVE_UP_MS, MAIL_LEASE_MS, MailsPendingError, alertService, type AlertServiceDeps } from '../../src/alerts/service.js';
import { openSqliteStoreReady } from '../../src/store/sqlite.js';
import type { Store } from '../../src/store/types.js';
import { TestSmtp } from '../support/smtp.js';

// The alert activity's delivery against a real SMTP server on loopback and a real store: what a
// retried activity (Temporal calls it again with the same input) sends.
let smtp: TestSmtp;
let store: Store;
let mailer: Mailer & { close(): void };
beforeAll(async () => {
  smtp = await TestSmtp.start();
  mailer = smtpMailer(smtp.url, 'alerts@receipts.example.com');
});
afterAll(async () => {
  mailer.close();
  await smtp.close();
});
beforeEach(async () => {
  smtp.received.length = 0;
  store = await openSqliteStoreReady(':memory:');
  await store.createIntegration({ id: 'i1', status: 'idle' });
  await store.updateIntegration('i1', { microsoftAccount: { homeAccountId: 'h', tenantId: 't', username: 'camille@outlook.com' } });
});
afterEach(() => store.close());

const service = (over: Partial<AlertServiceDeps> = {}) =>
  alertService({ store, mailer, publicUrl: 'https://receipts.example.com', alertTo: null, apiKeyMode: false, ...over });
const FAILED = { outcome: 'failed' as const, finishedAt: '2030-01-01T00:00:00.000Z', quota: null };

describe('alert delivery', () => {
  it('a retried activity sends each mail once: the attempt whose second mail failed does not send the first again', async () => {
    // Never a success since the integration was created (long ago): run_failed and no_success begin together.
    let sends = 0;
    const dying: Mailer = {
      async send(mail) {
        sends += 1;
        if (sends === 2) throw new Error('connection lost');
        await mailer.send(mail);
      },
    };
    await expect(service({ mailer: dying }).runEnded('i1', FAILED)).rejects.toThrow(MailsPendingError);
    expect(smtp.received).toHaveLength(1);
    // The retry (same input), and one more for good measure.
    await service().runEnded('i1', FAILED);
    await service().runEnded('i1', FAILED);
    expect(smtp.received.map((m) => m.subject).sort()).toEqual(['No receipts synced for more than 30 hours', 'Receipts sync failed']);
    expect(smtp.received.every((m) => m.to.join() === 'camille@outlook.com')).toBe(true);
  });

  it('an attempt still sending (its activity timed out, the retry began) is never doubled by the retry', async () => {
    let proceed!: () => void;
    const held = new Promise<void>((resolve) => (proceed = resolve));
    let started!: () => void;
    const sending = new Promise<void>((resolve) => (started = resolve));
    const slow: Mailer = {
      async send(mail) {
        started();
        await held;
        await mailer.send(mail);
      },
    };
    const first = service({ mailer: slow }).runEnded('i1', FAILED);
    await sending;
    // The retry meets the first attempt's claim: it sends nothing and asks to be tried again.
    await expect(service().runEnded('i1', FAILED)).rejects.toThrow(MailsPendingError);
    proceed();
    await first;
    await service().runEnded('i1', FAILED);
    expect(smtp.matching('No receipts synced')).toHaveLength(1);
    expect(smtp.matching('Receipts sync failed')).toHaveLength(1);
  });

  it('at least once only where it cannot be helped: a mail accepted but never marked goes again once its lease ran out', async () => {
    let clock = Date.parse('2030-01-01T00:00:00.000Z');
    const wallClock = () => clock;
    const markFails = { ...store.alerts, markMailSent: async () => Promise.reject(new Error('store down')) };
    const shaky = { ...store, alerts: markFails } as Store;
    await expect(service({ store: shaky, wallClock }).runEnded('i1', FAILED)).rejects.toThrow('store down');
    // Within the lease the attempt may still be running: nothing is sent again.
    await expect(service({ wallClock }).runEnded('i1', FAILED)).rejects.toThrow(MailsPendingError);
    expect(smtp.matching('No receipts synced')).toHaveLength(1);
    clock += MAIL_LEASE_MS;
    await service({ wallClock }).runEnded('i1', FAILED);
    // The first mail (no_success: same start, conditions in name order) went twice; the one after it once.
    expect(smtp.matching('No receipts synced')).toHaveLength(2);
    expect(smtp.matching('Receipts sync failed')).toHaveLength(1);
  });

  it('a mail the server could not take is sent by the retry, and holds back none of the others', async () => {
    smtp.refuseNext = 1;
    await expect(service().runEnded('i1', FAILED)).rejects.toThrow(MailsPendingError);
    expect(smtp.received).toHaveLength(1);
    await service().runEnded('i1', FAILED);
    expect(smtp.matching('No receipts synced')).toHaveLength(1);
    expect(smtp.matching('Receipts sync failed')).toHaveLength(1);
  });

  it('gives a mail up when the server refuses it for good (5xx), or after a day of failures; the others go', async () => {
    const refusing = (subject: string, responseCode: number): Mailer => ({
      async send(mail) {
        if (mail.subject.startsWith(subject)) throw Object.assign(new Error('refused'), { responseCode });
        await mailer.send(mail);
      },
    });
    let clock = Date.parse('2030-01-01T00:00:00.000Z');
    const wallClock = () => clock;
    // Refused for good: given up at once, the run's other mail goes, the activity succeeds.
    await service({ mailer: refusing('Receipts sync failed', 550), wallClock }).runEnded('i1', FAILED);
    expect(smtp.received.map((m) => m.subject)).toEqual(['No receipts synced for more than 30 hours']);
    await service({ wallClock }).runEnded('i1', FAILED);
    expect(smtp.matching('Receipts sync failed')).toHaveLength(0);

    // Not taken for a day (451 at every check): tried meanwhile, then given up.
    const FAILED_AGAIN = { ...FAILED, finishedAt: '2030-01-05T00:00:00.000Z' };
    const busy = refusing('Reminder', 451);
    await expect(service({ mailer: busy, wallClock }).runEnded('i1', FAILED_AGAIN)).rejects.toThrow(MailsPendingError);
    clock += MAIL_GIVE_UP_MS - 1;
    await expect(service({ mailer: busy, wallClock }).runEnded('i1', FAILED_AGAIN)).rejects.toThrow(MailsPendingError);
    clock += 1;
    await service({ mailer: busy, wallClock }).runEnded('i1', FAILED_AGAIN);
    await service({ wallClock }).runEnded('i1', FAILED_AGAIN);
    expect(smtp.matching('Reminder')).toHaveLength(0);
  });

  it('goes to the person and ALERT_TO; in API-key mode to ALERT_TO only; in the person\'s language', async () => {
    await store.alerts.updateProfile('i1', { contactEmail: 'owner@example.com', contactLanguage: 'de' });
    await service({ alertTo: 'ops@example.com' }).runEnded('i1', FAILED);
    expect(smtp.matching('Belegsynchronisierung fehlgeschlagen')[0]?.to).toEqual(['owner@example.com', 'ops@example.com']);
    smtp.received.length = 0;
    await service({ alertTo: 'ops@example.com', apiKeyMode: true }).consentWithdrawn('i1', '2030-01-02T00:00:00.000Z');
    expect(smtp.received.map((m) => [m.to, m.subject])).toEqual([[['ops@example.com'], 'Belegsynchronisierung beendet: Einwilligung widerrufen']]);
  });

  it('learns the e-mail and locale of the Qonto member, keeping a language the page gave', async () => {
    await store.alerts.updateProfile('i1', { contactLanguage: 'en' });
    await service({ membership: async () => ({ email: 'member@example.com', locale: 'de' }) }).runEnded('i1', FAILED);
    expect(smtp.matching('Receipts sync failed')[0]?.to).toEqual(['member@example.com']);
  });

  it('sends only to an address: a list or a name from Qonto is not taken as one, the Microsoft account stands in', async () => {
    await service({ membership: async () => ({ email: 'a@example.com, b@example.com', locale: 'en' }) }).runEnded('i1', FAILED);
    expect(smtp.matching('Receipts sync failed')[0]?.to).toEqual(['camille@outlook.com']);
    expect((await store.alerts.profile('i1'))?.contactEmail ?? null).toBeNull();
  });

  it('reminds of a failure that lasts every 3 days, however many occurrences came and went meanwhile', async () => {
    const start = '2030-01-01T00:00:00.000Z';
    await store.alerts.updateProfile('i1', { lastSuccessAt: '2029-12-30T00:00:00.000Z' });
    await service().check('i1', start);
    for (let i = 0; i < 25; i++) {
      const at = new Date(Date.parse(start) + (i + 1) * 60_000).toISOString();
      await store.alerts.open('i1', { condition: 'drive_nearly_full', occurrence: at, startedAt: at, mailed: false });
      await store.alerts.resolve('i1', ['drive_nearly_full'], at);
    }
    const { nextCheckAt } = await service().check('i1', '2030-01-03T00:00:00.000Z');
    expect(nextCheckAt).toBe('2030-01-04T00:00:00.000Z');
    await service().check('i1', nextCheckAt!);
    await service().check('i1', '2030-01-05T00:00:00.000Z');
    expect(smtp.received.map((m) => m.subject)).toEqual(['No receipts synced for more than 30 hours', 'Reminder: No receipts synced for more than 30 hours']);
  });

  it('without SMTP_URL records the alert for the dashboard and sends nothing', async () => {
    await service({ mailer: null }).runEnded('i1', FAILED);
    expect(smtp.received).toEqual([]);
    expect((await store.alerts.active('i1')).map((a) => a.condition).sort()).toEqual(['no_success', 'run_failed']);
  });
});
