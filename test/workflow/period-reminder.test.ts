import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { GRACE_DAYS, reminderDueAt } from '../../src/alerts/period-reminder.js';
import { localDate } from '../../src/sync/periods.js';
import { TestSmtp } from '../support/smtp.js';
import { SYNC_FROM, Testbed, ZONE, sleepingAfter, type StartedIntegration } from '../support/testbed.js';

// The real workflow on the time-skipping server across a month's end and its grace, the reminder
// mailed through a real SMTP server on loopback (API-key mode: ALERT_TO is the only recipient).
const OPERATOR = 'ops@receipts.example.com';
const DAY_MS = 24 * 60 * 60_000;
let smtp: TestSmtp;
beforeAll(async () => {
  smtp = await TestSmtp.start();
});
afterAll(async () => {
  await smtp?.close();
});

async function bedWith(reminder: boolean): Promise<Testbed> {
  const extraEnv: Record<string, string> = { SMTP_URL: smtp.url, ALERT_FROM: 'alerts@receipts.example.com', ALERT_TO: OPERATOR };
  if (reminder) extraEnv.MISSING_RECEIPTS_REMINDER = 'true';
  return Testbed.create('time-skipping', { extraEnv });
}

const mailsOf = (t: StartedIntegration) => smtp.received.filter((m) => m.text.includes(`integration=${t.id}`));
const remindersOf = (t: StartedIntegration) => mailsOf(t).filter((m) => /still without a receipt|noch ohne Beleg/.test(m.subject));

/** As the Finish route does: the store keeps the start date (the dashboard's and the reminder's lists
 * read it); `language` as the Connect page would have stored it. */
const finished =
  (bed: Testbed, syncFrom = SYNC_FROM, language?: string) =>
  async ({ id }: { id: string }) => {
    await bed.h.services.store.updateIntegration(id, { syncFrom });
    if (language) await bed.h.services.store.alerts.updateProfile(id, { contactLanguage: language });
  };

/** This month in the integration's zone, on the workflow's clock (the test server starts at the real time). */
async function currentPeriod(bed: Testbed): Promise<string> {
  return localDate(new Date(await bed.env.currentTimeMs()).toISOString(), ZONE).slice(0, 7);
}

const day = (locale: string, instant: string) => new Intl.DateTimeFormat(locale, { day: 'numeric', month: 'short', year: 'numeric', timeZone: ZONE }).format(new Date(instant));

/** A debit without its receipt in the first minutes of `period`, so the mail lists it first. */
function unpaidInvoice(bed: Testbed, period: string) {
  const [account] = bed.h.sims.qonto.data.bankAccounts();
  return bed.h.sims.qonto.data.addTransaction({ bankAccountId: account!.id, amount: 42, label: 'Papeterie Martin', side: 'debit', emittedAt: `${period}-01T00:05:00+01:00` });
}

/** Skips past `at` and the daily run after it (the integrations share SYNC_TIME), then waits for each
 * integration's run that ended after `at`. */
async function runsAfter(bed: Testbed, at: string, ...ts: StartedIntegration[]): Promise<void> {
  await bed.env.sleep(Math.max(0, Date.parse(at) - (await bed.env.currentTimeMs())));
  const asleep = await ts[0]!.status((v) => v.phase.startsWith('sleeping') && v.nextRunAt !== null && v.nextRunAt > at, `the wait for the run after ${at}`);
  await bed.skipToNextRun(asleep);
  for (const t of ts) await t.status((v) => v.phase.startsWith('sleeping') && v.lastRun !== null && v.lastRun.finishedAt > at, `the first run after ${at}`);
}

describe('with MISSING_RECEIPTS_REMINDER=true', () => {
  let bed: Testbed;
  beforeAll(async () => {
    bed = await bedWith(true);
  });
  afterAll(async () => {
    await bed?.close();
  });
  afterEach(async () => {
    await bed.terminateStarted();
    smtp.received.length = 0;
  });

  it(`mails once per period, ${GRACE_DAYS} days after it ended, what is still missing per account (EN and DE); nothing where nothing is missing`, { timeout: 300_000 }, async () => {
    const period = await currentPeriod(bed);
    const invoice = unpaidInvoice(bed, period);
    const en = await bed.start('remind-en', {}, finished(bed));
    const de = await bed.start('remind-de', {}, finished(bed, SYNC_FROM, 'de'));
    // Its start date is after every transaction of the month: nothing of it is missing.
    const tomorrow = localDate(new Date((await bed.env.currentTimeMs()) + DAY_MS).toISOString(), ZONE);
    const none = await bed.start('remind-none', {}, finished(bed, tomorrow), tomorrow);
    await en.run(() =>
      de.run(() =>
        none.run(async () => {
          for (const t of [en, de, none]) await t.status(sleepingAfter(1), 'the backfill');
          expect(smtp.received).toEqual([]);

          // The month is over, its grace is not: nothing yet.
          const due = reminderDueAt(period, ZONE);
          await runsAfter(bed, new Date(Date.parse(due) - GRACE_DAYS * DAY_MS).toISOString(), en, de, none);
          expect(smtp.received).toEqual([]);

          await runsAfter(bed, due, en, de, none);
          const counts = (await bed.h.services.store.missingByPeriod(en.id, SYNC_FROM)).filter((c) => c.period === period);
          const total = counts.reduce((n, c) => n + c.missing, 0);
          expect(counts.find((c) => c.missing > 0)).toBeDefined();

          expect(remindersOf(en).map((m) => m.subject)).toEqual([`${period}: ${total} transactions still without a receipt`]);
          const [mail] = remindersOf(en);
          expect(mail!.to).toEqual([OPERATOR]);
          expect(mail!.text).toMatch(new RegExp(`^The month ${period} is over, and ${total} of its transactions still have no receipt in Qonto\\.`));
          for (const c of counts) expect(mail!.text).toContain(`\n${c.account}: ${c.missing} transaction`);
          expect(mail!.text).toContain(`\n  ${day('en-GB', invoice.emittedAt)}  Papeterie Martin  -€42.00\n`);
          expect(mail!.text).toContain(`on the dashboard:\n${bed.h.config.PUBLIC_URL}/?integration=${en.id}#missing-${en.id}\n`);

          expect(remindersOf(de).map((m) => m.subject)).toEqual([`${period}: ${total} Transaktionen noch ohne Beleg`]);
          expect(remindersOf(de)[0]!.text).toContain(`Der Monat ${period} ist vorbei, und ${total} seiner Transaktionen haben in Qonto noch keinen Beleg.`);
          expect(remindersOf(de)[0]!.text).toContain(`\n  ${day('de-DE', invoice.emittedAt)}  Papeterie Martin  -42,00\u00a0€\n`);
          expect(remindersOf(de)[0]!.text).toContain(`im Dashboard:\n${bed.h.config.PUBLIC_URL}/?integration=${de.id}#missing-${de.id}\n`);
          expect(mailsOf(none)).toEqual([]);

          // Days later, with more runs, still the one mail; the dashboard's history shows it.
          await runsAfter(bed, new Date(Date.parse(due) + 3 * DAY_MS).toISOString(), en, de, none);
          expect(remindersOf(en)).toHaveLength(1);
          expect(remindersOf(de)).toHaveLength(1);
          expect(mailsOf(none)).toEqual([]);
          expect(smtp.received).toHaveLength(2);
          const history = await bed.h.services.store.alerts.history(en.id, 10);
          expect(history.map((a) => [a.condition, a.occurrence])).toEqual([['missing_receipts', period]]);
          expect(await bed.h.services.store.alerts.active(en.id)).toEqual([]);
        }),
      ),
    );
  });
});

describe('without the setting', () => {
  let bed: Testbed;
  beforeAll(async () => {
    bed = await bedWith(false);
  });
  afterAll(async () => {
    await bed?.terminateStarted();
    await bed?.close();
  });

  it('mails nothing when a period closes with receipts missing', { timeout: 300_000 }, async () => {
    const period = await currentPeriod(bed);
    unpaidInvoice(bed, period);
    const t = await bed.start('remind-off', {}, finished(bed));
    await t.run(async () => {
      await t.status(sleepingAfter(1), 'the backfill');
      await runsAfter(bed, new Date(Date.parse(reminderDueAt(period, ZONE)) + DAY_MS).toISOString(), t);
      expect((await bed.h.services.store.missingByPeriod(t.id, SYNC_FROM)).some((c) => c.period === period)).toBe(true);
      expect(mailsOf(t)).toEqual([]);
      expect(await bed.h.services.store.alerts.history(t.id, 10)).toEqual([]);
    });
  });
});
