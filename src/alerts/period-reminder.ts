import { localDate, startOfLocalDay } from '../sync/periods.js';
import type { MissingCount, MissingReceipt } from '../store/types.js';
import { SIGNATURE, type Mail, type MailLanguage } from './templates.js';

/**
 * The reminder when a period closes with receipts still missing: which period is due, and its mail.
 * Pure. Rules: docs/alerts.md, Receipts still missing when a month is over.
 *
 * A month's reminder is due 5 days after it ends: receipts of the last days' card payments usually
 * arrive a few days late, and mailing on the 1st would list those too; the 6th still leaves time before
 * the usual monthly deadlines (in Germany the VAT return is due on the 10th).
 */
export const GRACE_DAYS = 5;

/** Transactions listed per account in the mail; the dashboard and the CSV have them all. */
export const LISTED_PER_ACCOUNT = 5;

const pad = (n: number) => String(n).padStart(2, '0');

/** The month after `YYYY-MM`. */
function nextMonth(period: string): string {
  const [y = 0, m = 0] = period.split('-').map(Number);
  return m === 12 ? `${y + 1}-01` : `${y}-${pad(m + 1)}`;
}

/** The month before `YYYY-MM`. */
function previousMonth(period: string): string {
  const [y = 0, m = 0] = period.split('-').map(Number);
  return m === 1 ? `${y - 1}-12` : `${y}-${pad(m - 1)}`;
}

/** When the reminder of `period` (`YYYY-MM`) is due: the start of the day GRACE_DAYS after the
 * month's end, in the integration's zone. */
export function reminderDueAt(period: string, timeZone: string): string {
  return startOfLocalDay(`${nextMonth(period)}-${pad(GRACE_DAYS + 1)}`, timeZone);
}

/** The latest period whose reminder is due at `now` (in November from the 6th on: October; before
 * the 6th: September), and when it became due. */
export function duePeriod(now: string, timeZone: string): { period: string; dueAt: string } {
  const today = localDate(now, timeZone);
  const current = today.slice(0, 7);
  const closed = previousMonth(current);
  const period = Number(today.slice(8, 10)) > GRACE_DAYS ? closed : previousMonth(closed);
  return { period, dueAt: reminderDueAt(period, timeZone) };
}

interface Wording {
  subject: (period: string, n: number) => string;
  what: (period: string, n: number) => string;
  meaning: string;
  account: (account: string, n: number, lost: number) => string;
  more: (n: number) => string;
  action: string;
}

const EN: Wording = {
  subject: (period, n) => `${period}: ${n} ${n === 1 ? 'transaction' : 'transactions'} still without a receipt`,
  what: (period, n) => `The month ${period} is over, and ${n === 1 ? '1 of its transactions still has' : `${n} of its transactions still have`} no receipt in Qonto.`,
  meaning: 'Without them the month cannot be closed in the books. A receipt you attach in Qonto is copied to OneDrive by the next sync, and drops off the list.',
  account: (account, n, lost) => `${account}: ${n} ${n === 1 ? 'transaction' : 'transactions'}${lost > 0 ? ` (${lost} declared lost)` : ''}`,
  more: (n) => `  … and ${n} more`,
  action: 'The whole list, and its CSV for your accountant, on the dashboard:',
};

const DE: Wording = {
  subject: (period, n) => `${period}: ${n} ${n === 1 ? 'Transaktion' : 'Transaktionen'} noch ohne Beleg`,
  what: (period, n) => `Der Monat ${period} ist vorbei, und ${n === 1 ? '1 seiner Transaktionen hat' : `${n} seiner Transaktionen haben`} in Qonto noch keinen Beleg.`,
  meaning: 'Ohne sie lässt sich der Monat in der Buchhaltung nicht abschließen. Ein Beleg, den Sie in Qonto anhängen, wird mit der nächsten Synchronisierung nach OneDrive kopiert und verschwindet aus der Liste.',
  account: (account, n, lost) => `${account}: ${n} ${n === 1 ? 'Transaktion' : 'Transaktionen'}${lost > 0 ? ` (${lost} als verloren gemeldet)` : ''}`,
  more: (n) => `  … und ${n} weitere`,
  action: 'Die ganze Liste, und als CSV für Ihre Steuerberatung, im Dashboard:',
};

const WORDING: Record<MailLanguage, Wording> = { en: EN, de: DE };
const LOCALE_TAGS: Record<MailLanguage, string> = { en: 'en-GB', de: 'de-DE' };

function amount(cents: number, currency: string, language: MailLanguage): string {
  try {
    return new Intl.NumberFormat(LOCALE_TAGS[language], { style: 'currency', currency }).format(cents / 100);
  } catch {
    // Not an ISO 4217 code Intl knows: the number and the code as Qonto gave it.
    return `${new Intl.NumberFormat(LOCALE_TAGS[language], { minimumFractionDigits: 2 }).format(cents / 100)} ${currency}`;
  }
}

function day(ymd: string, language: MailLanguage): string {
  return new Intl.DateTimeFormat(LOCALE_TAGS[language], { day: 'numeric', month: 'short', year: 'numeric', timeZone: 'UTC' }).format(new Date(`${ymd}T00:00:00Z`));
}

export interface PeriodReminderInput {
  period: string;
  language: MailLanguage;
  /** The period's counts per account (missingByPeriod). */
  counts: readonly MissingCount[];
  /** The period's missing transactions, in date order (missingReceipts). */
  missing: readonly MissingReceipt[];
  /** The dashboard's missing receipts of the integration: an absolute URL under PUBLIC_URL. */
  link: string;
}

/** The reminder's mail, in plain text: per account the count and its first transactions. */
export function renderPeriodReminder({ period, language, counts, missing, link }: PeriodReminderInput): Mail {
  const w = WORDING[language];
  const total = counts.reduce((sum, c) => sum + c.missing, 0);
  const lines = [w.what(period, total), '', w.meaning, ''];
  for (const c of counts) {
    lines.push(w.account(c.account, c.missing, c.lost));
    const items = missing.filter((m) => m.account === c.account);
    for (const m of items.slice(0, LISTED_PER_ACCOUNT)) lines.push(`  ${day(m.date, language)}  ${m.counterparty}  ${amount(m.amountCents, m.currency, language)}`);
    if (c.missing > LISTED_PER_ACCOUNT) lines.push(w.more(c.missing - LISTED_PER_ACCOUNT));
    lines.push('');
  }
  lines.push(w.action, link, '', '-- ', SIGNATURE[language], '');
  return { subject: w.subject(period, total), text: lines.join('\n') };
}

