import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXPORT_LOG_FIELDS } from '../../src/api/export-log.js';
import { startApiBed, type ApiBed } from '../support/api-bed.js';
import { expectedReceipts } from '../support/expectations.js';
import { ADMIN_TOKEN } from '../support/harness.js';

/**
 * The export log of a real backfill: 5,000 small receipts exported by the real workflow into the
 * simulated drive, then the log downloaded through the app as CSV. Every row's SHA-256 and
 * quickXorHash must be those of the bytes the drive holds at the row's path.
 */
const ZONE = 'Europe/Paris';
const SYNC_FROM = '2020-01-01';
const APP_FOLDER = 'Apps/Qonto Receipts';
const auth = { authorization: `Bearer ${ADMIN_TOKEN}` };

let bed: ApiBed;

beforeAll(async () => {
  bed = await startApiBed({ demo: { seed: 13, accounts: 2, months: 3, receipts: 5_000, sizes: { minBytes: 200, maxBytes: 2_000 } } });
});
afterAll(() => bed?.close());

/** Fields of one CSV record (the log quotes only what needs it; a path holds no line break). */
function csvFields(line: string): string[] {
  const fields: string[] = [];
  for (let i = 0; i < line.length; ) {
    if (line[i] === '"') {
      let value = '';
      for (i++; i < line.length; i++) {
        if (line[i] === '"' && line[i + 1] === '"') {
          value += '"';
          i++;
        } else if (line[i] === '"') break;
        else value += line[i];
      }
      fields.push(value);
      i += 2; // the closing quote and the comma
    } else {
      const end = line.indexOf(',', i) === -1 ? line.length : line.indexOf(',', i);
      fields.push(line.slice(i, end));
      i = end + 1;
    }
  }
  if (line.endsWith(',')) fields.push('');
  return fields;
}

async function sha256Of(stream: AsyncIterable<Buffer | string>): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of stream) hash.update(chunk);
  return hash.digest('hex');
}

describe('export log of a backfill', () => {
  it('downloads as CSV whose hashes match the files in the drive, one row per receipt', async () => {
    const { h, app } = bed;
    const expected = expectedReceipts(h.sims.qonto.data, SYNC_FROM, ZONE);
    expect(expected.length).toBeGreaterThanOrEqual(5_000);
    const id = `log-${Date.now().toString(36)}`;
    const user = h.newUser(id);
    await h.connect(id, user);
    const finish = await app.request(`/api/integrations/${id}/finish`, {
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/json' },
      body: JSON.stringify({ syncFrom: SYNC_FROM, timeZone: ZONE }),
    });
    expect(finish.status).toBe(202);

    const deadline = Date.now() + 600_000;
    for (;;) {
      const status = (await (await app.request(`/api/integrations/${id}`, { headers: auth })).json()) as {
        status: string;
        counts: { exported: number; failed: number; pending: number };
      };
      if (status.status === 'idle' && status.counts.exported === expected.length) break;
      if (Date.now() > deadline) throw new Error(`backfill not done: ${JSON.stringify(status)}`);
      await new Promise((r) => setTimeout(r, 500));
    }

    expect((await app.request(`/api/integrations/${id}/export-log`)).status).toBe(401);
    const res = await app.request(`/api/integrations/${id}/export-log?format=csv`, { headers: auth });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-disposition')).toMatch(/^attachment; filename="export-log-.*\.csv"$/);
    const lines = (await res.text()).split('\r\n');
    expect(lines.pop()).toBe('');
    expect(lines.shift()).toBe(EXPORT_LOG_FIELDS.join(','));
    const rows = lines.map((line) => Object.fromEntries(csvFields(line).map((value, i) => [EXPORT_LOG_FIELDS[i], value])) as Record<(typeof EXPORT_LOG_FIELDS)[number], string>);
    expect(rows).toHaveLength(expected.length);
    expect(new Set(rows.map((r) => r.attachmentId))).toEqual(new Set(expected.map((a) => a.id)));
    const dates = rows.map((r) => r.date);
    expect(dates).toEqual([...dates].sort());

    const drive = h.sims.graph.drive(user.id);
    const files = new Map(drive.listFiles().map((f) => [f.path, f]));
    const mismatches: string[] = [];
    for (const row of rows) {
      const file = files.get(`${APP_FOLDER}/${row.path}`);
      if (!file) {
        mismatches.push(`${row.attachmentId}: no file at ${row.path}`);
        continue;
      }
      const sha256 = await sha256Of(drive.readFile(file.id));
      if (row.sha256 !== sha256) mismatches.push(`${row.path}: sha256 ${row.sha256}, drive ${sha256}`);
      if (row.quickXorHash !== file.quickXorHash) mismatches.push(`${row.path}: quickXorHash ${row.quickXorHash}, drive ${file.quickXorHash}`);
      if (Number(row.size) !== file.size) mismatches.push(`${row.path}: size ${row.size}, drive ${file.size}`);
      const tx = h.sims.qonto.data.transaction(row.transactionId);
      if (!tx || row.currency !== tx.currency || !row.path.includes(` ${row.amount} ${row.currency} `)) mismatches.push(`${row.path}: transaction fields ${row.amount} ${row.currency}`);
      if (row.state !== 'exported' || row.exportedAt === '' || row.verifiedAt < row.exportedAt) mismatches.push(`${row.path}: ${row.state} ${row.exportedAt} ${row.verifiedAt}`);
    }
    expect(mismatches).toEqual([]);
    expect(rows.every((r) => /^[0-9a-f]{64}$/.test(r.sha256))).toBe(true);
  });
});
