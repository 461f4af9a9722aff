import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RequestLogEntry } from '../../src/simulators/graph/server.js';
import { accountFolderName } from '../../src/sync/naming.js';
import { startApiBed, type ApiBed } from '../support/api-bed.js';
import { driveMismatches, expectedReceipts } from '../support/expectations.js';
import { ADMIN_TOKEN } from '../support/harness.js';

/**
 * The period folders' reports (EXPORT_LOG_CSV, MISSING_RECEIPTS_CSV) end to end: the real workflow on
 * the run's dev server, the simulators over HTTP, the API. What each report holds is compared with
 * the API's CSV for that folder; what is written when, with the Graph simulator's request log.
 */
const ZONE = 'Europe/Paris';
const SYNC_FROM = '2020-01-01';
const APP = 'Apps/Qonto Receipts';
const auth = { authorization: `Bearer ${ADMIN_TOKEN}` };
const REPORTS = ['_export-log.csv', '_missing-receipts.csv'];

type Status = { status: string; lastRun: { finishedAt: string; exported: number; requeued: number } | null; nextRunAt: string | null };

async function start(bed: ApiBed, name: string) {
  const id = `${name}-${Date.now().toString(36)}`;
  const user = bed.h.newUser(id);
  await bed.h.connect(id, user);
  const finish = await bed.app.request(`/api/integrations/${id}/finish`, {
    method: 'POST',
    headers: { ...auth, 'content-type': 'application/json' },
    body: JSON.stringify({ syncFrom: SYNC_FROM, timeZone: ZONE }),
  });
  expect(finish.status).toBe(202);
  const status = async () => (await (await bed.app.request(`/api/integrations/${id}`, { headers: auth })).json()) as Status;
  const waitFor = async (done: (s: Status) => boolean, what: string) => {
    const deadline = Date.now() + 300_000;
    for (;;) {
      const s = await status();
      if (done(s)) return s;
      if (Date.now() > deadline) throw new Error(`${what}: ${JSON.stringify(s)}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  };
  let last = await waitFor((s) => s.status === 'idle' && s.lastRun !== null && s.nextRunAt !== null, 'the backfill');
  /** A run asked for now, to its end. */
  const sync = async () => {
    expect((await bed.app.request(`/api/integrations/${id}/sync`, { method: 'POST', headers: auth })).status).toBe(202);
    last = await waitFor((s) => s.status === 'idle' && s.lastRun !== null && s.lastRun.finishedAt !== last.lastRun!.finishedAt, 'the run');
    return last.lastRun!;
  };
  const drive = bed.h.sims.graph.drive(user.id);
  return { id, drive, sync };
}

/** The API's CSV lines (header apart) by period folder, with the header. */
async function apiCsvByFolder(bed: ApiBed, id: string, route: 'export-log' | 'missing-receipts') {
  const csv = await (await bed.app.request(`/api/integrations/${id}/${route}?format=csv`, { headers: auth })).text();
  const body = (await (await bed.app.request(`/api/integrations/${id}/${route}?format=json`, { headers: auth })).json()) as {
    entries?: { path: string | null; state: string }[];
    missing?: { account: string; period: string }[];
  };
  // A file's folder; a probative copy's status row goes with the receipt before it; a transaction
  // without a receipt (no file, no folder) is the other report's (null: left out here).
  let previous: string | null = null;
  const folders =
    route === 'export-log'
      ? body.entries!.map((e) => (previous = e.path !== null ? e.path.split('/').slice(0, 3).join('/') : e.state.startsWith('probative_') ? previous : null))
      : body.missing!.map((m) => `${m.account}/${m.period.slice(0, 4)}/${m.period}`);
  const lines = csv.split('\r\n');
  expect(lines.pop()).toBe('');
  const header = lines.shift()!;
  expect(lines).toHaveLength(folders.length);
  const byFolder = new Map<string, string[]>();
  lines.forEach((line, i) => {
    const folder = folders[i];
    if (folder) byFolder.set(folder, [...(byFolder.get(folder) ?? []), line]);
  });
  return { header, byFolder };
}

const csvOf = (header: string, lines: readonly string[]) => [header, ...lines].map((l) => `${l}\r\n`).join('');

async function text(stream: AsyncIterable<Buffer | string>): Promise<string> {
  let out = '';
  for await (const chunk of stream) out += chunk.toString();
  return out;
}

/** The report PUTs (`<folder id>/<name>`) the Graph simulator saw after `mark` (an entry of its log; its whole log when
 * `mark` is absent or fell out of it, which can only make the counts larger). */
function reportPuts(log: readonly RequestLogEntry[], mark?: RequestLogEntry): string[] {
  const from = mark === undefined ? 0 : log.lastIndexOf(mark) + 1;
  return log
    .slice(from)
    .filter((r) => r.method === 'PUT')
    .flatMap((r) => {
      // A simple upload: PUT /me/drive/items/<parent id>:/<name>:/content
      const put = /\/items\/([^/:]+):\/([^/:]+):\/content/.exec(decodeURIComponent(r.path));
      return put && REPORTS.includes(put[2]!) ? [`${put[1]}/${put[2]}`] : [];
    });
}

describe('period folder reports, both settings on', () => {
  let bed: ApiBed;
  beforeAll(async () => {
    bed = await startApiBed({ demo: { seed: 21, accounts: 2, months: 3, receipts: 40 }, extraEnv: { EXPORT_LOG_CSV: 'true', MISSING_RECEIPTS_CSV: 'true' } });
  });
  afterAll(() => bed?.close());

  it('writes each period its reports with the API rows, again only where a period changed, and never into a deleted folder', async () => {
    const { id, drive, sync } = await start(bed, 'reports');
    const data = bed.h.sims.qonto.data;
    const graph = bed.h.sims.graph;
    const readReport = (folder: string, name: string) => {
      const file = drive.getByPath(`${APP}/${folder}/${name}`);
      return file ? text(drive.readFile(file.id)) : Promise.resolve(undefined);
    };
    const reportFiles = () => drive.listFiles().filter((f) => REPORTS.some((name) => f.path.endsWith(`/${name}`)));
    const folderExists = (folder: string) => drive.getByPath(`${APP}/${folder}`)?.kind === 'folder';

    // After the backfill: each period folder with receipts holds the API's log rows of that folder.
    const log = await apiCsvByFolder(bed, id, 'export-log');
    expect(log.byFolder.size).toBeGreaterThan(3);
    for (const [folder, lines] of log.byFolder) expect(await readReport(folder, '_export-log.csv'), folder).toBe(csvOf(log.header, lines));
    // And where transactions lack a receipt (in a folder the receipts made), the API's missing rows.
    const missing = await apiCsvByFolder(bed, id, 'missing-receipts');
    const missingInFolders = [...missing.byFolder.keys()].filter(folderExists);
    expect(missingInFolders.length).toBeGreaterThan(0);
    for (const folder of missingInFolders) expect(await readReport(folder, '_missing-receipts.csv'), folder).toBe(csvOf(missing.header, missing.byFolder.get(folder)!));
    // Nothing else: no folder made for a report, no report where nothing is missing.
    for (const folder of missing.byFolder.keys()) if (!log.byFolder.has(folder)) expect(folderExists(folder), folder).toBe(false);
    expect(reportFiles().map((f) => f.path).sort()).toEqual(
      [...[...log.byFolder.keys()].map((f) => `${APP}/${f}/_export-log.csv`), ...missingInFolders.map((f) => `${APP}/${f}/_missing-receipts.csv`)].sort(),
    );
    // The reports are no receipts: the drive holds the receipts the manifest says, and the reports.
    expect(await driveMismatches(drive, bed.h.services.store, id, expectedReceipts(data, SYNC_FROM, ZONE))).toEqual([]);

    // A run with nothing new writes nothing.
    let mark = graph.requestLog.at(-1);
    await sync();
    expect(reportPuts(graph.requestLog, mark)).toEqual([]);

    // The user deletes a report: no receipt is exported again for it, and nothing is written while
    // its period stays as it was.
    const [folder] = missingInFolders;
    await drive.deleteByPath(`${APP}/${folder}/_export-log.csv`);
    mark = graph.requestLog.at(-1);
    expect(await sync()).toMatchObject({ exported: 0, requeued: 0 });
    expect(reportPuts(graph.requestLog, mark)).toEqual([]);
    expect(await readReport(folder!, '_export-log.csv')).toBeUndefined();

    // A receipt arrives for a missing transaction: only its period's reports are written again (the
    // deleted one comes back with the change).
    const account = data.bankAccounts().find((a) => folder!.startsWith(`${accountFolderName({ name: a.name, iban: a.iban })}/`))!;
    const fixedLine = missing.byFolder.get(folder!)![0]!;
    data.attachReceipt(fixedLine.split(',')[0]!, { fileName: 'late.pdf', contentType: 'application/pdf', size: 1_500 });
    mark = graph.requestLog.at(-1);
    await sync();
    const folderId = drive.getByPath(`${APP}/${folder}`)!.id;
    expect(reportPuts(graph.requestLog, mark).sort()).toEqual([`${folderId}/_export-log.csv`, `${folderId}/_missing-receipts.csv`]);
    const logNow = await apiCsvByFolder(bed, id, 'export-log');
    expect(await readReport(folder!, '_export-log.csv')).toBe(csvOf(logNow.header, logNow.byFolder.get(folder!)!));
    const missingNow = await apiCsvByFolder(bed, id, 'missing-receipts');
    expect(await readReport(folder!, '_missing-receipts.csv')).toBe(csvOf(missingNow.header, missingNow.byFolder.get(folder!) ?? []));
    expect(await readReport(folder!, '_missing-receipts.csv')).not.toContain(fixedLine);

    // The user deletes another period folder; then a transaction without receipt appears in that period.
    const gone = [...log.byFolder.keys()].find((f) => f !== folder && f.startsWith(`${accountFolderName({ name: account.name, iban: account.iban })}/`))!;
    const goneId = drive.getByPath(`${APP}/${gone}`)!.id;
    await drive.deleteByPath(`${APP}/${gone}`);
    const period = gone.slice(-7);
    data.addTransaction({ bankAccountId: account.id, amount: 12, label: 'After the folder went', emittedAt: `${period}-15T12:00:00.000Z`, attachmentRequired: true });
    mark = graph.requestLog.at(-1);
    await sync();
    const after = await apiCsvByFolder(bed, id, 'missing-receipts');
    expect(after.byFolder.get(gone)?.some((l) => l.includes('After the folder went'))).toBe(true);
    expect(folderExists(gone)).toBe(false);
    expect(folderExists(gone.split('/').slice(0, 2).join('/'))).toBe(true);
    expect(reportPuts(graph.requestLog, mark).filter((p) => p.startsWith(`${goneId}/`))).toEqual([]);
  });
});

describe('period folder reports, settings off (the default)', () => {
  let bed: ApiBed;
  beforeAll(async () => {
    bed = await startApiBed({ demo: { seed: 21, accounts: 1, months: 2, receipts: 15 } });
  });
  afterAll(() => bed?.close());

  it('writes none', async () => {
    const { id, drive } = await start(bed, 'no-reports');
    expect(drive.listFiles().length).toBeGreaterThan(0);
    expect(drive.listFiles().filter((f) => REPORTS.some((name) => f.path.endsWith(`/${name}`)))).toEqual([]);
    expect(reportPuts(bed.h.sims.graph.requestLog)).toEqual([]);
    expect(await bed.h.services.store.driveReports(id)).toEqual([]);
  });
});
