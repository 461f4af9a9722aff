/**
 * The export log (docs/export-log.md): one entry per file (receipt or probative copy), plus rows
 * without a file for copies not made and transactions still missing a receipt, written as CSV or JSON
 * while the store's pages are read, so a log of any length costs one page of memory.
 */
import type { ExportLogRow, MissingReceipt } from '../store/types.js';
import { parseManifestKey } from '../sync/probative.js';
import { decimal } from './decimal.js';

/** The fields, in this order (the CSV header, the keys of a JSON entry). */
export const EXPORT_LOG_FIELDS = [
  'attachmentId',
  'transactionId',
  'date',
  'amount',
  'currency',
  'counterparty',
  'account',
  'path',
  'size',
  'sha256',
  'quickXorHash',
  'exportedAt',
  'verifiedAt',
  'state',
] as const;

/**
 * What became of a file:
 * - exported: in the drive, verified, never deleted since;
 * - reimported: in the drive again after the user deleted the file (at least once);
 * - changed: in the drive, but a drive check found its content replaced (hash no longer ours);
 * - pending: not in the drive yet: new, or deleted by the user and exported again at the next run;
 * - failed: the last attempt failed; retried at the next run;
 * - dismissed: its folder was deleted by the user (or Qonto no longer has the receipt): stays gone
 *   until the integration is reconfigured.
 * And rows without a file (its fields empty):
 * - probative_pending / probative_unavailable: the receipt's probative copy is not made yet, or Qonto
 *   makes none (the option on; an available copy is a file row of its own);
 * - missing / lost: a transaction that needs a receipt and has none (lost: declared lost in Qonto).
 */
export const EXPORT_LOG_STATES = [
  'exported',
  'reimported',
  'changed',
  'pending',
  'failed',
  'dismissed',
  'probative_pending',
  'probative_unavailable',
  'missing',
  'lost',
] as const;
export type ExportLogState = (typeof EXPORT_LOG_STATES)[number];

export interface ExportLogEntry {
  /** Qonto's attachment id (of the receipt, for its copy too); null on a missing transaction's row. */
  attachmentId: string | null;
  transactionId: string;
  date: string | null;
  amount: string | null;
  currency: string | null;
  counterparty: string | null;
  account: string;
  path: string | null;
  size: number | null;
  sha256: string | null;
  quickXorHash: string | null;
  exportedAt: string | null;
  verifiedAt: string | null;
  state: ExportLogState;
}

export function logState(row: Pick<ExportLogRow, 'state' | 'reimports' | 'changedAt'>): ExportLogState {
  if (row.state === 'uploaded') return row.changedAt !== null ? 'changed' : row.reimports > 0 ? 'reimported' : 'exported';
  return row.state;
}

const NO_FILE = { path: null, size: null, sha256: null, quickXorHash: null, exportedAt: null, verifiedAt: null } as const;

/** A manifest row as the log shows it: its file; and on a receipt whose probative copy is pending or
 * unavailable, a row for the copy without a file, right after it. */
export function toLogEntries(row: ExportLogRow): ExportLogEntry[] {
  const file: ExportLogEntry = {
    // A copy's row is keyed `<id>:probative`: the log names Qonto's attachment, the path tells the copy.
    attachmentId: parseManifestKey(row.attachmentId).attachmentId,
    transactionId: row.transactionId,
    date: row.transactionDate,
    amount: row.amount,
    currency: row.currency,
    counterparty: row.counterparty,
    // The account's folder, as the user sees it in OneDrive: `Main account (0107)`.
    account: row.folderPath.split('/')[0] ?? '',
    path: `${row.folderPath}/${row.fileName}`,
    size: row.size,
    sha256: row.sha256,
    quickXorHash: row.quickXorHash,
    exportedAt: row.exportedAt,
    verifiedAt: row.verifiedAt,
    state: logState(row),
  };
  if (row.kind !== 'original' || (row.probativeStatus !== 'pending' && row.probativeStatus !== 'unavailable')) return [file];
  return [file, { ...file, ...NO_FILE, state: `probative_${row.probativeStatus}` }];
}

/** A transaction still without its receipt, as a row without a file. */
export function missingLogEntry(m: MissingReceipt): ExportLogEntry {
  return {
    attachmentId: null,
    transactionId: m.transactionId,
    date: m.date,
    amount: decimal(m.amountCents),
    currency: m.currency,
    counterparty: m.counterparty,
    account: m.account,
    ...NO_FILE,
    state: m.lost ? 'lost' : 'missing',
  };
}

/**
 * The log's entries in its order: by date (files without a known date first); on a day, the files by
 * attachment id, then the transactions still missing a receipt by transaction id. Both inputs come
 * in that order (keyset pages of the store); merged as they are read, one row of each held at a time.
 */
export async function* exportLogEntries(files: AsyncIterable<ExportLogRow>, missing: AsyncIterable<MissingReceipt>): AsyncGenerator<ExportLogEntry> {
  const missingRows = missing[Symbol.asyncIterator]();
  try {
    let next = await missingRows.next();
    for await (const row of files) {
      const day = row.transactionDate ?? '';
      // Dates are YYYY-MM-DD: compared as text, as the store orders them.
      for (; !next.done && next.value.date < day; next = await missingRows.next()) yield missingLogEntry(next.value);
      yield* toLogEntries(row);
    }
    for (; !next.done; next = await missingRows.next()) yield missingLogEntry(next.value);
  } finally {
    await missingRows.return?.();
  }
}

/** Text cells a spreadsheet would run as a formula (`=`, `+`, `-`, `@`, tab, CR first) get a `'`
 * in front: the log is opened in Excel, and counterparties and account names come from outside. */
const FORMULA_START = /^[=+\-@\t\r]/;
const TEXT_FIELDS: ReadonlySet<string> = new Set(['counterparty', 'account', 'path']);

/** One RFC 4180 field: quoted when it holds a comma, a quote or a line break; quotes doubled. */
export function csvField(value: string | number | null): string {
  const text = value === null ? '' : String(value);
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/** One CSV record, CRLF-terminated (RFC 4180). Written by hand: fourteen fields of known types need
 * no CSV library. */
export function csvLine(entry: ExportLogEntry): string {
  return `${EXPORT_LOG_FIELDS.map((field) => {
    const value = entry[field];
    return csvField(typeof value === 'string' && TEXT_FIELDS.has(field) && FORMULA_START.test(value) ? `'${value}` : value);
  }).join(',')}\r\n`;
}

export const CSV_HEADER = `${EXPORT_LOG_FIELDS.join(',')}\r\n`;

/** Entries per chunk handed to the response: large enough for few writes, small enough for no memory. */
const ENTRIES_PER_CHUNK = 200;

/**
 * The log as a byte stream, pulled: the next rows are read from the store only when the response
 * has taken the chunk before (the HTTP connection's back-pressure reaches the store). A client that
 * goes away ends the store's read.
 */
export function exportLogStream(entries: AsyncIterable<ExportLogEntry>, format: 'csv' | 'json'): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  const iterator = entries[Symbol.asyncIterator]();
  let written = 0;
  const entry = format === 'csv' ? csvLine : (e: ExportLogEntry) => `${written === 0 ? '\n' : ',\n'}${JSON.stringify(e)}`;
  let opened = false;
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        let text = '';
        if (!opened) {
          opened = true;
          text = format === 'csv' ? CSV_HEADER : '{"entries":[';
        }
        for (let i = 0; i < ENTRIES_PER_CHUNK; i++) {
          const next = await iterator.next();
          if (next.done) {
            if (format === 'json') text += written === 0 ? ']}\n' : '\n]}\n';
            controller.enqueue(encoder.encode(text));
            controller.close();
            return;
          }
          text += entry(next.value);
          written += 1;
        }
        controller.enqueue(encoder.encode(text));
      },
      async cancel() {
        await iterator.return?.();
      },
    },
    { highWaterMark: 0 },
  );
}

/** `export-log-<id>[_<from>][_<to>].csv`: the id is [A-Za-z0-9-] and the days YYYY-MM-DD (both
 * validated), so the name needs no quoting beyond the quotes. */
export function exportLogFileName(integrationId: string, range: { from?: string; to?: string }, format: 'csv' | 'json'): string {
  const parts = [`export-log-${integrationId}`, range.from && `from-${range.from}`, range.to && `to-${range.to}`].filter(Boolean);
  return `${parts.join('_')}.${format}`;
}
