import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import Database from 'better-sqlite3';
import type { Client } from '@temporalio/client';
import { Hono } from 'hono';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { onError } from '../../src/api/errors.js';
import { integrationRoutes, type IntegrationRoutesDeps } from '../../src/api/integrations.js';
import { EXPORT_LOG_FIELDS, logState, type ExportLogEntry } from '../../src/api/export-log.js';
import { openSqliteStore } from '../../src/store/sqlite.js';
import type { Store } from '../../src/store/types.js';

/**
 * `GET /api/integrations/:id/export-log` over a real SQLite store: fields, formats, ranges, bad
 * input, and a 50,000-receipt log that is streamed, never built in memory. (Its authentication is
 * the one of every `/api/integrations/*` route, tested with them; the backfill test downloads the
 * log through the whole app.)
 */
const ID = 'i1';
let file: string;
let store: Store;
/** Rows the store has handed out so far, across every export log read. */
let rowsRead = 0;

function app(): Hono {
  const counting: Store = {
    ...store,
    async *exportLog(...args) {
      for await (const row of store.exportLog(...args)) {
        rowsRead += 1;
        yield row;
      }
    },
  };
  const routes = integrationRoutes({ store: counting, organizationOf: () => null, temporal: {} as Client } as unknown as IntegrationRoutesDeps);
  const root = new Hono();
  root.onError(onError);
  root.route('/api/integrations', routes);
  return root;
}

/** Rows straight into the database (the store's discovery inserts one by one, far too slow for 50,000). */
function insertRows(count: number, row: (i: number) => Record<string, string | number | null>): void {
  const db = new Database(file);
  const insert = db.prepare(
    `INSERT INTO manifest (integration_id, attachment_id, transaction_id, bank_account_id, folder_path, file_name, size, state, seq, updated_at,
       transaction_date, amount, currency, counterparty, sha256, quick_xor_hash, exported_at, verified_at, reimports)
     VALUES (@integration_id, @attachment_id, @transaction_id, 'acc', @folder_path, @file_name, @size, @state, @seq, '2026-01-01T00:00:00.000Z',
       @transaction_date, @amount, @currency, @counterparty, @sha256, @quick_xor_hash, @exported_at, @verified_at, @reimports)`,
  );
  db.transaction(() => {
    for (let i = 0; i < count; i++) insert.run({ integration_id: ID, seq: i, ...row(i) });
  })();
  db.close();
}

const exported = (i: number) => ({
  attachment_id: `att-${String(i).padStart(6, '0')}`,
  transaction_id: `tx-${i}`,
  folder_path: 'Main account (0107)/2026/2026-11',
  file_name: `2026-11-03 Amazon -52.40 EUR ${String(i).padStart(8, '0')}.pdf`,
  size: 1000 + i,
  state: 'uploaded',
  transaction_date: `2026-11-${String((i % 28) + 1).padStart(2, '0')}`,
  amount: '-52.40',
  currency: 'EUR',
  counterparty: 'Amazon EU SARL',
  sha256: 'ab'.repeat(32),
  quick_xor_hash: 'AAAAAAAAAAAAAAAAAAAAAAAAAAA=',
  exported_at: '2026-11-04T10:00:00.000Z',
  verified_at: '2026-11-05T10:00:00.000Z',
  reimports: 0,
});

beforeEach(async () => {
  file = join(mkdtempSync(join(tmpdir(), 'export-log-api-')), 'db.sqlite');
  store = openSqliteStore(file);
  await store.createIntegration({ id: ID }); // the schema is in place from here on
  rowsRead = 0;
});
afterEach(() => store.close());

/** The simplest CSV reader that handles what the log writes: quoted fields, doubled quotes, CRLF. */
function parseCsv(text: string): string[][] {
  const records: string[][] = [];
  let field = '';
  let record: string[] = [];
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else field += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') {
      record.push(field);
      field = '';
    } else if (ch === '\r' && text[i + 1] === '\n') {
      record.push(field);
      records.push(record);
      record = [];
      field = '';
      i++;
    } else field += ch;
  }
  return records;
}

describe('GET /api/integrations/:id/export-log', () => {
  it('lists every receipt file with its fields in order, as CSV to download and as JSON', async () => {
    await store.upsertDiscovered(ID, [
      {
        attachmentId: 'b',
        transactionId: 'tx-b',
        bankAccountId: 'acc',
        folderPath: 'Main account (0107)/2026/2026-11',
        fileName: '2026-11-03 Amazon -52.40 EUR 1a2b3c4d.pdf',
        fallbackFileName: 'x.pdf',
        size: 1234,
        transactionDate: '2026-11-03',
        amount: '-52.40',
        currency: 'EUR',
        counterparty: '=HYPERLINK("x"), "Amazon"',
      },
      { attachmentId: 'a', transactionId: 'tx-a', bankAccountId: 'acc', folderPath: 'Old (0001)/2025/2025-01', fileName: 'old.pdf', fallbackFileName: 'y.pdf', size: 5 },
    ]);
    await store.updateEntry(ID, 'b', {
      state: 'uploaded',
      sha256: 'ab'.repeat(32),
      quickXorHash: 'q+/=',
      exportedAt: '2026-11-04T10:00:00.000Z',
      verifiedAt: '2026-11-05T10:00:00.000Z',
      reimports: 1,
    });

    const csv = await app().request(`/api/integrations/${ID}/export-log?format=csv`);
    expect(csv.status).toBe(200);
    expect(csv.headers.get('content-type')).toBe('text/csv; charset=utf-8');
    expect(csv.headers.get('content-disposition')).toBe(`attachment; filename="export-log-${ID}.csv"`);
    const records = parseCsv(await csv.text());
    expect(records[0]).toEqual([...EXPORT_LOG_FIELDS]);
    expect(records.slice(1)).toEqual([
      // Discovered before the log existed (no date: first): what the manifest knows, the rest empty.
      ['a', 'tx-a', '', '', '', '', 'Old (0001)', 'Old (0001)/2025/2025-01/old.pdf', '5', '', '', '', '', 'pending'],
      [
        'b',
        'tx-b',
        '2026-11-03',
        '-52.40',
        'EUR',
        `'=HYPERLINK("x"), "Amazon"`, // a formula is not run by a spreadsheet
        'Main account (0107)',
        'Main account (0107)/2026/2026-11/2026-11-03 Amazon -52.40 EUR 1a2b3c4d.pdf',
        '1234',
        'ab'.repeat(32),
        'q+/=',
        '2026-11-04T10:00:00.000Z',
        '2026-11-05T10:00:00.000Z',
        'reimported',
      ],
    ]);

    const json = await app().request(`/api/integrations/${ID}/export-log?format=json&from=2026-11-01&to=2026-11-30`);
    expect(json.status).toBe(200);
    expect(json.headers.get('content-type')).toBe('application/json; charset=utf-8');
    const { entries } = (await json.json()) as { entries: ExportLogEntry[] };
    expect(entries).toHaveLength(1);
    expect(Object.keys(entries[0]!)).toEqual([...EXPORT_LOG_FIELDS]);
    expect(entries[0]).toMatchObject({ attachmentId: 'b', counterparty: '=HYPERLINK("x"), "Amazon"', size: 1234, state: 'reimported', date: '2026-11-03' });

    const empty = await app().request(`/api/integrations/${ID}/export-log?format=json&from=2030-01-01`);
    expect(await empty.json()).toEqual({ entries: [] });
    const reversed = await app().request(`/api/integrations/${ID}/export-log?format=json&from=2026-12-01&to=2026-11-01`);
    expect(await reversed.json()).toEqual({ entries: [] });
    const named = await app().request(`/api/integrations/${ID}/export-log?from=2026-11-01&to=2026-11-30`);
    expect(named.headers.get('content-disposition')).toBe(`attachment; filename="export-log-${ID}_from-2026-11-01_to-2026-11-30.csv"`);
  });

  it('names what became of each receipt', () => {
    const at = '2026-11-05T10:00:00.000Z';
    expect(logState({ state: 'uploaded', reimports: 0, changedAt: null })).toBe('exported');
    expect(logState({ state: 'uploaded', reimports: 2, changedAt: null })).toBe('reimported');
    expect(logState({ state: 'uploaded', reimports: 2, changedAt: at })).toBe('changed');
    expect(logState({ state: 'pending', reimports: 1, changedAt: null })).toBe('pending');
    expect(logState({ state: 'failed', reimports: 0, changedAt: null })).toBe('failed');
    expect(logState({ state: 'dismissed', reimports: 0, changedAt: at })).toBe('dismissed');
  });

  it.each([
    ['format=xml', 'format'],
    ['from=2026-02-30', 'from'],
    ['to=26-11-01', 'to'],
  ])('answers 400 with the problem named for %s', async (query, field) => {
    const res = await app().request(`/api/integrations/${ID}/export-log?${query}`);
    expect(res.status).toBe(400);
    const body = (await res.json()) as { error: { code: string; message: string; details: { path: string }[] } };
    expect(body.error.code).toBe('invalid_request');
    expect(body.error.details.map((d) => d.path)).toContain(field);
  });

  it('answers 404 for an integration that does not exist', async () => {
    const res = await app().request('/api/integrations/nobody/export-log');
    expect(res.status).toBe(404);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('not_found');
  });

  it('streams a 50,000-receipt log: the first bytes leave before the store is read further, and memory stays flat', async () => {
    const TOTAL = 50_000;
    insertRows(TOTAL, exported);
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const live = () => {
      gc();
      gc();
      return process.memoryUsage().heapUsed;
    };

    const res = await app().request(`/api/integrations/${ID}/export-log?format=csv`);
    expect(res.status).toBe(200);
    const reader = res.body!.getReader();
    const first = await reader.read();
    expect(first.done).toBe(false);
    // Written as read: the response began with a small part of the log.
    expect(rowsRead).toBeGreaterThan(0);
    expect(rowsRead).toBeLessThanOrEqual(1_000);

    const baseline = live();
    let peak = 0;
    let bytes = first.value!.length;
    let lines = 0;
    const decoder = new TextDecoder();
    let chunks = 0;
    for (let text = decoder.decode(first.value, { stream: true }); ; ) {
      lines += text.split('\r\n').length - 1;
      const next = await reader.read();
      if (next.done) break;
      bytes += next.value.length;
      text = decoder.decode(next.value, { stream: true });
      if (++chunks % 25 === 0) peak = Math.max(peak, live() - baseline);
    }
    expect(lines).toBe(TOTAL + 1);
    expect(rowsRead).toBe(TOTAL);
    expect(bytes).toBeGreaterThan(10_000_000);
    // The whole log held at once would be at least its size in bytes (as JavaScript strings, twice that).
    expect(peak).toBeLessThan(bytes / 10);
  });

  it('stops reading the store when the client goes away', async () => {
    insertRows(5_000, exported);
    const res = await app().request(`/api/integrations/${ID}/export-log?format=json`);
    const reader = res.body!.getReader();
    await reader.read();
    await reader.cancel();
    expect(rowsRead).toBeLessThan(5_000);
  });
});
