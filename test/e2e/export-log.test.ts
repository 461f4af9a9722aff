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
/** The integration the first test backfills, and its Microsoft user; the second continues with it. */
let id = '';
let userId = '';

type Row = Record<(typeof EXPORT_LOG_FIELDS)[number], string>;
type Status = { status: string; counts: { exported: number; failed: number; pending: number }; lastRun: { finishedAt: string } | null };

async function statusOf(): Promise<Status> {
  return (await (await bed.app.request(`/api/integrations/${id}`, { headers: auth })).json()) as Status;
}

async function waitFor(done: (s: Status) => boolean, what: string): Promise<Status> {
  const deadline = Date.now() + 600_000;
  for (;;) {
    const status = await statusOf();
    if (done(status)) return status;
    if (Date.now() > deadline) throw new Error(`${what}: ${JSON.stringify(status)}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

async function downloadLog(query = 'format=csv'): Promise<Row[]> {
  const res = await bed.app.request(`/api/integrations/${id}/export-log?${query}`, { headers: auth });
  expect(res.status).toBe(200);
  const lines = (await res.text()).split('\r\n');
  expect(lines.pop()).toBe('');
  expect(lines.shift()).toBe(EXPORT_LOG_FIELDS.join(','));
  return lines.map((line) => Object.fromEntries(csvFields(line).map((value, i) => [EXPORT_LOG_FIELDS[i], value])) as Row);
}

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
    id = `log-${Date.now().toString(36)}`;
    const user = h.newUser(id);
    userId = user.id;
    await h.connect(id, user);
    const finish = await app.request(`/api/integrations/${id}/finish`, {
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/json' },
      body: JSON.stringify({ syncFrom: SYNC_FROM, timeZone: ZONE }),
    });
    expect(finish.status).toBe(202);

    await waitFor((s) => s.status === 'idle' && s.counts.exported === expected.length, 'backfill not done');

    expect((await app.request(`/api/integrations/${id}/export-log`)).status).toBe(401);
    const res = await app.request(`/api/integrations/${id}/export-log?format=csv`, { headers: auth });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-disposition')).toMatch(/^attachment; filename="export-log-.*\.csv"$/);
    const all = await downloadLog();
    // Besides the files, the transactions still without a receipt (the missing-receipts list).
    const missing = (await (await app.request(`/api/integrations/${id}/missing-receipts`, { headers: auth })).json()) as { missing: { transactionId: string }[] };
    const unfiled = all.filter((r) => r.path === '');
    expect(unfiled.every((r) => r.state === 'missing' || r.state === 'lost')).toBe(true);
    expect(new Set(unfiled.map((r) => r.transactionId))).toEqual(new Set(missing.missing.map((m) => m.transactionId)));
    const rows = all.filter((r) => r.path !== '');
    expect(rows).toHaveLength(expected.length);
    expect(new Set(rows.map((r) => r.attachmentId))).toEqual(new Set(expected.map((a) => a.id)));
    const dates = all.map((r) => r.date);
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

  it('shows a deleted file re-imported with the same hashes, and the receipts of a deleted folder dismissed', async () => {
    const { h, app } = bed;
    const drive = h.sims.graph.drive(userId);
    const files = async (query?: string) => (await downloadLog(query)).filter((r) => r.path !== '');
    const before = await files();
    const period = before[before.length - 1]!.path.split('/').slice(0, 3).join('/');
    const inPeriod = before.filter((r) => r.path.startsWith(`${period}/`));
    const victim = before.find((r) => !r.path.startsWith(`${period}/`))!;
    await drive.deleteByPath(`${APP_FOLDER}/${victim.path}`);
    await drive.deleteByPath(`${APP_FOLDER}/${period}`);

    const previous = (await statusOf()).lastRun!.finishedAt;
    expect((await app.request(`/api/integrations/${id}/sync`, { method: 'POST', headers: auth })).status).toBe(202);
    await waitFor((s) => s.status === 'idle' && s.lastRun !== null && s.lastRun.finishedAt !== previous, 'the run after the deletions');

    const after = new Map((await files()).map((r) => [r.attachmentId, r]));
    const back = after.get(victim.attachmentId)!;
    expect(back).toMatchObject({ state: 'reimported', path: victim.path, sha256: victim.sha256, quickXorHash: victim.quickXorHash, exportedAt: victim.exportedAt });
    expect(back.verifiedAt > victim.verifiedAt).toBe(true);
    const file = drive.getByPath(`${APP_FOLDER}/${victim.path}`)!;
    expect(await sha256Of(drive.readFile(file.id))).toBe(back.sha256);
    for (const r of inPeriod) expect(after.get(r.attachmentId)).toMatchObject({ state: 'dismissed', sha256: r.sha256, path: r.path });
    // Every other receipt was seen intact by this run's drive check.
    const others = [...after.values()].filter((r) => r.state === 'exported');
    expect(others).toHaveLength(before.length - inPeriod.length - 1);
    expect(others.every((r) => r.verifiedAt > victim.verifiedAt)).toBe(true);

    // The range picks the period's days only.
    const [from, to] = [inPeriod[0]!.date, inPeriod[inPeriod.length - 1]!.date];
    const ranged = await files(`format=csv&from=${from}&to=${to}`);
    expect(ranged.every((r) => r.date >= from && r.date <= to)).toBe(true);
    expect(ranged.length).toBe(before.filter((r) => r.date >= from && r.date <= to).length);
  });
});
