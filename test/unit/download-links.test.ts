import { mkdtempSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MockActivityEnvironment } from '@temporalio/testing';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AttachmentLinks } from '../../activities/attachment-links.js';
import type { ActivityDeps } from '../../activities/deps.js';
import { discoverActivities } from '../../activities/discover.js';
import { exportActivities } from '../../activities/export.js';
import type { DiscoverInput, ExportInput } from '../../activities/types.js';
import { createSealer } from '../../src/auth/crypto.js';
import type { OneDriveClient, UploadParams, UploadResult } from '../../src/onedrive/client.js';
import { QontoClient } from '../../src/qonto/client.js';
import { attachmentBuffer } from '../../src/simulators/qonto/content.js';
import { openSqliteStore } from '../../src/store/sqlite.js';
import type { Store } from '../../src/store/types.js';
import { KEY, useQontoSimulators } from '../support/qonto-sim.js';

const ID = 'i1';
const MINUTE = 60_000;
const QUOTA = { total: 1e12, used: 0, remaining: 1e12, deleted: 0, state: 'normal' as const };
const simulator = useQontoSimulators();

let store: Store;
beforeEach(async () => {
  store = openSqliteStore(join(mkdtempSync(join(tmpdir(), 'download-links-')), 'db.sqlite'));
  await store.createIntegration({ id: ID });
});
afterEach(() => store.close());

/** A drive that reads every upload's bytes, as the real upload does. */
function readingDrive() {
  const received = new Map<string, Buffer>();
  const uploadFile = async (p: UploadParams): Promise<UploadResult> => {
    const chunks: Buffer[] = [];
    for await (const chunk of await p.open()) chunks.push(Buffer.from(chunk));
    received.set(p.name, Buffer.concat(chunks));
    return { item: { id: `item-${p.name}`, name: p.name, size: p.size }, quickXorHash: 'h', sha256: 's', size: p.size };
  };
  const drive = {
    getDrive: async () => ({ id: 'd', driveType: 'personal', quota: QUOTA }),
    getAppFolder: async () => ({ id: 'app', name: 'app' }),
    ensureFolder: async (parentId: string, name: string) => ({ id: `${parentId}/${name}`, name, folder: {} }),
    getItem: async () => null,
    uploadFile,
  };
  return { drive: drive as unknown as OneDriveClient, received };
}

/** Discovers the account on one worker, then exports on another (its own in-process links), `laterMs` after. */
async function discoverHereExportThere(laterMs: number, between?: (receipts: { id: string }[]) => Promise<void>) {
  const { sim, account } = await simulator();
  const receipts = [1, 2, 3].map((n) => {
    const tx = sim.data.addTransaction({ bankAccountId: account.id, amount: 10 + n, label: `Shop ${n}`, emittedAt: `2026-03-0${n}T10:00:00.000Z` });
    return sim.data.attachReceipt(tx.id, { fileName: `r${n}.pdf`, contentType: 'application/pdf', size: 20_000 + n });
  });
  const qonto = new QontoClient({ baseUrl: sim.url, auth: { kind: 'apiKey', ...KEY } });
  const sealer = createSealer(randomBytes(32));
  const { drive, received } = readingDrive();
  const deps = (links: AttachmentLinks): ActivityDeps => ({ store, sealer, qonto: () => qonto, onedrive: () => drive, forgetTokens: async () => undefined, attachmentLinks: links });

  const lister = discoverActivities(deps(new AttachmentLinks()));
  await new MockActivityEnvironment().run((input: DiscoverInput) => lister.discoverAccount(input), {
    integrationId: ID,
    account: { id: account.id, name: 'Main', folderName: 'Main (1234)' },
    cursor: null,
    syncFrom: '2026-01-01',
    timeZone: 'Europe/Paris',
  });
  for (const r of receipts) {
    const entry = await store.getEntry(ID, r.id);
    expect(entry?.downloadLink).toBeInstanceOf(Buffer);
    expect(entry!.downloadLink!.toString('latin1')).not.toContain(sim.url.slice('http://'.length));
  }
  await between?.(receipts);
  const lookups = () => sim.requests.filter((r) => r.path.startsWith('/v2/attachments/')).length;
  const before = lookups();
  const exporter = exportActivities(deps(new AttachmentLinks(100, () => Date.now() + laterMs)));
  const result = await new MockActivityEnvironment().run((input: ExportInput) => exporter.exportBatch(input), { integrationId: ID, runNumber: 1, batchSize: 10 });
  expect(result).toMatchObject({ exported: 3, failed: 0 });
  // Each file holds its own receipt's bytes.
  for (const r of receipts) expect(received.get((await store.getEntry(ID, r.id))!.fileName)).toEqual(attachmentBuffer(r.id, r.size));
  return { lookups: lookups() - before, receipts };
}

describe('download links stored at discovery', () => {
  it('let a worker that did not list the receipts download them without asking Qonto for links', async () => {
    const { lookups } = await discoverHereExportThere(0);
    expect(lookups).toBe(0);
  });

  it('are not used after 25 minutes: each receipt gets a fresh link from Qonto', async () => {
    const { lookups } = await discoverHereExportThere(25 * MINUTE);
    expect(lookups).toBe(3);
  });

  it('are stored sealed, and forgotten once the receipt is exported', async () => {
    const { receipts } = await discoverHereExportThere(0);
    for (const r of receipts) expect(await store.getEntry(ID, r.id)).toMatchObject({ state: 'uploaded', downloadLink: null, downloadLinkAt: null });
  });

  it('open only on the row they were sealed for: a link copied to another receipt is not used, that receipt gets a fresh one', async () => {
    const { lookups } = await discoverHereExportThere(0, async ([r1, r2]) => {
      const sealed = await store.getEntry(ID, r1!.id);
      await store.updateEntry(ID, r2!.id, { downloadLink: sealed!.downloadLink, downloadLinkAt: sealed!.downloadLinkAt });
    });
    // Each receipt's own bytes (checked by discoverHereExportThere); only the second asked Qonto.
    expect(lookups).toBe(1);
  });
});
