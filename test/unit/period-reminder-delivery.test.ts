import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { smtpMailer, type Mailer } from '../../src/alerts/mailer.js';
import { duePeriod } from '../../src/alerts/period-reminder.js';
import { MailsPendingError, alertService, type AlertServiceDeps } from '../../src/alerts/service.js';
import { openSqliteStoreReady } from '../../src/store/sqlite.js';
import type { Store, TransactionRecord } from '../../src/store/types.js';
import { TestSmtp } from '../support/smtp.js';

// The period reminder of the alert service against a real SMTP server on loopback and a real store.
// The integration is created now; the runs below end in 2030, long after.
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
  await store.updateIntegration('i1', { syncFrom: '2029-01-01', timeZone: 'Europe/Paris', microsoftAccount: { homeAccountId: 'h', tenantId: 't', username: 'camille@outlook.com' } });
});
afterEach(() => store.close());

const service = (over: Partial<AlertServiceDeps> = {}) =>
  alertService({ store, mailer, publicUrl: 'https://receipts.example.com', alertTo: null, apiKeyMode: false, periodReminder: true, ...over });
const completed = (finishedAt: string) => ({ outcome: 'completed' as const, finishedAt, quota: null });

const tx = (id: string, localDate: string, over: Partial<TransactionRecord> = {}): TransactionRecord => ({
  transactionId: id,
  bankAccountId: 'acc',
  accountName: 'Main account (0107)',
  emittedAt: `${localDate}T10:00:00.000Z`,
  localDate,
  period: localDate.slice(0, 7),
  amountCents: -5240,
  currency: 'EUR',
  counterparty: 'Amazon',
  status: 'completed',
  required: true,
  lost: false,
  attachments: 0,
  ...over,
});

// 6 December 2030, 00:00 in Paris: November's reminder is due.
const DUE = '2030-12-05T23:00:00.000Z';
const reminders = () => smtp.received.filter((m) => m.subject.includes('still without a receipt'));

describe('the reminder of a period with receipts missing', () => {
  it('mails once at the first completed run from the 6th, whatever runs and retries follow', async () => {
    await store.upsertTransactions('i1', [tx('a', '2030-11-03'), tx('b', '2030-11-28'), tx('c', '2030-12-01')]);
    await service().runEnded('i1', completed('2030-12-05T22:30:00.000Z'));
    expect(reminders()).toEqual([]);
    await service().runEnded('i1', completed('2030-12-06T22:30:00.000Z'));
    await service().runEnded('i1', completed('2030-12-06T22:30:00.000Z'));
    await service().runEnded('i1', completed('2030-12-07T22:30:00.000Z'));
    expect(reminders().map((m) => m.subject)).toEqual(['2030-11: 2 transactions still without a receipt']);
    expect(reminders()[0]!.to).toEqual(['camille@outlook.com']);
    expect(reminders()[0]!.text).toContain('https://receipts.example.com/?integration=i1#missing-i1');
    expect((await store.alerts.history('i1', 10)).map((a) => [a.condition, a.occurrence, a.startedAt, a.resolvedAt])).toEqual([
      ['missing_receipts', '2030-11', '2030-12-06T22:30:00.000Z', '2030-12-06T22:30:00.000Z'],
    ]);
    // December's, a month later.
    await service().runEnded('i1', completed('2031-01-06T22:30:00.000Z'));
    expect(reminders().map((m) => m.subject)).toEqual(['2030-11: 2 transactions still without a receipt', '2030-12: 1 transaction still without a receipt']);
  });

  it('waits for a completed run: a failed one, or a timer check, says nothing of it', async () => {
    await store.upsertTransactions('i1', [tx('a', '2030-11-03')]);
    await service().runEnded('i1', { outcome: 'failed', finishedAt: DUE, quota: null });
    await service().check('i1', DUE);
    expect(reminders()).toEqual([]);
    expect((await store.alerts.history('i1', 10)).some((a) => a.condition === 'missing_receipts')).toBe(false);
  });

  it('records and mails nothing when nothing is missing, or only in another month', async () => {
    await store.upsertTransactions('i1', [tx('a', '2030-11-03', { attachments: 1 }), tx('b', '2030-11-04', { required: false }), tx('c', '2030-10-30')]);
    await service().runEnded('i1', completed(DUE));
    expect(smtp.received).toEqual([]);
    expect(await store.alerts.history('i1', 10)).toEqual([]);
  });

  it('is off without the setting', async () => {
    await store.upsertTransactions('i1', [tx('a', '2030-11-03')]);
    await service({ periodReminder: false }).runEnded('i1', completed(DUE));
    expect(smtp.received).toEqual([]);
    expect(await store.alerts.history('i1', 10)).toEqual([]);
  });

  it('leaves alone a month that was over before the integration was created', async () => {
    const created = (await store.alerts.profile('i1'))!.createdAt;
    const runAt = new Date(Date.parse(created) + 60_000).toISOString();
    const { period } = duePeriod(runAt, 'Europe/Paris');
    await store.updateIntegration('i1', { syncFrom: '2000-01-01' });
    await store.upsertTransactions('i1', [tx('a', `${period}-15`)]);
    await service().runEnded('i1', completed(runAt));
    expect(smtp.received).toEqual([]);
    expect(await store.alerts.history('i1', 10)).toEqual([]);
  });

  it('a mail that failed is sent by the next completed run, once; not when the receipts came meanwhile', async () => {
    await store.upsertTransactions('i1', [tx('a', '2030-11-03')]);
    const down: Mailer = { send: async () => Promise.reject(new Error('mail server down')) };
    await expect(service({ mailer: down }).runEnded('i1', completed(DUE))).rejects.toThrow(MailsPendingError);
    // Temporal's retry (the same input), then the next runs: one mail, with its list.
    await service().runEnded('i1', completed(DUE));
    await service().runEnded('i1', completed('2030-12-06T22:30:00.000Z'));
    await service().runEnded('i1', completed('2030-12-07T22:30:00.000Z'));
    expect(smtp.received.map((m) => m.subject)).toEqual(['2030-11: 1 transaction still without a receipt']);

    await store.upsertTransactions('i1', [tx('x', '2030-12-03')]);
    await expect(service({ mailer: down }).runEnded('i1', completed('2031-01-06T22:30:00.000Z'))).rejects.toThrow(MailsPendingError);
    await store.upsertTransactions('i1', [tx('x', '2030-12-03', { attachments: 1 })]);
    await service().runEnded('i1', completed('2031-01-07T22:30:00.000Z'));
    expect(smtp.received).toHaveLength(1);
  });

  it('without SMTP_URL it is in the dashboard history only', async () => {
    await store.upsertTransactions('i1', [tx('a', '2030-11-03')]);
    await service({ mailer: null }).runEnded('i1', completed(DUE));
    expect((await store.alerts.history('i1', 10)).map((a) => a.condition)).toEqual(['missing_receipts']);
    expect(await store.alerts.active('i1')).toEqual([]);
  });
});
