import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MockActivityEnvironment } from '@temporalio/testing';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ActivityDeps } from '../../activities/deps.js';
import { placeReceipt } from '../../activities/discover.js';
import { exportActivities } from '../../activities/export.js';
import { verifyActivities } from '../../activities/verify.js';
import type { DriveItem, OneDriveClient, UploadParams } from '../../src/onedrive/client.js';
import type { QontoClient } from '../../src/qonto/client.js';
import type { Transaction } from '../../src/qonto/schemas.js';
import { openSqliteStore } from '../../src/store/sqlite.js';
import type { Store } from '../../src/store/types.js';

/** What the activities record for the export log: at discovery, at upload, at the drive check. */
const ID = 'i1';
const QUOTA = { total: 1e12, used: 0, remaining: 1e12, deleted: 0, state: 'normal' as const };
const FOLDER = 'Main (1234)/2026/2026-03';
const LONG_AGO = '2000-01-01T00:00:00.000Z';

let store: Store;
let deltaItems: DriveItem[] = [];
const drive = {
  getDrive: async () => ({ id: 'd', driveType: 'personal', quota: QUOTA }),
  getAppFolder: async () => ({ id: 'app', name: 'app' }),
  ensureFolder: async (parentId: string, name: string) => ({ id: `${parentId}/${name}`, name, folder: {} }),
  getItem: async () => null,
  uploadFile: async (p: UploadParams) => ({
    item: { id: `item-${p.name}`, name: p.name, size: p.size },
    quickXorHash: `q-${p.name}`,
    sha256: `s-${p.name}`,
    size: p.size,
  }),
  cancelUploadSession: async () => undefined,
  deltaPage: async () => ({ items: deltaItems, deltaLink: 'delta-2' }),
} as unknown as OneDriveClient;
const deps = (): ActivityDeps => ({ store, qonto: () => ({}) as QontoClient, onedrive: () => drive, forgetTokens: async () => undefined });

const exportBatch = (runNumber: number) => {
  const activities = exportActivities(deps());
  return new MockActivityEnvironment().run(() => activities.exportBatch({ integrationId: ID, runNumber, batchSize: 10 }));
};
const verifyDrive = () => {
  const activities = verifyActivities(deps());
  return new MockActivityEnvironment().run(() => activities.verifyDrive({ integrationId: ID, deltaLink: 'delta-1' }));
};

beforeEach(async () => {
  store = openSqliteStore(join(mkdtempSync(join(tmpdir(), 'export-log-')), 'db.sqlite'));
  await store.createIntegration({ id: ID });
  await store.upsertDiscovered(
    ID,
    ['a', 'b'].map((id) => ({ attachmentId: id, transactionId: `tx-${id}`, bankAccountId: 'acc', folderPath: FOLDER, fileName: `${id}.pdf`, fallbackFileName: `full-${id}.pdf`, size: 10 })),
  );
  deltaItems = [];
});
afterEach(() => store.close());

/** A file's verifiedAt as the log shows it (the last drive check vouches for the files it saw intact). */
async function loggedVerifiedAt(id: string): Promise<string | null | undefined> {
  for await (const row of store.exportLog(ID, {})) if (row.attachmentId === id) return row.verifiedAt;
  return undefined;
}

describe('the export log as the activities keep it', () => {
  it('discovery records the transaction: local date, signed amount as in the file name, currency, counterparty', () => {
    const tx = {
      id: 'tx-1',
      amount: 52.4,
      currency: 'EUR',
      side: 'debit',
      clean_counterparty_name: 'Amazon "EU"',
      label: 'AMZN',
      emitted_at: '2026-03-31T22:30:00Z',
    } as Transaction;
    const attachment = { id: '1a2b3c4d-0000-4000-8000-000000000000', file_name: 'r.pdf', file_size: 10, file_content_type: 'application/pdf', url: 'u' };
    const placed = placeReceipt({ id: 'acc', name: 'Main', folderName: 'Main (1234)' }, tx, attachment, 'Europe/Paris');
    expect(placed).toMatchObject({ transactionDate: '2026-04-01', amount: '-52.40', currency: 'EUR', counterparty: 'Amazon "EU"' });
    expect(placed.fileName.startsWith('2026-04-01 ')).toBe(true);
  });

  it('an upload records its SHA-256, and the first and the last time it was seen intact', async () => {
    await exportBatch(1);
    const first = await store.getEntry(ID, 'a');
    expect(first).toMatchObject({ state: 'uploaded', sha256: 's-a.pdf', quickXorHash: 'q-a.pdf', reimports: 0 });
    expect(first?.exportedAt).toEqual(first?.verifiedAt);
    expect(Date.parse(first!.exportedAt!)).toBeGreaterThan(Date.now() - 60_000);

    // The user deletes the file: it is queued again, counted as a re-import, and keeps its first export time.
    deltaItems = [{ id: 'item-a.pdf', name: '', deleted: {} }];
    await verifyDrive();
    expect(await store.getEntry(ID, 'a')).toMatchObject({ state: 'pending', reimports: 1, exportedAt: first!.exportedAt });
    await store.updateEntry(ID, 'a', { verifiedAt: LONG_AGO });
    await exportBatch(2);
    const again = await store.getEntry(ID, 'a');
    expect(again).toMatchObject({ state: 'uploaded', reimports: 1, exportedAt: first!.exportedAt, sha256: 's-a.pdf' });
    expect(again!.verifiedAt! > LONG_AGO).toBe(true);
  });

  it('the drive check marks the exported receipts verified, and records a file whose content someone changed', async () => {
    await exportBatch(1);
    for (const id of ['a', 'b']) await store.updateEntry(ID, id, { verifiedAt: LONG_AGO });
    // b was replaced in the drive by other bytes: its hash is no longer ours.
    deltaItems = [
      { id: 'item-a.pdf', name: 'a.pdf', file: { hashes: { quickXorHash: 'q-a.pdf' } } },
      { id: 'item-b.pdf', name: 'b.pdf', file: { hashes: { quickXorHash: 'someone else' } } },
    ];
    await verifyDrive();
    expect((await loggedVerifiedAt('a'))! > LONG_AGO).toBe(true);
    const changed = await store.getEntry(ID, 'b');
    expect(changed).toMatchObject({ state: 'uploaded', verifiedAt: LONG_AGO });
    expect(changed!.changedAt).not.toBeNull();
    expect(await loggedVerifiedAt('b')).toBe(LONG_AGO);
    // The next check's feed no longer mentions b: it still does not count as seen intact.
    deltaItems = [];
    await verifyDrive();
    expect(await loggedVerifiedAt('b')).toBe(LONG_AGO);

    // Deleted, then exported again: intact once more.
    deltaItems = [{ id: 'item-b.pdf', name: '', deleted: {} }];
    await verifyDrive();
    await exportBatch(2);
    expect(await store.getEntry(ID, 'b')).toMatchObject({ state: 'uploaded', changedAt: null, reimports: 1 });
  });
});
