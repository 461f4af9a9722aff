import type { Locale } from './i18n.js';

/** The words of the dashboard's missing-receipts section, in every language of the pages. */
const en = {
  title: 'Receipts still missing',
  line: (period: string, n: number) => `${period}: ${n} ${n === 1 ? 'transaction' : 'transactions'} still without a receipt`,
  lost: (n: number) => `${n} declared lost`,
  none: 'Every completed transaction that needs a receipt has one.',
  download: 'Download the list (CSV)',
  date: 'Date',
  counterparty: 'Counterparty',
  amount: 'Amount',
  lostMark: 'declared lost',
  more: (n: number) => `… and ${n} more: the CSV lists them all.`,
  asOf: 'As of the last run; attach receipts in Qonto and they drop off after the next one.',
};

export type MissingMessages = typeof en;

const de: MissingMessages = {
  title: 'Noch fehlende Belege',
  line: (period, n) => `${period}: ${n} ${n === 1 ? 'Transaktion' : 'Transaktionen'} noch ohne Beleg`,
  lost: (n) => `${n} als verloren gemeldet`,
  none: 'Jede abgeschlossene Transaktion, die einen Beleg braucht, hat einen.',
  download: 'Liste herunterladen (CSV)',
  date: 'Datum',
  counterparty: 'Gegenpartei',
  amount: 'Betrag',
  lostMark: 'als verloren gemeldet',
  more: (n) => `… und ${n} weitere: die CSV-Datei listet alle.`,
  asOf: 'Stand des letzten Laufs; in Qonto angehängte Belege verschwinden nach dem nächsten aus der Liste.',
};

export const MISSING_MESSAGES: Record<Locale, MissingMessages> = { en, de };
