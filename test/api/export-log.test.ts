import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import Database from 'better-sqlite3';
import type { Client } from '@temporalio/client';
import { OpenAPIHono } from '@hono/zod-openapi';
import { Hono } from 'hono';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { onError } from '../../src/api/errors.js';
import { exportLogBody } from '../../src/api/response-schemas.js';
import { integrationRoutes, type IntegrationRoutesDeps } from '../../src/api/integrations.js';
import { EXPORT_LOG_FIELDS, logState, type ExportLogEntry } from '../../src/api/export-log.js';
import { openSqliteStore } from '../../src/store/sqlite.js';
import type { Store, TransactionRecord } from '../../src/store/types.js';
import { manifestKey } from '../../src/sync/probative.js';

/**
 * `GET /api/integrations/:id/export-log` over a real SQLite store: fields, formats, ranges, bad
 * input, and a 50,000-receipt log that is streamed, never built in memory. (Its authentication is
 * the one of every `/api/integrations/*` route, tested with them; the backfill test downloads the
 * log through the whole app.)
 */
const ID = 'i1';
let file: string;
let store: Store;
/** Rows the store has handed out so far, across every export log read (files, and missing receipts). */
let rowsRead = 0;
let missingRead = 0;

function app(): Hono {
  const counting: Store = {
    ...store,
    async *exportLog(...args) {
      for await (const row of store.exportLog(...args)) {
        rowsRead += 1;
        yield row;
      }
    },
    async *missingLog(...args) {
      for await (const row of store.missingLog(...args)) {
        missingRead += 1;
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

/** Transactions still missing their receipt, straight into the database, on 2026-11-01..28. */
function insertMissing(count: number): void {
  const db = new Database(file);
  const insert = db.prepare(
    `INSERT INTO transactions (integration_id, transaction_id, bank_account_id, account_name, emitted_at, local_date, period, amount_cents, currency,
       counterparty, status, attachment_required, attachment_lost, attachments, updated_at)
     VALUES (?, ?, 'acc', 'Main account (0107)', '2026-11-01T10:00:00.000Z', ?, '2026-11', -1000, 'EUR', 'Shop', 'completed', 1, 0, 0, '2026-01-01T00:00:00.000Z')`,
  );
  db.transaction(() => {
    for (let i = 0; i < count; i++) insert.run(ID, `missing-${String(i).padStart(6, '0')}`, `2026-11-${String((i % 28) + 1).padStart(2, '0')}`);
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
  missingRead = 0;
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
    expect(reversed.status).toBe(200);
    expect(await reversed.json()).toEqual({ entries: [] });
    const reversedCsv = await app().request(`/api/integrations/${ID}/export-log?from=2026-12-01&to=2026-11-01`);
    expect(reversedCsv.status).toBe(200);
    expect(await reversedCsv.text()).toBe(`${EXPORT_LOG_FIELDS.join(',')}\r\n`);
    // The API document says the same: an empty log, not a 400.
    const routes = integrationRoutes({ store, organizationOf: () => null, temporal: {} as Client } as unknown as IntegrationRoutesDeps);
    const doc = new OpenAPIHono().route('/api/integrations', routes).getOpenAPI31Document({ openapi: '3.1.0', info: { title: 'test', version: '0' } });
    const responses = doc.paths!['/api/integrations/{id}/export-log']!.get!.responses as Record<string, { description: string }>;
    expect(responses['200']!.description).toContain('A `from` after `to` is an empty log');
    expect(responses['400']!.description).not.toMatch(/after/);
    const named = await app().request(`/api/integrations/${ID}/export-log?from=2026-11-01&to=2026-11-30`);
    expect(named.headers.get('content-disposition')).toBe(`attachment; filename="export-log-${ID}_from-2026-11-01_to-2026-11-30.csv"`);
  });

  it('shows where the probative copies stand and the transactions still missing a receipt, in date order, within the range', async () => {
    await store.updateIntegration(ID, { syncFrom: '2026-11-01' });
    const discovered = (id: string, date: string) => ({
      attachmentId: id,
      transactionId: `tx-${id}`,
      bankAccountId: 'acc',
      folderPath: 'Main account (0107)/2026/2026-11',
      fileName: `${date} Shop -1.00 EUR ${id}.pdf`,
      fallbackFileName: `${id}-full.pdf`,
      size: 10,
      transactionDate: date,
      amount: '-1.00',
      currency: 'EUR',
      counterparty: `Shop ${id}`,
    });
    await store.upsertDiscovered(ID, [discovered('a', '2026-11-03'), discovered('p', '2026-11-03'), discovered('u', '2026-11-05')]);
    await store.recordProbative(ID, [
      { attachmentId: 'a', status: 'available', size: 77 },
      { attachmentId: 'p', status: 'pending', size: null },
      { attachmentId: 'u', status: 'unavailable', size: null },
    ]);
    await store.updateEntry(ID, manifestKey('a', 'probative'), { state: 'uploaded', sha256: 'cd'.repeat(32), quickXorHash: 'copy=', exportedAt: 'T1', verifiedAt: 'T2' });
    const missing = (id: string, localDate: string, patch: Partial<TransactionRecord> = {}): TransactionRecord => ({
      transactionId: id,
      bankAccountId: 'acc',
      accountName: 'Main account (0107)',
      emittedAt: `${localDate}T10:00:00.000Z`,
      localDate,
      period: localDate.slice(0, 7),
      amountCents: -5240,
      currency: 'EUR',
      counterparty: `Shop ${id}`,
      status: 'completed',
      required: true,
      lost: false,
      attachments: 0,
      ...patch,
    });
    await store.upsertTransactions(ID, [
      missing('m1', '2026-11-02'),
      missing('m2', '2026-11-03', { lost: true }),
      missing('m3', '2026-11-09', { amountCents: 1205 }),
      missing('before-start', '2026-10-30'),
      missing('attached', '2026-11-03', { attachments: 1 }),
    ]);

    const res = await app().request(`/api/integrations/${ID}/export-log?format=csv`);
    const records = parseCsv(await res.text()).slice(1);
    const file = 'Main account (0107)/2026/2026-11/';
    const empty = ['', '', '', '', '', ''];
    expect(records).toEqual([
      ['', 'm1', '2026-11-02', '-52.40', 'EUR', 'Shop m1', 'Main account (0107)', ...empty, 'missing'],
      ['a', 'tx-a', '2026-11-03', '-1.00', 'EUR', 'Shop a', 'Main account (0107)', `${file}2026-11-03 Shop -1.00 EUR a.pdf`, '10', '', '', '', '', 'pending'],
      // The copy: Qonto's attachment id, its own file, hashes and state.
      ['a', 'tx-a', '2026-11-03', '-1.00', 'EUR', 'Shop a', 'Main account (0107)', `${file}2026-11-03 Shop -1.00 EUR a-probative.pdf`, '77', 'cd'.repeat(32), 'copy=', 'T1', 'T2', 'exported'],
      ['p', 'tx-p', '2026-11-03', '-1.00', 'EUR', 'Shop p', 'Main account (0107)', `${file}2026-11-03 Shop -1.00 EUR p.pdf`, '10', '', '', '', '', 'pending'],
      ['p', 'tx-p', '2026-11-03', '-1.00', 'EUR', 'Shop p', 'Main account (0107)', ...empty, 'probative_pending'],
      ['', 'm2', '2026-11-03', '-52.40', 'EUR', 'Shop m2', 'Main account (0107)', ...empty, 'lost'],
      ['u', 'tx-u', '2026-11-05', '-1.00', 'EUR', 'Shop u', 'Main account (0107)', `${file}2026-11-05 Shop -1.00 EUR u.pdf`, '10', '', '', '', '', 'pending'],
      ['u', 'tx-u', '2026-11-05', '-1.00', 'EUR', 'Shop u', 'Main account (0107)', ...empty, 'probative_unavailable'],
      ['', 'm3', '2026-11-09', '12.05', 'EUR', 'Shop m3', 'Main account (0107)', ...empty, 'missing'],
    ]);

    const json = await app().request(`/api/integrations/${ID}/export-log?format=json&from=2026-11-03&to=2026-11-03`);
    const { entries } = (await json.json()) as { entries: ExportLogEntry[] };
    expect(entries.map((e) => [e.attachmentId, e.transactionId, e.state])).toEqual([
      ['a', 'tx-a', 'pending'],
      ['a', 'tx-a', 'exported'],
      ['p', 'tx-p', 'pending'],
      ['p', 'tx-p', 'probative_pending'],
      [null, 'm2', 'lost'],
    ]);
    // The documented response schema (OpenAPI) holds the rows without a file.
    expect(exportLogBody.safeParse({ entries }).error).toBeUndefined();
    expect(entries[4]).toEqual({
      attachmentId: null,
      transactionId: 'm2',
      date: '2026-11-03',
      amount: '-52.40',
      currency: 'EUR',
      counterparty: 'Shop m2',
      account: 'Main account (0107)',
      path: null,
      size: null,
      sha256: null,
      quickXorHash: null,
      exportedAt: null,
      verifiedAt: null,
      state: 'lost',
    } satisfies ExportLogEntry);
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
    const MISSING = 5_000;
    insertRows(TOTAL, exported);
    insertMissing(MISSING);
    await store.updateIntegration(ID, { syncFrom: '2026-11-01' });
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
    expect(missingRead).toBeLessThanOrEqual(1_000);

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
    expect(lines).toBe(TOTAL + MISSING + 1);
    expect(rowsRead).toBe(TOTAL);
    expect(missingRead).toBe(MISSING);
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
