/**
 * The export log (docs/export-log.md): one entry per receipt file, written as CSV or JSON while the
 * store's pages are read, so a log of any length costs one page of memory.
 */
import type { ExportLogRow } from '../store/types.js';

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
 * What became of a receipt:
 * - exported: in the drive, verified, never deleted since;
 * - reimported: in the drive again after the user deleted the file (at least once);
 * - changed: in the drive, but a drive check found its content replaced (hash no longer ours);
 * - pending: not in the drive yet: new, or deleted by the user and exported again at the next run;
 * - failed: the last attempt failed; retried at the next run;
 * - dismissed: its folder was deleted by the user (or Qonto no longer has the receipt): stays gone
 *   until the integration is reconfigured.
 */
export const EXPORT_LOG_STATES = ['exported', 'reimported', 'changed', 'pending', 'failed', 'dismissed'] as const;
export type ExportLogState = (typeof EXPORT_LOG_STATES)[number];

export interface ExportLogEntry {
  attachmentId: string;
  transactionId: string;
  date: string | null;
  amount: string | null;
  currency: string | null;
  counterparty: string | null;
  account: string;
  path: string;
  size: number;
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

export function toLogEntry(row: ExportLogRow): ExportLogEntry {
  return {
    attachmentId: row.attachmentId,
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
export function exportLogStream(rows: AsyncIterable<ExportLogRow>, format: 'csv' | 'json'): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  const iterator = rows[Symbol.asyncIterator]();
  let written = 0;
  const entry =
    format === 'csv'
      ? (row: ExportLogRow) => csvLine(toLogEntry(row))
      : (row: ExportLogRow) => `${written === 0 ? '\n' : ',\n'}${JSON.stringify(toLogEntry(row))}`;
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
