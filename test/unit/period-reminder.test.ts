import { describe, expect, it } from 'vitest';
import { duePeriod, renderPeriodReminder, reminderDueAt } from '../../src/alerts/period-reminder.js';
import type { MissingReceipt } from '../../src/store/types.js';

const LINK = 'https://receipts.example.com/?integration=i1#missing-i1';

const receipt = (over: Partial<MissingReceipt>): MissingReceipt => ({
  transactionId: 't',
  date: '2026-11-03',
  amountCents: -5240,
  currency: 'EUR',
  counterparty: 'Amazon',
  account: 'Main account (0107)',
  period: '2026-11',
  lost: false,
  ...over,
});

describe('which period is due', () => {
  it('is the month before last until the 5th is over, then last month, in the zone', () => {
    expect(duePeriod('2026-12-05T22:59:59.000Z', 'Europe/Paris')).toEqual({ period: '2026-10', dueAt: '2026-11-05T23:00:00.000Z' });
    // 00:00 on the 6th in Paris is still the 5th in UTC.
    expect(duePeriod('2026-12-05T23:00:00.000Z', 'Europe/Paris')).toEqual({ period: '2026-11', dueAt: '2026-12-05T23:00:00.000Z' });
    expect(duePeriod('2026-12-05T23:00:00.000Z', 'UTC').period).toBe('2026-10');
    expect(duePeriod('2027-01-31T12:00:00.000Z', 'Europe/Paris').period).toBe('2026-12');
    expect(duePeriod('2027-01-02T12:00:00.000Z', 'Europe/Paris').period).toBe('2026-11');
    expect(duePeriod('2027-02-03T12:00:00.000Z', 'Europe/Paris').period).toBe('2026-12');
  });

  it('is due at the start of the 6th of the next month, across a year and a change of summer time', () => {
    expect(reminderDueAt('2026-12', 'Europe/Paris')).toBe('2027-01-05T23:00:00.000Z');
    expect(reminderDueAt('2026-03', 'Europe/Paris')).toBe('2026-04-05T22:00:00.000Z');
    expect(reminderDueAt('2026-11', 'America/New_York')).toBe('2026-12-06T05:00:00.000Z');
  });
});

describe('the reminder mail', () => {
  it('says the month and the total, then per account the count, the lost ones and the first transactions, and the link (EN)', () => {
    const mail = renderPeriodReminder({
      period: '2026-11',
      language: 'en',
      counts: [
        { period: '2026-11', account: 'Main account (0107)', missing: 2, lost: 1 },
        { period: '2026-11', account: 'Savings (0201)', missing: 1, lost: 0 },
      ],
      missing: [
        receipt({ transactionId: 'a' }),
        receipt({ transactionId: 'b', date: '2026-11-20', counterparty: 'SNCF', amountCents: -11900, lost: true }),
        receipt({ transactionId: 'c', account: 'Savings (0201)', counterparty: 'Free Pro', amountCents: -2999 }),
      ],
      link: LINK,
    });
    expect(mail.subject).toBe('2026-11: 3 transactions still without a receipt');
    expect(mail.text).toBe(
      [
        'The month 2026-11 is over, and 3 of its transactions still have no receipt in Qonto.',
        '',
        'Without them the month cannot be closed in the books. A receipt you attach in Qonto is copied to OneDrive by the next sync, and drops off the list.',
        '',
        'Main account (0107): 2 transactions (1 declared lost)',
        '  3 Nov 2026  Amazon  -€52.40',
        '  20 Nov 2026  SNCF  -€119.00',
        '',
        'Savings (0201): 1 transaction',
        '  3 Nov 2026  Free Pro  -€29.99',
        '',
        'The whole list, and its CSV for your accountant, on the dashboard:',
        LINK,
        '',
        '-- ',
        'This is an automatic message of your Qonto → OneDrive receipts sync.',
        '',
      ].join('\n'),
    );
  });

  it('lists the first five of an account and counts the rest (DE, singular)', () => {
    const missing = Array.from({ length: 7 }, (_, i) => receipt({ transactionId: `t${i}`, date: `2026-11-1${i}`, counterparty: `Händler ${i}` }));
    const mail = renderPeriodReminder({ period: '2026-11', language: 'de', counts: [{ period: '2026-11', account: 'Main account (0107)', missing: 7, lost: 0 }], missing, link: LINK });
    expect(mail.subject).toBe('2026-11: 7 Transaktionen noch ohne Beleg');
    expect(mail.text).toContain('Main account (0107): 7 Transaktionen\n  10. Nov. 2026  Händler 0  -52,40\u00a0€\n');
    expect(mail.text).toContain('Händler 4');
    expect(mail.text).not.toContain('Händler 5');
    expect(mail.text).toContain('  … und 2 weitere\n');
    expect(mail.text).toContain(`im Dashboard:\n${LINK}\n`);
    const one = renderPeriodReminder({ period: '2026-11', language: 'de', counts: [{ period: '2026-11', account: 'A', missing: 1, lost: 1 }], missing: [receipt({ account: 'A', lost: true })], link: LINK });
    expect(one.subject).toBe('2026-11: 1 Transaktion noch ohne Beleg');
    expect(one.text).toMatch(/^Der Monat 2026-11 ist vorbei, und 1 seiner Transaktionen hat in Qonto noch keinen Beleg\./);
    expect(one.text).toContain('A: 1 Transaktion (1 als verloren gemeldet)');
  });

  it('shows an amount in a currency Intl does not know as the number and the code', () => {
    const mail = renderPeriodReminder({ period: '2026-11', language: 'en', counts: [{ period: '2026-11', account: 'A', missing: 1, lost: 0 }], missing: [receipt({ account: 'A', currency: 'XYZW' })], link: LINK });
    expect(mail.text).toContain('Amazon  -52.40 XYZW\n');
  });
});
