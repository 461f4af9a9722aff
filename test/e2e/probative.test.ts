import { createHash } from 'node:crypto';
import { Client, Connection } from '@temporalio/client';
import type { Hono } from 'hono';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createApp } from '../../src/api/app.js';
import { apiDeps } from '../../src/api/deps.js';
import type { ExportLogEntry } from '../../src/api/export-log.js';
import { loadConfig } from '../../src/config.js';
import type { SimAttachment } from '../../src/simulators/qonto/data.js';
import { manifestKey } from '../../src/sync/probative.js';
import { settingsFrom, startIntegration } from '../../src/temporal/integrations.js';
import { reconfigureSignal, syncNowSignal } from '../../workflows/messages.js';
import type { IntegrationView } from '../../workflows/state.js';
import { driveMismatches, expectedReceipts } from '../support/expectations.js';
import { ADMIN_TOKEN, dataConverter, startHarness, type Harness } from '../support/harness.js';
import { startWorkerProcess, type WorkerProcess } from '../support/worker-process.js';
import { handleOf, waitForStatus } from '../support/workflow.js';

/**
 * Qonto's probative copies end to end: the Temporal dev server, the product's worker as a separate
 * process, the simulators over real HTTP. Off, nothing but the receipts; turned on by a
 * reconfiguration, the copies of receipts already exported follow, each verified; a deleted copy
 * comes back, a deleted period folder stays gone with its copies, a pending copy is exported once
 * Qonto has made it; turned off again, the copies are no longer tracked.
 */
const ZONE = 'Europe/Paris';
const SYNC_FROM = '2020-01-01';
const ID = `probative-${Date.now().toString(36)}`;
const APP = 'Apps/Qonto Receipts';

let h: Harness;
let client: Client;
let worker: WorkerProcess | undefined;
/** The API over the same store, for the export log. */
let app: Hono;

beforeAll(async () => {
  h = await startHarness({ demo: { seed: 5, accounts: 2, months: 2, receipts: 40 } });
  const address = inject('temporalAddress');
  const env = { ...h.env, TEMPORAL_ADDRESS: address, TEMPORAL_TASK_QUEUE: `tq-${ID}` };
  client = new Client({ connection: await Connection.connect({ address }), dataConverter });
  worker = await startWorkerProcess(env);
  app = createApp(apiDeps(loadConfig(env), h.services, client));
  await h.connect(ID, h.sims.users.personal);
  await startIntegration(client, env.TEMPORAL_TASK_QUEUE, { integrationId: ID, syncFrom: SYNC_FROM, timeZone: ZONE, probativeCopies: false, settings: settingsFrom(h.config) });
});

afterAll(async () => {
  await handleOf(client, ID).terminate('suite over').catch(() => {});
  await worker?.stop();
  await client?.connection.close();
  await h?.close();
});

const after = (run: number, what: string) =>
  waitForStatus(client, ID, (v: IntegrationView) => v.runNumber >= run && v.phase.startsWith('sleeping'), what, 180_000);
const receipts = () => expectedReceipts(h.sims.qonto.data, SYNC_FROM, ZONE);
const withCopy = () => receipts().filter((a) => a.probative.status === 'available');
const drive = () => h.sims.graph.drive(h.sims.users.personal.id);
const entry = (id: string) => h.services.store.getEntry(ID, id);

describe('probative copies end to end', () => {
  let pending: SimAttachment;

  it('exports nothing but the receipts while the option is off', async () => {
    const done = await after(1, 'the backfill');
    expect(done.lastRun).toMatchObject({ outcome: 'completed', exported: receipts().length });
    expect(await driveMismatches(drive(), h.services.store, ID, receipts())).toEqual([]);
    expect(drive().listFiles().some((f) => f.path.endsWith('-probative.pdf'))).toBe(false);
    expect((await entry(receipts()[0]!.id))?.probativeStatus).toBeNull();
    // The demo holds every case.
    expect(withCopy().length).toBeGreaterThan(0);
    pending = receipts().find((a) => a.probative.status === 'pending')!;
    expect(pending).toBeDefined();
    expect(receipts().some((a) => a.probative.status === 'unavailable')).toBe(true);
  });

  it('turned on later, exports the copies of the receipts already exported, each verified', async () => {
    await handleOf(client, ID).signal(reconfigureSignal, { probativeCopies: true });
    const done = await after(2, 'the reconfiguration');
    expect(done.lastRun).toMatchObject({ kind: 'reconfigure', outcome: 'completed', exported: withCopy().length, failed: 0 });
    expect(await driveMismatches(drive(), h.services.store, ID, receipts(), APP, withCopy())).toEqual([]);
    // Counts are of files: as many as the drive holds.
    expect(done.counts).toMatchObject({ exported: receipts().length + withCopy().length, pending: 0, failed: 0 });
    expect(drive().listFiles()).toHaveLength(done.counts.exported);
    // Where each copy stands is recorded on its receipt, for the export log.
    const unavailable = receipts().find((a) => a.probative.status === 'unavailable')!;
    expect((await entry(withCopy()[0]!.id))?.probativeStatus).toBe('available');
    expect((await entry(pending.id))?.probativeStatus).toBe('pending');
    expect((await entry(unavailable.id))?.probativeStatus).toBe('unavailable');
    expect(await entry(manifestKey(pending.id, 'probative'))).toBeNull();
  });

  it('shows in the export log each copy with the hashes of the bytes in the drive, where the others stand, and what is missing', async () => {
    const auth = { authorization: `Bearer ${ADMIN_TOKEN}` };
    const res = await app.request(`/api/integrations/${ID}/export-log?format=json`, { headers: auth });
    expect(res.status).toBe(200);
    const { entries } = (await res.json()) as { entries: ExportLogEntry[] };
    const withState = (state: ExportLogEntry['state']) => entries.filter((e) => e.state === state);
    const ids = (rows: ExportLogEntry[]) => new Set(rows.map((e) => e.attachmentId));

    const copies = entries.filter((e) => e.path?.endsWith('-probative.pdf'));
    expect(ids(copies)).toEqual(new Set(withCopy().map((a) => a.id)));
    const mismatches: string[] = [];
    for (const copy of copies) {
      const file = drive().getByPath(`${APP}/${copy.path}`);
      if (!file) {
        mismatches.push(`no file at ${copy.path}`);
        continue;
      }
      const hash = createHash('sha256');
      for await (const chunk of drive().readFile(file.id)) hash.update(chunk);
      const sha256 = hash.digest('hex');
      const receiptRow = entries.find((e) => e.attachmentId === copy.attachmentId && e !== copy && e.path !== null)!;
      if (copy.sha256 !== sha256 || copy.quickXorHash !== file.quickXorHash || copy.size !== file.size) mismatches.push(`${copy.path}: hashes or size differ from the drive's`);
      if (copy.state !== 'exported' || copy.exportedAt === null) mismatches.push(`${copy.path}: ${copy.state}`);
      // The receipt's transaction, on the copy's row too.
      for (const field of ['transactionId', 'date', 'amount', 'currency', 'counterparty', 'account'] as const) {
        if (copy[field] !== receiptRow[field] || copy[field] === null) mismatches.push(`${copy.path}: ${field} ${copy[field]}, receipt ${receiptRow[field]}`);
      }
    }
    expect(mismatches).toEqual([]);
    // The copies not made: one row each, without a file.
    expect(ids(withState('probative_pending'))).toEqual(new Set(receipts().filter((a) => a.probative.status === 'pending').map((a) => a.id)));
    expect(ids(withState('probative_unavailable'))).toEqual(new Set(receipts().filter((a) => a.probative.status === 'unavailable').map((a) => a.id)));
    for (const row of [...withState('probative_pending'), ...withState('probative_unavailable')]) expect(row).toMatchObject({ path: null, size: null, sha256: null });
    // The transactions still without a receipt: those of the missing-receipts list.
    const missing = (await (await app.request(`/api/integrations/${ID}/missing-receipts`, { headers: auth })).json()) as { missing: { transactionId: string; lost: boolean }[] };
    const missingRows = entries.filter((e) => e.state === 'missing' || e.state === 'lost');
    expect(missingRows.map((e) => [e.transactionId, e.state]).sort()).toEqual(missing.missing.map((m) => [m.transactionId, m.lost ? 'lost' : 'missing']).sort());
    expect(entries).toHaveLength(receipts().length + withCopy().length + (receipts().length - withCopy().length) + missing.missing.length);
    const dates = entries.map((e) => e.date ?? '');
    expect(dates).toEqual([...dates].sort());
  });

  it('puts a deleted copy back at the next run and keeps a deleted period folder gone, copies included', async () => {
    const files = drive().listFiles();
    const copies = files.filter((f) => f.path.endsWith('-probative.pdf'));
    const folders = [...new Set(files.map((f) => f.path.slice(0, f.path.lastIndexOf('/'))))].sort();
    // Not the folder of the receipt whose copy is pending: the next test needs it.
    const pendingFolder = `${APP}/${(await entry(pending.id))!.folderPath}`;
    const doomed = folders.find((folder) => folder !== pendingFolder && copies.some((c) => c.path.startsWith(`${folder}/`)))!;
    const doomedCount = files.filter((f) => f.path.startsWith(`${doomed}/`)).length;
    const victim = copies.find((c) => !c.path.startsWith(`${doomed}/`))!;
    await drive().deleteByPath(victim.path);
    await drive().deleteByPath(doomed);

    await handleOf(client, ID).signal(syncNowSignal);
    const done = await after(3, 'the run after the deletions');
    expect(done.lastRun).toMatchObject({ requeued: 1, dismissed: doomedCount, exported: 1, outcome: 'completed' });
    expect(drive().getByPath(victim.path)?.size).toBe(victim.size);
    expect(drive().getByPath(victim.path)?.quickXorHash).toBe(victim.quickXorHash);
    expect(drive().getByPath(doomed)).toBeUndefined();
  });

  it('exports a copy that was pending once Qonto has made it', async () => {
    h.sims.qonto.data.setProbative(pending.id, { status: 'available', size: 123_457 });
    await handleOf(client, ID).signal(syncNowSignal);
    const done = await after(4, 'the run after the copy was made');
    expect(done.lastRun).toMatchObject({ exported: 1, outcome: 'completed' });
    const copy = await entry(manifestKey(pending.id, 'probative'));
    expect(copy).toMatchObject({ state: 'uploaded', size: 123_457 });
    expect((await entry(pending.id))?.probativeStatus).toBe('available');
    const file = drive().listFiles().find((f) => f.id === copy!.driveItemId)!;
    expect(file.path).toBe(`${APP}/${copy!.folderPath}/${copy!.fileName}`);
    expect(file.size).toBe(123_457);
  });

  it('turned off again, no longer tracks copies: the re-import brings back only receipts', async () => {
    const before = drive().listFiles().length;
    await handleOf(client, ID).signal(reconfigureSignal, { probativeCopies: false });
    const done = await after(5, 'the reconfiguration that turns copies off');
    // The deleted folder's receipts come back (a reconfiguration restores it), their copies do not.
    const restored = drive().listFiles().length - before;
    expect(restored).toBeGreaterThan(0);
    expect(done.lastRun).toMatchObject({ kind: 'reconfigure', outcome: 'completed', exported: restored });
    expect(done.counts).toMatchObject({ exported: receipts().length, pending: 0, failed: 0 });
    expect(await entry(manifestKey(pending.id, 'probative'))).toBeNull();
    expect((await entry(pending.id))?.probativeStatus).toBeNull();
  });
});
