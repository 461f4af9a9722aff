import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openSqliteStore } from '../../src/store/sqlite.js';
import type { DiscoveredReceipt, Store } from '../../src/store/types.js';

const receipt = (id: string, folderPath = 'Main (1234)/2026/2026-03', fileName = `${id}.pdf`): DiscoveredReceipt => ({
  attachmentId: id,
  transactionId: `tx-${id}`,
  bankAccountId: 'acc-1',
  folderPath,
  fileName,
  fallbackFileName: `full-${id}.pdf`,
  size: 100,
});

describe('SQLite store', () => {
  let store: Store;
  let file: string;
  beforeEach(async () => {
    file = join(mkdtempSync(join(tmpdir(), 'store-')), 'db.sqlite');
    store = openSqliteStore(file);
    await store.createIntegration({ id: 'i1' });
  });
  afterEach(() => store.close());

  it('counts receipts per period folder, by state, in path order', async () => {
    await store.upsertDiscovered('i1', [receipt('a'), receipt('b'), receipt('c', 'Main (1234)/2026/2026-02'), receipt('d', 'Taxes (9876)/2025/2025-12')]);
    await store.updateEntry('i1', 'a', { state: 'uploaded' });
    await store.updateEntry('i1', 'b', { state: 'failed' });
    await store.updateEntry('i1', 'd', { state: 'dismissed' });
    await store.createIntegration({ id: 'other' });
    await store.upsertDiscovered('other', [receipt('z')]);
    expect(await store.folderCounts('i1')).toEqual([
      { folderPath: 'Main (1234)/2026/2026-02', exported: 0, failed: 0, pending: 1, dismissed: 0, exportedBytes: 0 },
      { folderPath: 'Main (1234)/2026/2026-03', exported: 1, failed: 1, pending: 0, dismissed: 0, exportedBytes: 100 },
      { folderPath: 'Taxes (9876)/2025/2025-12', exported: 0, failed: 0, pending: 0, dismissed: 1, exportedBytes: 0 },
    ]);
    expect(await store.folderCounts('nobody')).toEqual([]);
  });

  it('keeps integrations and survives reopening (migrations are idempotent)', async () => {
    await store.updateIntegration('i1', {
      status: 'idle',
      syncFrom: '2026-01-01',
      timeZone: 'Europe/Berlin',
      microsoftAccount: { homeAccountId: 'h', tenantId: 't', username: 'u@outlook.com' },
    });
    await store.close();
    store = openSqliteStore(file);
    const i = await store.getIntegration('i1');
    expect(i).toMatchObject({ status: 'idle', syncFrom: '2026-01-01', timeZone: 'Europe/Berlin' });
    expect(i?.microsoftAccount?.username).toBe('u@outlook.com');
    await expect(store.updateIntegration('nope', { status: 'idle' })).rejects.toThrow(/does not exist/);
  });

  it('discovers receipts once and keeps their state', async () => {
    expect(await store.upsertDiscovered('i1', [receipt('a'), receipt('b')])).toBe(2);
    await store.updateEntry('i1', 'a', { state: 'uploaded', driveItemId: 'd-a' });
    expect(await store.upsertDiscovered('i1', [receipt('a'), receipt('c')])).toBe(1);
    expect((await store.getEntry('i1', 'a'))?.state).toBe('uploaded');
    expect((await store.nextToExport('i1', 1, 10)).map((e) => e.attachmentId)).toEqual(['b', 'c']);
  });

  it('falls back to the long name when two receipts would share a name case-insensitively', async () => {
    await store.upsertDiscovered('i1', [receipt('a', 'F', 'Same.pdf'), receipt('b', 'F', 'same.PDF')]);
    expect((await store.getEntry('i1', 'b'))?.fileName).toBe('full-b.pdf');
    expect((await store.getEntry('i1', 'a'))?.fileName).toBe('Same.pdf');
  });

  it('does not retry a receipt in the run it failed in', async () => {
    await store.upsertDiscovered('i1', [receipt('a')]);
    await store.updateEntry('i1', 'a', { state: 'failed', failedInRun: 3 });
    expect(await store.nextToExport('i1', 3, 10)).toEqual([]);
    expect(await store.nextToExport('i1', 4, 10)).toHaveLength(1);
  });

  it('dismisses a deleted folder with everything below it, and revives on reconfigure', async () => {
    await store.upsertDiscovered('i1', [
      receipt('a', 'Main (1234)/2026/2026-03'),
      receipt('b', 'Main (1234)/2026/2026-04'),
      receipt('c', 'Main (1234)/2026/2026-030'),
      receipt('d', 'Other (9999)/2026/2026-03'),
    ]);
    await store.updateEntry('i1', 'b', { uploadUrl: 'https://upload.example/b' });
    expect(await store.dismissUnder('i1', 'Main (1234)/2026/2026-03')).toEqual({ dismissed: 1, uploadUrls: [] });
    // The upload sessions of the receipts dismissed are handed back, for the caller to cancel.
    expect(await store.dismissUnder('i1', 'Main (1234)')).toEqual({ dismissed: 2, uploadUrls: ['https://upload.example/b'] });
    expect((await store.getEntry('i1', 'b'))?.uploadUrl).toBeNull();
    expect((await store.counts('i1')).dismissed).toBe(3);
    expect((await store.getEntry('i1', 'd'))?.state).toBe('pending');
    expect((await store.dismissUnder('i1', '')).dismissed).toBe(1);
    expect(await store.reviveAll('i1')).toBe(4);
    expect((await store.counts('i1')).pending).toBe(4);
  });

  it('treats LIKE wildcards in folder names literally', async () => {
    await store.upsertDiscovered('i1', [receipt('a', '50%_off (1)/2026'), receipt('b', '50Xoff (1)/2026')]);
    expect((await store.dismissUnder('i1', '50%_off (1)')).dismissed).toBe(1);
    expect((await store.getEntry('i1', 'b'))?.state).toBe('pending');
  });

  it('caches folders and forgets a subtree', async () => {
    await store.putFolder('i1', '', 'root');
    await store.putFolder('i1', 'A', 'f-a');
    await store.putFolder('i1', 'A/2026', 'f-a-2026');
    await store.putFolder('i1', 'B', 'f-b');
    expect(await store.findFoldersByIds('i1', ['f-a-2026', 'zzz'])).toEqual([{ path: 'A/2026', driveItemId: 'f-a-2026' }]);
    await store.forgetFoldersUnder('i1', 'A');
    expect(await store.getFolder('i1', 'A/2026')).toBeNull();
    expect(await store.getFolder('i1', 'B')).toBe('f-b');
  });

  it('stores and deletes sealed token caches', async () => {
    await store.putTokenCache('i1', 'microsoft', Buffer.from([1, 2, 3]));
    await store.putTokenCache('i1', 'microsoft', Buffer.from([4]));
    expect(await store.getTokenCache('i1', 'microsoft')).toEqual(Buffer.from([4]));
    await store.deleteTokenCaches('i1');
    expect(await store.getTokenCache('i1', 'microsoft')).toBeNull();
  });

  it('counts by state with pending bytes', async () => {
    await store.upsertDiscovered('i1', [receipt('a'), receipt('b'), receipt('c')]);
    await store.updateEntry('i1', 'a', { state: 'uploaded' });
    await store.updateEntry('i1', 'b', { state: 'failed' });
    expect(await store.counts('i1')).toEqual({ exported: 1, failed: 1, pending: 1, dismissed: 0, pendingBytes: 200 });
  });

  it('hands a sign-in state out once, and never after it expired', async () => {
    await store.putSignIn('s1', { integrationId: 'i1', sealed: Buffer.from('v'), expiresAt: 2_000 });
    await store.putSignIn('s2', { integrationId: 'i1', sealed: Buffer.from('w'), expiresAt: 2_000 });
    expect(await store.takeSignIn('s1', 1_000)).toEqual({ integrationId: 'i1', sealed: Buffer.from('v') });
    expect(await store.takeSignIn('s1', 1_000)).toBeNull();
    expect(await store.takeSignIn('s2', 2_000)).toBeNull();
  });

  it('hands a Qonto sign-in\'s tokens to one taker only, also across connections to the same file', async () => {
    const other = openSqliteStore(file);
    try {
      await store.putQontoSignIn('g1', { sealed: Buffer.from('tokens'), expiresAt: 2_000 });
      const takes = await Promise.all([store.takeQontoSignIn('g1', 1_000), other.takeQontoSignIn('g1', 1_000), store.takeQontoSignIn('g1', 1_000)]);
      expect(takes.filter((t) => t !== null)).toEqual([Buffer.from('tokens')]);
      expect(await other.takeQontoSignIn('g1', 1_000)).toBeNull();

      await other.putQontoSignIn('g2', { sealed: Buffer.from('old'), expiresAt: 2_000 });
      expect(await store.takeQontoSignIn('g2', 2_000)).toBeNull(); // expired
      expect(await store.takeQontoSignIn('unknown', 1_000)).toBeNull();
    } finally {
      await other.close();
    }
  });

  it('keeps the admin session epoch, and bumps it', async () => {
    expect(await store.adminSessionEpoch()).toBe(0);
    expect(await store.bumpAdminSessionEpoch()).toBe(1);
    expect(await store.bumpAdminSessionEpoch()).toBe(2);
    expect(await store.adminSessionEpoch()).toBe(2);
  });

  it('deletes an integration with everything stored for it', async () => {
    await store.upsertDiscovered('i1', [receipt('a')]);
    await store.putTokenCache('i1', 'microsoft', Buffer.from([1]));
    await store.deleteIntegration('i1');
    expect(await store.getIntegration('i1')).toBeNull();
    expect(await store.getEntry('i1', 'a')).toBeNull();
    expect(await store.getTokenCache('i1', 'microsoft')).toBeNull();
  });
});
