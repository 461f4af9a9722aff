import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { TokensRefusedError } from '../../src/errors.js';
import type { BudgetParams, DiscoveredReceipt, ExportLogRange, ExportLogRow, MissingReceipt, Store, TransactionRecord, WebhookEventRecord } from '../../src/store/types.js';
import { manifestKey } from '../../src/sync/probative.js';

/** A new, empty database; `open` connects one more store to it (its own connection or pool, as
 * another process would). */
export type FreshDatabase = () => Promise<{ open(): Promise<Store> }>;

export const receipt = (id: string, folderPath = 'Main (1234)/2026/2026-03', fileName = `${id}.pdf`): DiscoveredReceipt => ({
  attachmentId: id,
  transactionId: `tx-${id}`,
  bankAccountId: 'acc-1',
  folderPath,
  fileName,
  fallbackFileName: `full-${id}.pdf`,
  size: 100,
});

/** A completed debit of 10.00 EUR on 2026-03-10 that requires a receipt and has none. */
export const transaction = (id: string, patch: Partial<TransactionRecord> = {}): TransactionRecord => ({
  transactionId: id,
  bankAccountId: 'acc-1',
  accountName: 'Main (1234)',
  emittedAt: '2026-03-10T09:00:00.000Z',
  localDate: '2026-03-10',
  period: '2026-03',
  amountCents: -1000,
  currency: 'EUR',
  counterparty: `Shop ${id}`,
  status: 'completed',
  required: true,
  lost: false,
  attachments: 0,
  ...patch,
});

/** The behaviour every store has, whatever the database. Each test starts on an empty database with
 * one integration `i1`. */
export function storeContract(name: string, freshDatabase: FreshDatabase): void {
  describe(`${name} store (contract)`, () => {
    let store: Store;
    let database: Awaited<ReturnType<FreshDatabase>>;
    const others: Store[] = [];
    /** Another store on the same database, closed after the test. */
    const another = async () => {
      const other = await database.open();
      others.push(other);
      return other;
    };
    beforeEach(async () => {
      database = await freshDatabase();
      store = await database.open();
      await store.createIntegration({ id: 'i1' });
    });
    afterEach(async () => {
      await Promise.all(others.splice(0).map((other) => other.close()));
      await store.close();
    });

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

    it('lists the completed transactions of the start date or later without the receipt they require, or lost', async () => {
      await store.upsertTransactions('i1', [
        transaction('missing'),
        transaction('lost', { lost: true, required: false, localDate: '2026-03-11', emittedAt: '2026-03-11T09:00:00.000Z' }),
        transaction('has-receipt', { attachments: 1 }),
        transaction('not-required', { required: false }),
        transaction('pending', { status: 'pending' }),
        transaction('declined', { status: 'declined' }),
        transaction('before-start', { localDate: '2026-02-28', period: '2026-02', emittedAt: '2026-02-28T22:30:00.000Z' }),
        transaction('other-account', { accountName: 'Taxes (9876)', bankAccountId: 'acc-2', amountCents: -5, counterparty: 'Tax, "office"' }),
        transaction('april', { localDate: '2026-04-01', period: '2026-04', emittedAt: '2026-03-31T22:30:00.000Z' }),
      ]);
      await store.createIntegration({ id: 'other' });
      await store.upsertTransactions('other', [transaction('elsewhere')]);
      expect(await store.hasTransactions('i1', 'acc-2')).toBe(true);
      expect(await store.hasTransactions('other', 'acc-2')).toBe(false);

      expect(await store.missingReceipts('i1', '2026-03-01')).toEqual([
        { transactionId: 'missing', date: '2026-03-10', amountCents: -1000, currency: 'EUR', counterparty: 'Shop missing', account: 'Main (1234)', period: '2026-03', lost: false },
        { transactionId: 'lost', date: '2026-03-11', amountCents: -1000, currency: 'EUR', counterparty: 'Shop lost', account: 'Main (1234)', period: '2026-03', lost: true },
        { transactionId: 'other-account', date: '2026-03-10', amountCents: -5, currency: 'EUR', counterparty: 'Tax, "office"', account: 'Taxes (9876)', period: '2026-03', lost: false },
        { transactionId: 'april', date: '2026-04-01', amountCents: -1000, currency: 'EUR', counterparty: 'Shop april', account: 'Main (1234)', period: '2026-04', lost: false },
      ]);
      expect(await store.missingByPeriod('i1', '2026-03-01')).toEqual([
        { period: '2026-03', account: 'Main (1234)', missing: 2, lost: 1 },
        { period: '2026-03', account: 'Taxes (9876)', missing: 1, lost: 0 },
        { period: '2026-04', account: 'Main (1234)', missing: 1, lost: 0 },
      ]);
      // A start date moved earlier or later applies at once.
      expect((await store.missingReceipts('i1', '2026-02-01')).map((m) => m.transactionId)).toContain('before-start');
      expect((await store.missingByPeriod('i1', '2026-04-01'))).toEqual([{ period: '2026-04', account: 'Main (1234)', missing: 1, lost: 0 }]);
      expect(await store.missingReceipts('nobody', '2026-01-01')).toEqual([]);
    });

    it('replaces what it knew of a transaction: one that gets its receipt drops out, one whose receipt is removed comes back', async () => {
      await store.upsertTransactions('i1', [transaction('a'), transaction('b')]);
      await (await another()).upsertTransactions('i1', [transaction('a', { attachments: 1 }), transaction('b', { counterparty: 'Renamed', status: 'completed' })]);
      expect(await store.missingReceipts('i1', '2026-01-01')).toMatchObject([{ transactionId: 'b', counterparty: 'Renamed' }]);
      await store.upsertTransactions('i1', [transaction('a', { attachments: 0 })]);
      expect((await store.missingByPeriod('i1', '2026-01-01'))).toEqual([{ period: '2026-03', account: 'Main (1234)', missing: 2, lost: 0 }]);
      // Many at once, and the same one twice in a batch (the last wins).
      const many = Array.from({ length: 450 }, (_, i) => transaction(`m${i}`, { attachments: i % 2 }));
      await store.upsertTransactions('i1', [...many, transaction('m0', { attachments: 3 })]);
      expect((await store.missingByPeriod('i1', '2026-01-01'))[0]!.missing).toBe(2 + 224);
    });

    it('keeps integrations and survives reopening (migrations are idempotent)', async () => {
      await store.updateIntegration('i1', {
        status: 'idle',
        syncFrom: '2026-01-01',
        timeZone: 'Europe/Berlin',
        microsoftAccount: { homeAccountId: 'h', tenantId: 't', username: 'u@outlook.com' },
      });
      await store.close();
      store = await database.open();
      const i = await store.getIntegration('i1');
      expect(i).toMatchObject({ status: 'idle', syncFrom: '2026-01-01', timeZone: 'Europe/Berlin', organizationId: null });
      expect(i?.microsoftAccount?.username).toBe('u@outlook.com');
      await expect(store.updateIntegration('nope', { status: 'idle' })).rejects.toThrow(/does not exist/);
      expect((await store.createIntegration({ id: 'i1', status: 'failed' })).status).toBe('idle');
      await store.createIntegration({ id: 'i0', organizationId: 'org-1' });
      expect((await store.listIntegrations()).map((x) => [x.id, x.organizationId])).toEqual([
        ['i1', null],
        ['i0', 'org-1'],
      ]);
    });

    it('keeps the first reason an integration was revoked for', async () => {
      expect((await store.getIntegration('i1'))?.revokedReason).toBeNull();
      expect((await store.updateIntegration('i1', { status: 'idle' })).revokedReason).toBeNull();
      const revoked = await store.updateIntegration('i1', { status: 'revoked', revokedReason: 'withdrawn_here' });
      expect(revoked).toMatchObject({ status: 'revoked', revokedReason: 'withdrawn_here' });
      await store.updateIntegration('i1', { status: 'revoked', revokedReason: 'withdrawn_in_qonto' });
      expect((await store.getIntegration('i1'))?.revokedReason).toBe('withdrawn_here');
    });

    it('never moves a revoked integration to another status, and still updates its other fields', async () => {
      await store.updateIntegration('i1', { status: 'revoked' });
      const after = await store.updateIntegration('i1', { status: 'syncing', timeZone: 'Europe/Paris' });
      expect(after).toMatchObject({ status: 'revoked', timeZone: 'Europe/Paris' });
      expect((await store.getIntegration('i1'))?.status).toBe('revoked');
    });

    it('discovers receipts once and keeps their state', async () => {
      expect(await store.upsertDiscovered('i1', [receipt('a'), receipt('b')])).toBe(2);
      await store.updateEntry('i1', 'a', { state: 'uploaded', driveItemId: 'd-a' });
      expect(await store.upsertDiscovered('i1', [receipt('a'), receipt('c')])).toBe(1);
      expect((await store.getEntry('i1', 'a'))?.state).toBe('uploaded');
      expect((await store.nextToExport('i1', 1, 10)).map((e) => e.attachmentId)).toEqual(['b', 'c']);
      expect(await store.countToExport('i1', 1)).toBe(2);
      expect(await store.uploadedItemIds('i1')).toEqual(['d-a']);
      expect((await store.findByDriveItemIds('i1', ['d-a', 'zzz'])).map((e) => e.attachmentId)).toEqual(['a']);
      expect(await store.findByDriveItemIds('i1', [])).toEqual([]);
    });

    it('exports in discovery order, a concurrent discovery of another account after or before the whole page', async () => {
      // Two accounts' listings run side by side (on Postgres each call has a connection of its own, as
      // on two workers; SQLite's one connection per process takes them in turn). Ids sort against the
      // discovery order, so a tie in the numbering would show as another order.
      const page = (account: string) =>
        Array.from({ length: 120 }, (_, i) => ({ ...receipt(`${account}-${String(999 - i).padStart(3, '0')}`), bankAccountId: account }));
      const [a, b] = [page('a'), page('b')];
      expect(await Promise.all([store.upsertDiscovered('i1', a), store.upsertDiscovered('i1', b)])).toEqual([120, 120]);
      const order = (await store.nextToExport('i1', 1, 1_000)).map((e) => e.attachmentId);
      const ids = (rs: DiscoveredReceipt[]) => rs.map((r) => r.attachmentId);
      expect([[...ids(a), ...ids(b)], [...ids(b), ...ids(a)]]).toContainEqual(order);
      // A later page comes after both.
      await store.upsertDiscovered('i1', [receipt('0-first-id')]);
      expect((await store.nextToExport('i1', 1, 1_000)).at(-1)?.attachmentId).toBe('0-first-id');
    });

    it('stores every field of an entry as given', async () => {
      await store.upsertDiscovered('i1', [{ ...receipt('a'), size: 5_000_000_000 }]);
      await store.updateEntry('i1', 'a', {
        state: 'failed',
        driveItemId: 'd',
        folderId: 'f',
        quickXorHash: 'q',
        uploadUrl: 'https://upload.example/a',
        attempts: 2,
        throttledTries: 3,
        failedInRun: 7,
        lastError: 'boom',
      });
      expect(await store.getEntry('i1', 'a')).toMatchObject({
        integrationId: 'i1',
        attachmentId: 'a',
        transactionId: 'tx-a',
        bankAccountId: 'acc-1',
        folderPath: 'Main (1234)/2026/2026-03',
        fileName: 'a.pdf',
        size: 5_000_000_000,
        state: 'failed',
        driveItemId: 'd',
        folderId: 'f',
        quickXorHash: 'q',
        uploadUrl: 'https://upload.example/a',
        attempts: 2,
        throttledTries: 3,
        failedInRun: 7,
        lastError: 'boom',
      });
      expect(await store.counts('i1')).toEqual({ exported: 0, failed: 1, pending: 0, dismissed: 0, pendingBytes: 5_000_000_000 });
    });

    it("keeps a new receipt's sealed download link with the time it was fetched; a known receipt keeps its own", async () => {
      const fetchedAt = new Date(Date.now() - 10 * 60_000).toISOString();
      await store.upsertDiscovered('i1', [{ ...receipt('a'), downloadLink: Buffer.from('sealed-1'), downloadLinkAt: fetchedAt }, receipt('b')]);
      const a = await store.getEntry('i1', 'a');
      expect(a?.downloadLink).toEqual(Buffer.from('sealed-1'));
      expect(a?.downloadLinkAt).toBe(fetchedAt);
      expect(await store.getEntry('i1', 'b')).toMatchObject({ downloadLink: null, downloadLinkAt: null });
      await store.upsertDiscovered('i1', [{ ...receipt('a'), downloadLink: Buffer.from('sealed-2'), downloadLinkAt: new Date().toISOString() }]);
      expect((await store.getEntry('i1', 'a'))?.downloadLink).toEqual(Buffer.from('sealed-1'));
      await store.updateEntries('i1', [{ attachmentId: 'a', patch: { state: 'uploaded', downloadLink: null, downloadLinkAt: null } }]);
      expect(await store.getEntry('i1', 'a')).toMatchObject({ downloadLink: null, downloadLinkAt: null });
    });

    it('updates several entries in one call, each with its own fields', async () => {
      await store.upsertDiscovered('i1', [receipt('a'), receipt('b'), receipt('c')]);
      await store.updateEntries('i1', [
        { attachmentId: 'a', patch: { state: 'uploaded', driveItemId: 'd-a', uploadUrl: null } },
        { attachmentId: 'b', patch: { state: 'uploaded', driveItemId: 'd-b', quickXorHash: 'q' } },
      ]);
      await store.updateEntries('i1', []);
      expect(await store.getEntry('i1', 'a')).toMatchObject({ state: 'uploaded', driveItemId: 'd-a', quickXorHash: null });
      expect(await store.getEntry('i1', 'b')).toMatchObject({ state: 'uploaded', driveItemId: 'd-b', quickXorHash: 'q' });
      expect((await store.getEntry('i1', 'c'))?.state).toBe('pending');
    });

    it('takes concurrent group updates and a folder dismissal, whatever order each names its rows in, without a deadlock', async () => {
      const ids = Array.from({ length: 120 }, (_, i) => `r${String(i).padStart(3, '0')}`);
      await store.upsertDiscovered('i1', ids.map((id) => receipt(id)));
      for (const id of ids.filter((_, i) => i % 3 === 0)) await store.updateEntry('i1', id, { uploadUrl: `https://upload.example/${id}` });
      const group = (order: string[], state: 'uploaded' | 'pending') => store.updateEntries('i1', order.map((attachmentId) => ({ attachmentId, patch: { state } })));
      // Two attempts of one batch recording in upload-finish order (opposite here), and the folder going.
      const shuffled = [...ids].sort((a, b) => (a.slice(-1) + a < b.slice(-1) + b ? -1 : 1));
      for (let round = 0; round < 3; round++) {
        await Promise.all([group(ids, 'uploaded'), group([...ids].reverse(), 'pending'), group(shuffled, 'uploaded'), store.dismissUnder('i1', 'Main (1234)')]);
      }
      const { dismissed, exported, pending } = await store.counts('i1');
      expect(dismissed + exported + pending).toBe(ids.length);
    });

    it('falls back to the long name when two receipts would share a name case-insensitively', async () => {
      await store.upsertDiscovered('i1', [receipt('a', 'F', 'Same.pdf'), receipt('b', 'F', 'same.PDF')]);
      expect((await store.getEntry('i1', 'b'))?.fileName).toBe('full-b.pdf');
      expect((await store.getEntry('i1', 'a'))?.fileName).toBe('Same.pdf');
      // Discovered again (another worker, a retried activity): nothing new, names kept.
      expect(await (await another()).upsertDiscovered('i1', [receipt('b', 'F', 'same.PDF'), receipt('a', 'F', 'Same.pdf')])).toBe(0);
      expect((await store.getEntry('i1', 'b'))?.fileName).toBe('full-b.pdf');
    });

    it('refuses to drop a receipt whose name and fallback name are both taken in its folder', async () => {
      await store.upsertDiscovered('i1', [receipt('a', 'F', 'Same.pdf'), receipt('b', 'F', 'full-c.pdf')]);
      await expect(store.upsertDiscovered('i1', [receipt('c', 'F', 'same.PDF')])).rejects.toThrow(/\bc\b/);
      expect(await store.getEntry('i1', 'c')).toBeNull();
      // A receipt known already is no clash, whatever the names.
      expect(await store.upsertDiscovered('i1', [receipt('a', 'F', 'full-c.pdf')])).toBe(0);
    });

    it('keeps the probative-copies switch of an integration', async () => {
      expect((await store.getIntegration('i1'))?.probativeCopies).toBe(false);
      expect((await store.updateIntegration('i1', { probativeCopies: true })).probativeCopies).toBe(true);
      await store.close();
      store = await database.open();
      expect((await store.getIntegration('i1'))?.probativeCopies).toBe(true);
      expect((await store.updateIntegration('i1', { status: 'idle' })).probativeCopies).toBe(true);
      expect((await store.updateIntegration('i1', { probativeCopies: false })).probativeCopies).toBe(false);
    });

    it('records an available probative copy as a file of its own, keyed by receipt and kind, once', async () => {
      await store.upsertDiscovered('i1', [receipt('a'), receipt('b'), receipt('c')]);
      await store.updateEntry('i1', 'a', { state: 'uploaded', driveItemId: 'd-a' });
      const copyOf = (id: string) => manifestKey(id, 'probative');
      expect(
        await store.recordProbative('i1', [
          { attachmentId: 'a', status: 'available', size: 50 },
          { attachmentId: 'b', status: 'pending', size: null },
          { attachmentId: 'c', status: 'unavailable', size: null },
          { attachmentId: 'unknown', status: 'available', size: 9 },
        ]),
      ).toBe(1);
      expect(await store.getEntry('i1', 'a')).toMatchObject({ kind: 'original', probativeStatus: 'available', state: 'uploaded' });
      expect(await store.getEntry('i1', 'b')).toMatchObject({ kind: 'original', probativeStatus: 'pending' });
      expect(await store.getEntry('i1', 'c')).toMatchObject({ kind: 'original', probativeStatus: 'unavailable' });
      expect(await store.getEntry('i1', copyOf('unknown'))).toBeNull();
      expect(await store.getEntry('i1', copyOf('a'))).toMatchObject({
        kind: 'probative',
        probativeStatus: null,
        transactionId: 'tx-a',
        bankAccountId: 'acc-1',
        folderPath: 'Main (1234)/2026/2026-03',
        fileName: 'a-probative.pdf',
        size: 50,
        state: 'pending',
      });
      // Exported after the receipts already waiting; counted as a file (the drive holds one more).
      expect((await store.nextToExport('i1', 1, 10)).map((e) => e.attachmentId)).toEqual(['b', 'c', copyOf('a')]);
      expect(await store.counts('i1')).toEqual({ exported: 1, failed: 0, pending: 3, dismissed: 0, pendingBytes: 250 });
      // Seen again (a re-listing, another worker): known copies keep their state.
      await store.updateEntry('i1', copyOf('a'), { state: 'uploaded', driveItemId: 'd-a-copy' });
      expect(await (await another()).recordProbative('i1', [{ attachmentId: 'a', status: 'available', size: 50 }])).toBe(0);
      expect((await store.getEntry('i1', copyOf('a')))?.state).toBe('uploaded');
      expect((await store.findByDriveItemIds('i1', ['d-a-copy'])).map((e) => e.attachmentId)).toEqual([copyOf('a')]);
      // A pending copy is looked at again until Qonto decides.
      expect(await store.pendingProbative('i1', 'acc-1', 10)).toEqual(['b']);
      expect(await store.pendingProbative('i1', 'acc-2', 10)).toEqual([]);
      expect(await store.recordProbative('i1', [{ attachmentId: 'b', status: 'available', size: 70 }])).toBe(1);
      expect(await store.pendingProbative('i1', 'acc-1', 10)).toEqual([]);
      expect((await store.getEntry('i1', copyOf('b')))?.fileName).toBe('b-probative.pdf');
    });

    it("keeps a copy with its receipt's folder: dismissed with it, revived with it; falls back when its name is taken", async () => {
      await store.upsertDiscovered('i1', [receipt('x', 'F', 'Same.pdf'), receipt('y', 'F', 'same.jpg'), receipt('z', 'G', 'z.pdf')]);
      await store.dismissUnder('i1', 'G');
      await store.recordProbative('i1', ['x', 'y', 'z'].map((attachmentId) => ({ attachmentId, status: 'available' as const, size: 10 })));
      expect((await store.getEntry('i1', manifestKey('x', 'probative')))?.fileName).toBe('Same-probative.pdf');
      expect((await store.getEntry('i1', manifestKey('y', 'probative')))?.fileName).toBe('same y-probative.pdf');
      // The receipt's folder was deleted: its copy stays out of the drive too.
      expect((await store.getEntry('i1', manifestKey('z', 'probative')))?.state).toBe('dismissed');
      expect(await store.pendingProbative('i1', 'acc-1', 10)).toEqual([]);
      expect((await store.dismissUnder('i1', 'F')).dismissed).toBe(4);
      expect(await store.reviveAll('i1')).toBe(6);
      expect(await store.countToExport('i1', 1)).toBe(6);
    });

    it("forgets an account's copies and statuses when the option is off, handing back their upload sessions", async () => {
      await store.upsertDiscovered('i1', [receipt('a'), receipt('b'), { ...receipt('c'), bankAccountId: 'acc-2' }]);
      await store.recordProbative('i1', [
        { attachmentId: 'a', status: 'available', size: 10 },
        { attachmentId: 'b', status: 'pending', size: null },
        { attachmentId: 'c', status: 'available', size: 10 },
      ]);
      await store.updateEntry('i1', manifestKey('a', 'probative'), { uploadUrl: 'https://upload.example/a-copy' });
      expect(await store.forgetProbative('i1', 'acc-1')).toEqual({ forgotten: 1, uploadUrls: ['https://upload.example/a-copy'] });
      expect(await store.getEntry('i1', manifestKey('a', 'probative'))).toBeNull();
      expect(await store.getEntry('i1', 'a')).toMatchObject({ probativeStatus: null, state: 'pending' });
      expect((await store.getEntry('i1', 'b'))?.probativeStatus).toBeNull();
      expect(await store.getEntry('i1', manifestKey('c', 'probative'))).not.toBeNull();
      expect(await store.forgetProbative('i1', 'acc-1')).toEqual({ forgotten: 0, uploadUrls: [] });
    });

    it('does not retry a receipt in the run it failed in', async () => {
      await store.upsertDiscovered('i1', [receipt('a')]);
      await store.updateEntry('i1', 'a', { state: 'failed', failedInRun: 3 });
      expect(await store.nextToExport('i1', 3, 10)).toEqual([]);
      expect(await store.nextToExport('i1', 4, 10)).toHaveLength(1);
    });

    it("exports only the given transactions' files when asked for them, probative copies with their receipt", async () => {
      await store.upsertDiscovered('i1', [receipt('a'), receipt('b'), receipt('c')]);
      await store.recordProbative('i1', [{ attachmentId: 'a', status: 'available', size: 10 }]);
      await store.updateEntry('i1', 'c', { state: 'failed', failedInRun: 3 });
      const ids = async (transactionIds?: string[]) => (await store.nextToExport('i1', 4, 10, transactionIds)).map((e) => e.attachmentId);
      expect(await ids(['tx-a', 'tx-c', 'tx-unknown'])).toEqual(['a', 'c', manifestKey('a', 'probative')]);
      expect(await store.countToExport('i1', 4, ['tx-a', 'tx-c'])).toBe(3);
      expect(await store.countToExport('i1', 3, ['tx-a', 'tx-c'])).toBe(2);
      expect(await ids([])).toEqual([]);
      expect(await store.countToExport('i1', 4, [])).toBe(0);
      expect(await ids()).toHaveLength(4);
      expect(await store.countToExport('i1', 4)).toBe(4);
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

    it('matches folder paths case-insensitively, as OneDrive does', async () => {
      await store.upsertDiscovered('i1', [receipt('a', 'Main (1234)/2026/2026-03'), receipt('b', 'Main (1234)/2026/2026-04'), receipt('c', 'Other (1)/2026')]);
      expect((await store.dismissUnder('i1', 'main (1234)/2026/2026-03')).dismissed).toBe(1);
      expect((await store.dismissUnder('i1', 'MAIN (1234)')).dismissed).toBe(1);
      expect((await store.getEntry('i1', 'c'))?.state).toBe('pending');
      await store.putFolder('i1', 'Main (1234)', 'f-m');
      await store.putFolder('i1', 'Main (1234)/2026', 'f-m-2026');
      await store.putFolder('i1', 'Other (1)', 'f-o');
      await store.forgetFoldersUnder('i1', 'mAIN (1234)');
      expect(await store.listFolders('i1')).toEqual([{ path: 'Other (1)', driveItemId: 'f-o' }]);
    });

    it('treats LIKE wildcards in folder names literally', async () => {
      await store.upsertDiscovered('i1', [receipt('a', '50%_off (1)/2026'), receipt('b', '50Xoff (1)/2026')]);
      expect((await store.dismissUnder('i1', '50%_off (1)')).dismissed).toBe(1);
      expect((await store.getEntry('i1', 'b'))?.state).toBe('pending');
    });

    it('caches folders, idempotently, and forgets a subtree', async () => {
      await store.putFolder('i1', '', 'root');
      await store.putFolder('i1', 'A', 'f-a');
      await store.putFolder('i1', 'A/2026', 'f-a-2026');
      await store.putFolder('i1', 'B', 'f-b');
      // The same folder written again (another worker): one row, the latest id.
      await (await another()).putFolder('i1', 'B', 'f-b2');
      expect(await store.listFolders('i1')).toEqual([
        { path: '', driveItemId: 'root' },
        { path: 'A', driveItemId: 'f-a' },
        { path: 'A/2026', driveItemId: 'f-a-2026' },
        { path: 'B', driveItemId: 'f-b2' },
      ]);
      expect(await store.findFoldersByIds('i1', ['f-a-2026', 'zzz'])).toEqual([{ path: 'A/2026', driveItemId: 'f-a-2026' }]);
      await store.forgetFoldersUnder('i1', 'A');
      expect(await store.getFolder('i1', 'A/2026')).toBeNull();
      expect(await store.getFolder('i1', 'A')).toBeNull();
      expect(await store.getFolder('i1', 'B')).toBe('f-b2');
    });

    it('keeps the fingerprint of each report per folder, and forgets it with its folder', async () => {
      await store.putDriveReport('i1', { folderPath: 'A/2026/2026-03', report: 'export-log', fingerprint: 'f1' });
      await store.putDriveReport('i1', { folderPath: 'A/2026/2026-03', report: 'missing-receipts', fingerprint: 'm1' });
      await store.putDriveReport('i1', { folderPath: 'B/2026/2026-03', report: 'export-log', fingerprint: 'f2' });
      // Written again (a later run, or another worker): one row, the latest fingerprint.
      await (await another()).putDriveReport('i1', { folderPath: 'A/2026/2026-03', report: 'export-log', fingerprint: 'f3' });
      expect(await store.driveReports('i1')).toEqual([
        { folderPath: 'A/2026/2026-03', report: 'export-log', fingerprint: 'f3' },
        { folderPath: 'A/2026/2026-03', report: 'missing-receipts', fingerprint: 'm1' },
        { folderPath: 'B/2026/2026-03', report: 'export-log', fingerprint: 'f2' },
      ]);
      await store.createIntegration({ id: 'other' });
      expect(await store.driveReports('other')).toEqual([]);
      // The user deleted folder A (any case): its reports went with it.
      await store.forgetFoldersUnder('i1', 'a/2026');
      expect(await store.driveReports('i1')).toEqual([{ folderPath: 'B/2026/2026-03', report: 'export-log', fingerprint: 'f2' }]);
    });

    it("lists one period folder's receipts of the export log", async () => {
      await store.upsertDiscovered('i1', [receipt('a', 'Main (1234)/2026/2026-03'), receipt('b', 'Main (1234)/2026/2026-04'), receipt('c', 'Other (1)/2026/2026-03')]);
      const rows: string[] = [];
      for await (const row of store.exportLog('i1', { folderPath: 'Main (1234)/2026/2026-03' })) rows.push(row.attachmentId);
      expect(rows).toEqual(['a']);
    });

    it('stores and deletes sealed token caches', async () => {
      await store.putTokenCache('i1', 'microsoft', Buffer.from([1, 2, 3]));
      await store.putTokenCache('i1', 'microsoft', Buffer.from([4]));
      await store.putTokenCache('i1', 'qonto', Buffer.from([0, 255]));
      expect(await store.getTokenCache('i1', 'microsoft')).toEqual(Buffer.from([4]));
      expect(await store.getTokenCache('i1', 'qonto')).toEqual(Buffer.from([0, 255]));
      await store.deleteTokenCaches('i1');
      expect(await store.getTokenCache('i1', 'microsoft')).toBeNull();
    });

    it('refuses to store tokens for a revoked or unknown integration, and writes nothing', async () => {
      await store.putTokenCache('i1', 'qonto', Buffer.from([1]));
      await store.updateIntegration('i1', { status: 'revoked' });
      await store.deleteTokenCaches('i1');
      await expect(store.putTokenCache('i1', 'qonto', Buffer.from([2]))).rejects.toBeInstanceOf(TokensRefusedError);
      expect(await store.getTokenCache('i1', 'qonto')).toBeNull();
      await expect(store.putTokenCache('gone', 'microsoft', Buffer.from([3]))).rejects.toBeInstanceOf(TokensRefusedError);
      expect(await store.getTokenCache('gone', 'microsoft')).toBeNull();
    });

    it('runs the work of a token lock and hands back its result or error', async () => {
      expect(await store.withTokenLock('i1', 'microsoft', async () => 42)).toBe(42);
      await expect(store.withTokenLock('i1', 'qonto', async () => Promise.reject(new Error('refresh failed')))).rejects.toThrow('refresh failed');
      // Released after an error: taken again at once.
      expect(await store.withTokenLock('i1', 'qonto', async () => 'again')).toBe('again');
    });

    it('counts by state with pending bytes', async () => {
      await store.upsertDiscovered('i1', [receipt('a'), receipt('b'), receipt('c')]);
      await store.updateEntry('i1', 'a', { state: 'uploaded' });
      await store.updateEntry('i1', 'b', { state: 'failed' });
      expect(await store.counts('i1')).toEqual({ exported: 1, failed: 1, pending: 1, dismissed: 0, pendingBytes: 200 });
      expect(await store.counts('nobody')).toEqual({ exported: 0, failed: 0, pending: 0, dismissed: 0, pendingBytes: 0 });
    });

    it('hands a sign-in state out once, and never after it expired', async () => {
      await store.putSignIn('s1', { integrationId: 'i1', sealed: Buffer.from('v'), expiresAt: 1_800_000_002_000 });
      await store.putSignIn('s2', { integrationId: 'i1', sealed: Buffer.from('w'), expiresAt: 1_800_000_002_000 });
      expect(await store.takeSignIn('s1', 1_800_000_001_000)).toEqual({ integrationId: 'i1', sealed: Buffer.from('v') });
      expect(await store.takeSignIn('s1', 1_800_000_001_000)).toBeNull();
      expect(await store.takeSignIn('s2', 1_800_000_002_000)).toBeNull();
    });

    it('hands a sign-in state to one of concurrent takers only, across store instances', async () => {
      const other = await another();
      await store.putSignIn('s1', { integrationId: 'i1', sealed: Buffer.from('v'), expiresAt: 2_000 });
      const takes = await Promise.all([store.takeSignIn('s1', 1_000), other.takeSignIn('s1', 1_000), store.takeSignIn('s1', 1_000), other.takeSignIn('s1', 1_000)]);
      expect(takes.filter((t) => t !== null)).toEqual([{ integrationId: 'i1', sealed: Buffer.from('v') }]);
    });

    it("hands a Qonto sign-in's tokens to one taker only, across store instances", async () => {
      const other = await another();
      await store.putQontoSignIn('g1', { sealed: Buffer.from('tokens'), expiresAt: 1_800_000_002_000 });
      const takes = await Promise.all([
        store.takeQontoSignIn('g1', 1_800_000_001_000),
        other.takeQontoSignIn('g1', 1_800_000_001_000),
        store.takeQontoSignIn('g1', 1_800_000_001_000),
      ]);
      expect(takes.filter((t) => t !== null)).toEqual([Buffer.from('tokens')]);
      expect(await other.takeQontoSignIn('g1', 1_800_000_001_000)).toBeNull();

      await other.putQontoSignIn('g2', { sealed: Buffer.from('old'), expiresAt: 1_800_000_002_000 });
      expect(await store.takeQontoSignIn('g2', 1_800_000_002_000)).toBeNull(); // expired
      expect(await store.takeQontoSignIn('unknown', 1_800_000_001_000)).toBeNull();
    });

    it('keeps the admin session epoch, and bumps it', async () => {
      expect(await store.adminSessionEpoch()).toBe(0);
      expect(await store.bumpAdminSessionEpoch()).toBe(1);
      expect(await (await another()).bumpAdminSessionEpoch()).toBe(2);
      expect(await store.adminSessionEpoch()).toBe(2);
    });

    it('deletes an integration with everything stored for it', async () => {
      await store.upsertDiscovered('i1', [receipt('a')]);
      await store.putTokenCache('i1', 'microsoft', Buffer.from([1]));
      await store.putFolder('i1', 'A', 'f-a');
      await store.upsertTransactions('i1', [transaction('t')]);
      await store.putSignIn('s1', { integrationId: 'i1', sealed: Buffer.from('v'), expiresAt: 1_800_000_002_000 });
      await store.deleteIntegration('i1');
      expect(await store.getIntegration('i1')).toBeNull();
      expect(await store.getEntry('i1', 'a')).toBeNull();
      expect(await store.getTokenCache('i1', 'microsoft')).toBeNull();
      expect(await store.getFolder('i1', 'A')).toBeNull();
      expect(await store.missingReceipts('i1', '2026-01-01')).toEqual([]);
      expect(await store.takeSignIn('s1', 1_800_000_001_000)).toBeNull();
    });

    describe('webhooks', () => {
      const secret = Buffer.from([0, 1, 2, 255]);
      const event = (id: string, patch: Partial<WebhookEventRecord> = {}): WebhookEventRecord => ({
        id,
        subscriptionId: 'sub-1',
        organizationId: 'org-1',
        type: 'v1/transactions',
        receivedAt: '2026-03-10T09:00:00.000Z',
        ...patch,
      });

      it('writes the given fields of a subscription row, creating it only with a state', async () => {
        expect(await store.getWebhookSubscription('i1')).toBeNull();
        await store.putWebhookSubscription('i1', { reason: 'no_secret' });
        expect(await store.getWebhookSubscription('i1')).toBeNull();
        await store.putWebhookSubscription('i1', { state: 'creating', sealedSecret: secret, organizationId: 'org-1', membershipId: 'm-1' });
        await store.putWebhookSubscription('i1', { state: 'active', subscriptionId: 'sub-1' });
        const row = await store.getWebhookSubscription('i1');
        expect(row).toEqual({
          integrationId: 'i1',
          subscriptionId: 'sub-1',
          organizationId: 'org-1',
          membershipId: 'm-1',
          sealedSecret: secret,
          state: 'active',
          reason: null,
          lastEventAt: null,
          updatedAt: expect.any(String),
        });
        await store.putWebhookSubscription('i1', { state: 'unavailable', reason: 'missing_scope', subscriptionId: null });
        expect(await store.getWebhookSubscription('i1')).toMatchObject({ state: 'unavailable', reason: 'missing_scope', subscriptionId: null, sealedSecret: secret });
        await store.putWebhookSubscription('i1', { reason: null });
        expect((await store.getWebhookSubscription('i1'))?.reason).toBeNull();
      });

      it('keeps a revoked subscription revoked, with its secret', async () => {
        await store.putWebhookSubscription('i1', { state: 'active', subscriptionId: 'sub-1', sealedSecret: secret });
        await store.putWebhookSubscription('i1', { state: 'revoked' });
        await store.putWebhookSubscription('i1', { state: 'active', subscriptionId: 'sub-2', sealedSecret: Buffer.from('new') });
        await store.putWebhookSubscription('i1', { subscriptionId: 'sub-3' });
        expect(await store.getWebhookSubscription('i1')).toMatchObject({ state: 'revoked', subscriptionId: 'sub-1', sealedSecret: secret });
        expect(await store.webhookSecrets('sub-1')).toEqual({ integrationId: 'i1', sealedSecret: secret, state: 'revoked' });
      });

      it("finds a subscription's sealed secret by its id", async () => {
        expect(await store.webhookSecrets('sub-1')).toBeNull();
        await store.putWebhookSubscription('i1', { state: 'creating', subscriptionId: 'sub-1' });
        expect(await store.webhookSecrets('sub-1')).toBeNull();
        await store.putWebhookSubscription('i1', { state: 'active', sealedSecret: secret });
        expect(await store.webhookSecrets('sub-1')).toEqual({ integrationId: 'i1', sealedSecret: secret, state: 'active' });
        await store.createIntegration({ id: 'i2' });
        await expect(store.putWebhookSubscription('i2', { state: 'active', subscriptionId: 'sub-1' })).rejects.toThrow();
      });

      it("lists the subscribed integrations of an organization, not revoked ones nor other organizations'", async () => {
        for (const id of ['i2', 'i3', 'i4', 'i5', 'i6']) await store.createIntegration({ id });
        await store.putWebhookSubscription('i1', { state: 'manual', organizationId: 'org-1' });
        await store.putWebhookSubscription('i2', { state: 'active', organizationId: 'org-1', subscriptionId: 'sub-2' });
        await store.putWebhookSubscription('i3', { state: 'unavailable', reason: 'no_secret', organizationId: 'org-1' });
        await store.putWebhookSubscription('i4', { state: 'manual', organizationId: 'org-2' });
        await store.putWebhookSubscription('i5', { state: 'revoked', organizationId: 'org-1' });
        // Revoked integration whose row was not (yet) marked.
        await store.putWebhookSubscription('i6', { state: 'manual', organizationId: 'org-1' });
        await store.updateIntegration('i6', { status: 'revoked' });
        expect(await store.integrationsOfOrganization('org-1')).toEqual(['i1', 'i2']);
        expect(await store.integrationsOfOrganization('org-3')).toEqual([]);
        await store.deleteIntegration('i2');
        expect(await store.integrationsOfOrganization('org-1')).toEqual(['i1']);
        expect(await store.getWebhookSubscription('i2')).toBeNull();
      });

      it("records an event once, and then sets its subscription's last event time, the latest", async () => {
        await store.createIntegration({ id: 'i2' });
        await store.putWebhookSubscription('i1', { state: 'active', subscriptionId: 'sub-1', organizationId: 'org-1' });
        await store.putWebhookSubscription('i2', { state: 'active', subscriptionId: 'sub-2', organizationId: 'org-1' });
        expect(await store.recordWebhookEvent(event('e1'))).toBe('new');
        expect(await store.recordWebhookEvent(event('e1', { receivedAt: '2026-03-10T10:00:00.000Z' }))).toBe('duplicate');
        expect((await store.getWebhookSubscription('i1'))?.lastEventAt).toBe('2026-03-10T09:00:00.000Z');
        expect((await store.getWebhookSubscription('i2'))?.lastEventAt).toBeNull();
        expect(await store.recordWebhookEvent(event('e0', { receivedAt: '2026-03-10T08:00:00.000Z' }))).toBe('new');
        expect((await store.getWebhookSubscription('i1'))?.lastEventAt).toBe('2026-03-10T09:00:00.000Z');
        // Unknown subscription: recorded, no row changes.
        expect(await store.recordWebhookEvent(event('e2', { subscriptionId: 'sub-x', receivedAt: '2026-03-10T11:00:00.000Z' }))).toBe('new');
        expect((await store.getWebhookSubscription('i1'))?.lastEventAt).toBe('2026-03-10T09:00:00.000Z');
        // A burst: within 10 s of the stored time the row is not written; past it, it is.
        expect(await store.recordWebhookEvent(event('e3', { receivedAt: '2026-03-10T09:00:09.000Z' }))).toBe('new');
        expect((await store.getWebhookSubscription('i1'))?.lastEventAt).toBe('2026-03-10T09:00:00.000Z');
        expect(await store.recordWebhookEvent(event('e4', { receivedAt: '2026-03-10T09:00:11.000Z' }))).toBe('new');
        expect((await store.getWebhookSubscription('i1'))?.lastEventAt).toBe('2026-03-10T09:00:11.000Z');
      });

      it('keys an event by its subscription: one id delivered to two subscriptions is two events', async () => {
        expect(await store.recordWebhookEvent(event('e1', { subscriptionId: 'sub-1' }))).toBe('new');
        expect(await store.recordWebhookEvent(event('e1', { subscriptionId: 'sub-2' }))).toBe('new');
        expect(await store.recordWebhookEvent(event('e1', { subscriptionId: null }))).toBe('new');
        expect(await store.recordWebhookEvent(event('e1', { subscriptionId: 'sub-2' }))).toBe('duplicate');
        expect(await store.recordWebhookEvent(event('e1', { subscriptionId: null }))).toBe('duplicate');
      });

      it('sets the last event time of every row of its organization when the event names no subscription (API-key mode)', async () => {
        for (const id of ['i2', 'i3']) await store.createIntegration({ id });
        await store.putWebhookSubscription('i1', { state: 'manual', organizationId: 'org-1' });
        await store.putWebhookSubscription('i2', { state: 'manual', organizationId: 'org-1' });
        await store.putWebhookSubscription('i3', { state: 'manual', organizationId: 'org-2' });
        expect(await store.recordWebhookEvent(event('e1', { subscriptionId: null }))).toBe('new');
        expect((await store.getWebhookSubscription('i1'))?.lastEventAt).toBe('2026-03-10T09:00:00.000Z');
        expect((await store.getWebhookSubscription('i2'))?.lastEventAt).toBe('2026-03-10T09:00:00.000Z');
        expect((await store.getWebhookSubscription('i3'))?.lastEventAt).toBeNull();
      });

      it('calls exactly one of concurrent deliveries of an event new, across store instances', async () => {
        const stores = [store, await another()];
        const outcomes = await Promise.all(Array.from({ length: 20 }, (_, n) => stores[n % 2]!.recordWebhookEvent(event('e1'))));
        expect(outcomes.filter((o) => o === 'new')).toHaveLength(1);
        expect(outcomes.filter((o) => o === 'duplicate')).toHaveLength(19);
      });

      it('prunes old events, so that a later delivery of theirs is new again', async () => {
        expect(await store.recordWebhookEvent(event('e1'))).toBe('new');
        await store.recordWebhookEvent(event('e2', { receivedAt: '2026-03-11T09:00:00.000Z' }));
        await store.recordWebhookEvent(event('e3', { receivedAt: '2026-03-12T09:00:00.000Z' }));
        expect(await store.pruneWebhookEvents('2026-03-11T09:00:00.000Z')).toBe(1);
        expect(await store.recordWebhookEvent(event('e1'))).toBe('new');
        expect(await store.recordWebhookEvent(event('e2'))).toBe('duplicate');
        expect(await store.recordWebhookEvent(event('e3'))).toBe('duplicate');
        expect(await store.pruneWebhookEvents('2026-03-01T00:00:00.000Z')).toBe(0);
      });

      it("activates a subscription only while the row still holds the attempt's sealed secret, across store instances", async () => {
        const fields = { subscriptionId: 'sub-1', organizationId: 'org-1', membershipId: 'm-1' };
        const later = Buffer.from([9, 9, 9]);
        expect(await store.activateWebhookSubscription('i1', secret, fields)).toBe(false);
        expect(await store.getWebhookSubscription('i1')).toBeNull();
        await store.putWebhookSubscription('i1', { state: 'creating', sealedSecret: secret });
        // A later attempt took the row over: the first one's answer changes nothing.
        await (await another()).putWebhookSubscription('i1', { state: 'creating', sealedSecret: later });
        expect(await store.activateWebhookSubscription('i1', secret, fields)).toBe(false);
        expect(await store.getWebhookSubscription('i1')).toMatchObject({ state: 'creating', subscriptionId: null, sealedSecret: later });
        expect(await store.activateWebhookSubscription('i1', later, { ...fields, subscriptionId: 'sub-2' })).toBe(true);
        expect(await store.getWebhookSubscription('i1')).toMatchObject({ state: 'active', subscriptionId: 'sub-2', organizationId: 'org-1', membershipId: 'm-1', sealedSecret: later });
        expect(await store.webhookSecrets('sub-2')).toEqual({ integrationId: 'i1', sealedSecret: later, state: 'active' });
        // Once, and never over a revoked row.
        expect(await store.activateWebhookSubscription('i1', later, { ...fields, subscriptionId: 'sub-3' })).toBe(false);
        await store.putWebhookSubscription('i1', { state: 'creating', sealedSecret: secret });
        await store.putWebhookSubscription('i1', { state: 'revoked' });
        expect(await store.activateWebhookSubscription('i1', secret, fields)).toBe(false);
        expect((await store.getWebhookSubscription('i1'))?.state).toBe('revoked');
      });
    });

    const dated = (id: string, transactionDate: string | undefined): DiscoveredReceipt => ({
      ...receipt(id),
      ...(transactionDate ? { transactionDate, amount: '-52.40', currency: 'EUR', counterparty: `Shop ${id}` } : {}),
    });
    const logOf = async (range: ExportLogRange, pageSize?: number) => {
      const rows: ExportLogRow[] = [];
      for await (const row of store.exportLog('i1', range, pageSize)) rows.push(row);
      return rows;
    };

    it('keeps what the export log shows, and lists it by transaction date, then attachment id', async () => {
      await store.upsertDiscovered('i1', [dated('e', '2026-03-02'), dated('b', '2026-03-01'), dated('a', '2026-03-02'), dated('old', undefined)]);
      await store.createIntegration({ id: 'other' });
      await store.upsertDiscovered('other', [dated('z', '2026-03-01')]);
      await store.updateEntry('i1', 'a', {
        state: 'uploaded',
        quickXorHash: 'q',
        sha256: 'ab'.repeat(32),
        exportedAt: '2026-03-03T10:00:00.000Z',
        verifiedAt: '2026-03-04T10:00:00.000Z',
        changedAt: '2026-03-05T10:00:00.000Z',
        reimports: 2,
      });
      const all = await logOf({}, 2);
      expect(all.map((r) => r.attachmentId)).toEqual(['old', 'b', 'a', 'e']);
      expect(all[2]).toEqual({
        attachmentId: 'a',
        transactionId: 'tx-a',
        transactionDate: '2026-03-02',
        amount: '-52.40',
        currency: 'EUR',
        counterparty: 'Shop a',
        bankAccountId: 'acc-1',
        folderPath: 'Main (1234)/2026/2026-03',
        fileName: 'a.pdf',
        size: 100,
        sha256: 'ab'.repeat(32),
        quickXorHash: 'q',
        exportedAt: '2026-03-03T10:00:00.000Z',
        verifiedAt: '2026-03-04T10:00:00.000Z',
        changedAt: '2026-03-05T10:00:00.000Z',
        state: 'uploaded',
        reimports: 2,
        kind: 'original',
        probativeStatus: null,
      } satisfies ExportLogRow);
      // Discovered before the log existed: nothing known but the manifest's own fields.
      expect(all[0]).toMatchObject({ transactionDate: null, amount: null, currency: null, counterparty: null, sha256: null, exportedAt: null, reimports: 0 });
      // Both bounds inclusive; a bound leaves out rows without a date.
      expect((await logOf({ from: '2026-03-02' })).map((r) => r.attachmentId)).toEqual(['a', 'e']);
      expect((await logOf({ to: '2026-03-01' })).map((r) => r.attachmentId)).toEqual(['b']);
      expect((await logOf({ from: '2026-03-01', to: '2026-03-01' }, 1)).map((r) => r.attachmentId)).toEqual(['b']);
      expect(await logOf({ from: '2026-04-01' })).toEqual([]);
    });

    it('gives a known receipt discovered before the export log its transaction fields, and never changes them after', async () => {
      await store.upsertDiscovered('i1', [dated('a', undefined), dated('b', '2026-03-02')]);
      await store.updateEntry('i1', 'a', { state: 'uploaded' });
      expect(await store.upsertDiscovered('i1', [dated('a', '2026-03-01'), { ...dated('b', '2026-03-09'), amount: '1.00' }])).toBe(0);
      expect(await store.getEntry('i1', 'a')).toMatchObject({ state: 'uploaded', transactionDate: '2026-03-01', amount: '-52.40', currency: 'EUR', counterparty: 'Shop a' });
      expect(await store.getEntry('i1', 'b')).toMatchObject({ transactionDate: '2026-03-02', amount: '-52.40' });
    });

    it('pages the export log by key: rows discovered meanwhile are read once, after the page they sort behind', async () => {
      await store.upsertDiscovered('i1', ['a', 'b', 'c', 'd'].map((id) => dated(id, '2026-03-02')));
      const seen: string[] = [];
      for await (const row of store.exportLog('i1', {}, 2)) {
        seen.push(row.attachmentId);
        // Read after the first page: one sorts before the key reached (not read), one after it.
        if (row.attachmentId === 'b') await store.upsertDiscovered('i1', [dated('a0', '2026-03-01'), dated('c0', '2026-03-02')]);
      }
      expect(seen).toEqual(['a', 'b', 'c', 'c0', 'd']);
    });

    it("gives a probative copy its receipt's transaction fields, and lists it in the export log with the statuses", async () => {
      await store.upsertDiscovered('i1', [dated('a', '2026-03-02'), dated('b', '2026-03-01'), dated('c', '2026-03-03'), dated('old', undefined)]);
      await store.recordProbative('i1', [
        { attachmentId: 'a', status: 'available', size: 50 },
        { attachmentId: 'b', status: 'pending', size: null },
        { attachmentId: 'c', status: 'unavailable', size: null },
        { attachmentId: 'old', status: 'available', size: 10 },
      ]);
      const copyOf = (id: string) => manifestKey(id, 'probative');
      expect(await store.getEntry('i1', copyOf('a'))).toMatchObject({ transactionDate: '2026-03-02', amount: '-52.40', currency: 'EUR', counterparty: 'Shop a' });
      const log = await logOf({}, 2);
      expect(log.map((r) => [r.attachmentId, r.kind, r.probativeStatus])).toEqual([
        ['old', 'original', 'available'],
        [copyOf('old'), 'probative', null],
        ['b', 'original', 'pending'],
        ['a', 'original', 'available'],
        [copyOf('a'), 'probative', null],
        ['c', 'original', 'unavailable'],
      ]);
      // A copy is in the range of its receipt's date.
      expect((await logOf({ from: '2026-03-02', to: '2026-03-02' })).map((r) => r.attachmentId)).toEqual(['a', copyOf('a')]);
      // Discovered before the log existed: the copy gets the fields when its receipt does.
      await store.upsertDiscovered('i1', [dated('old', '2026-02-27')]);
      expect(await store.getEntry('i1', copyOf('old'))).toMatchObject({ transactionDate: '2026-02-27', amount: '-52.40', currency: 'EUR', counterparty: 'Shop old' });
    });

    it('reads the missing receipts for the export log in keyset pages by date, within the start date and the range', async () => {
      await store.upsertTransactions('i1', [
        transaction('t3', { localDate: '2026-03-12' }),
        transaction('t1', { localDate: '2026-03-10' }),
        transaction('t2', { localDate: '2026-03-10', lost: true, required: false }),
        transaction('t0', { localDate: '2026-02-27', period: '2026-02' }),
        transaction('has', { attachments: 1 }),
        transaction('optional', { required: false }),
        transaction('declined', { status: 'declined' }),
        transaction('t4', { localDate: '2026-03-20', accountName: 'Other (0002)', bankAccountId: 'acc-2' }),
      ]);
      await store.createIntegration({ id: 'other' });
      await store.upsertTransactions('other', [transaction('x')]);
      const missingOf = async (syncFrom: string, range: ExportLogRange, pageSize?: number) => {
        const rows: MissingReceipt[] = [];
        for await (const row of store.missingLog('i1', syncFrom, range, pageSize)) rows.push(row);
        return rows;
      };
      const all = await missingOf('2026-03-01', {}, 2);
      expect(all.map((m) => m.transactionId)).toEqual(['t1', 't2', 't3', 't4']);
      expect(all[1]).toEqual({ transactionId: 't2', date: '2026-03-10', amountCents: -1000, currency: 'EUR', counterparty: 'Shop t2', account: 'Main (1234)', period: '2026-03', lost: true } satisfies MissingReceipt);
      // The same set as the missing-receipts list.
      expect(new Set(all.map((m) => m.transactionId))).toEqual(new Set((await store.missingReceipts('i1', '2026-03-01')).map((m) => m.transactionId)));
      expect((await missingOf('2026-01-01', { from: '2026-02-01', to: '2026-03-10' }, 1)).map((m) => m.transactionId)).toEqual(['t0', 't1', 't2']);
      expect((await missingOf('2026-03-11', { from: '2026-02-01' })).map((m) => m.transactionId)).toEqual(['t3', 't4']);
      expect(await missingOf('2026-01-01', { from: '2026-04-01' })).toEqual([]);
    });

    it('marks the exported receipts verified, but those whose content was found changed', async () => {
      await store.upsertDiscovered('i1', [receipt('a'), receipt('b'), receipt('c'), receipt('d')]);
      await store.updateEntry('i1', 'a', { state: 'uploaded', driveItemId: 'd-a', verifiedAt: '2026-01-01T00:00:00.000Z' });
      await store.updateEntry('i1', 'b', { state: 'uploaded', driveItemId: 'd-b', verifiedAt: '2026-01-01T00:00:00.000Z', changedAt: '2026-01-15T00:00:00.000Z' });
      await store.updateEntry('i1', 'd', { state: 'uploaded', driveItemId: 'd-d', verifiedAt: '2026-02-15T00:00:00.000Z' });
      const verifiedAt = async () => {
        const found: Record<string, string | null> = {};
        for await (const row of store.exportLog('i1', {})) found[row.attachmentId] = row.verifiedAt;
        return found;
      };
      await store.markVerified('i1', '2026-02-01T00:00:00.000Z');
      // d was uploaded after that check: its own time stands. c is not in the drive.
      expect(await verifiedAt()).toEqual({ a: '2026-02-01T00:00:00.000Z', b: '2026-01-01T00:00:00.000Z', c: null, d: '2026-02-15T00:00:00.000Z' });
      // One write for the integration, not one per file: the manifest keeps the uploads' times.
      expect((await store.getEntry('i1', 'a'))?.verifiedAt).toBe('2026-01-01T00:00:00.000Z');
      await store.updateEntry('i1', 'b', { changedAt: null });
      await store.markVerified('i1', '2026-03-01T00:00:00.000Z');
      expect(await verifiedAt()).toEqual({ a: '2026-03-01T00:00:00.000Z', b: '2026-03-01T00:00:00.000Z', c: null, d: '2026-03-01T00:00:00.000Z' });
    });

    it('keeps alert occurrences once per key, resolves them, and lets one claim of a mail through until it is marked sent', async () => {
      const a = store.alerts;
      await a.updateProfile('i1', { contactEmail: 'first@example.com', contactLanguage: 'de' });
      await a.updateProfile('i1', { contactEmail: 'second@example.com', contactLanguage: 'en', lastSuccessAt: 'T1' }, { onlyIfUnset: true });
      expect(await a.profile('i1')).toMatchObject({ contactEmail: 'first@example.com', contactLanguage: 'de', lastSuccessAt: 'T1' });
      await a.open('i1', { condition: 'run_failed', occurrence: 'T2', startedAt: 'T2', mailed: true });
      await (await another()).alerts.open('i1', { condition: 'run_failed', occurrence: 'T2', startedAt: 'T9', mailed: false });
      await a.open('i1', { condition: 'drive_nearly_full', occurrence: 'T3', startedAt: 'T3', mailed: false });
      expect((await a.active('i1')).map((r) => [r.condition, r.startedAt, r.mailed])).toEqual([
        ['run_failed', 'T2', true],
        ['drive_nearly_full', 'T3', false],
      ]);
      await a.resolve('i1', ['run_failed'], 'T4');
      expect((await a.history('i1', 10)).map((r) => [r.condition, r.resolvedAt])).toEqual([
        ['drive_nearly_full', null],
        ['run_failed', 'T4'],
      ]);
      const key = { integrationId: 'i1', condition: 'run_failed', occurrence: 'T2', kind: 'alert' };
      // One attempt at a time, across processes, for its lease; then another may take it over.
      const claim = (now: number) => ({ at: new Date(now).toISOString(), now, leaseUntil: now + 1_000 });
      expect(await a.claimMail(key, claim(10_000))).toBe('claimed');
      expect(await (await another()).alerts.claimMail(key, claim(10_500))).toBe('busy');
      expect(await (await another()).alerts.claimMail(key, claim(11_000))).toBe('claimed'); // the lease ran out
      await a.releaseMail(key); // that attempt failed, nothing sent: free at once
      expect(await a.mailFirstClaimed(key)).toBe(new Date(10_000).toISOString());
      expect(await a.claimMail(key, claim(11_100))).toBe('claimed');
      await a.markMailSent(key, 'T7');
      expect(await a.claimMail(key, claim(99_000))).toBe('done');
      expect(await a.sentMails('i1')).toEqual([key]);
      const refused = { ...key, kind: 'reminder-1' };
      expect(await a.claimMail(refused, claim(10_000))).toBe('claimed');
      await a.giveUpMail(refused, 'T8');
      expect(await a.claimMail(refused, claim(99_000))).toBe('done');
      expect(await a.sentMails('i1')).toEqual([key]);
      await store.createIntegration({ id: 'i2', status: 'revoked' });
      await store.updateIntegration('i1', { status: 'idle' });
      expect(await a.lastSuccesses()).toEqual([{ integrationId: 'i1', lastSuccessAt: 'T1' }]);
      await store.deleteIntegration('i1');
      expect(await a.history('i1', 10)).toEqual([]);
      expect(await a.sentMails('i1')).toEqual([]);
    });

    describe('rate budgets', () => {
      // 20 per 10 s: a burst of 3 at once, then one every T = 11 s / 17.
      const params: BudgetParams = { windows: [{ windowMs: 10_000, limit: 20 }, { windowMs: 600_000, limit: 2_000 }] };
      const T = 11_000 / 17;
      const DAY = 86_400_000;

      it('creates its row on first use and spaces slots at T after the burst, on the database clock', async () => {
        expect(await store.rateHold('qonto')).toEqual({ epoch: 0, remainingMs: 0 });
        const started = Date.now();
        const waits: number[] = [];
        for (let i = 0; i < 5; i++) {
          const r = await store.reserveRate('qonto', 1, params, DAY);
          if (!r.granted) throw new Error('refused');
          expect(r.epoch).toBe(0);
          waits.push(r.waitMs);
        }
        const elapsed = Date.now() - started;
        expect(waits.slice(0, 3)).toEqual([0, 0, 0]);
        expect(waits[3]!).toBeGreaterThan(T - elapsed - 5);
        expect(waits[3]!).toBeLessThanOrEqual(T + 5);
        expect(waits[4]!).toBeGreaterThan(2 * T - elapsed - 5);
        expect(waits[4]!).toBeLessThanOrEqual(2 * T + 5);
        // Another service's row is its own.
        expect(await store.reserveRate('graph', 1, params, 0)).toMatchObject({ granted: true, waitMs: 0 });
      });

      it('refuses a slot beyond the wait allowed without reserving it', async () => {
        for (let i = 0; i < 3; i++) await store.reserveRate('qonto', 1, params, DAY);
        const first = await store.reserveRate('qonto', 1, params, 10);
        expect(first.granted).toBe(false);
        const again = await store.reserveRate('qonto', 1, params, 10);
        // Nothing was reserved by the refusal: the next slot did not move away.
        if (first.granted || again.granted) throw new Error('granted');
        expect(first.retryInMs).toBeGreaterThan(10);
        expect(again.retryInMs).toBeLessThanOrEqual(first.retryInMs);
      });

      it('orders concurrent reservations of two stores on one budget, each slot granted once', async () => {
        const other = await another();
        const started = Date.now();
        const all = await Promise.all(
          Array.from({ length: 40 }, (_, i) => (i % 2 === 0 ? store : other).reserveRate('qonto', 1, params, DAY)),
        );
        const elapsed = Date.now() - started;
        expect(all.every((r) => r.granted)).toBe(true);
        const waits = all.map((r) => (r.granted ? r.waitMs : NaN)).sort((a, b) => a - b);
        // 40 slots: the burst of 3, then 37 at T apart; the last lies 37·T after the first, less the
        // time the reservations themselves took.
        expect(waits.at(-1)!).toBeLessThanOrEqual(37 * T + 5);
        expect(waits.at(-1)!).toBeGreaterThan(37 * T - elapsed - 5);
        const next = await other.reserveRate('qonto', 1, params, 0);
        if (next.granted) throw new Error('granted');
        expect(next.retryInMs).toBeGreaterThan(38 * T - (Date.now() - started) - 5);
      });

      it('a hold holds back every store, and its epoch tells sleeping reservations', async () => {
        const other = await another();
        const before = Date.now();
        const held = await store.holdRate('qonto', 3_000, 0, { baseMs: 10_000, maxMs: 600_000 });
        expect(held).toMatchObject({ holdMs: 3_000, epoch: 1 });
        // The end as stored, on the database's clock (the same machine's here).
        expect(held.holdUntilMs).toBeGreaterThanOrEqual(before + 3_000 - 50);
        expect(held.holdUntilMs).toBeLessThanOrEqual(Date.now() + 3_000 + 50);
        const seen = await other.rateHold('qonto');
        expect(seen.epoch).toBe(1);
        expect(seen.remainingMs).toBeGreaterThan(2_000);
        expect(seen.remainingMs).toBeLessThanOrEqual(3_000);
        const r = await other.reserveRate('qonto', 1, params, DAY);
        expect(r).toMatchObject({ granted: true, epoch: 1 });
        expect(r.granted && r.waitMs).toBeGreaterThan(2_000);
        // Within the hold's wait, refused.
        expect((await other.reserveRate('qonto', 1, params, 1_000)).granted).toBe(false);
      });

      it('a Retry-After of a week holds at most 10 min, an infinite one is computed, and the row stays usable', async () => {
        const computed = { baseMs: 10_000, maxMs: 600_000 };
        expect((await store.holdRate('qonto', 7 * DAY, 0, computed)).holdMs).toBeLessThanOrEqual(600_000);
        const infinite = await store.holdRate('qonto', Number.POSITIVE_INFINITY, 1, computed);
        expect(infinite.holdMs).toBeLessThanOrEqual(600_000);
        const seen = await store.rateHold('qonto');
        expect(seen.remainingMs).toBeGreaterThan(0);
        expect(seen.remainingMs).toBeLessThanOrEqual(600_000);
        expect(await store.reserveRate('qonto', 1, params, 600_000 + 5_000)).toMatchObject({ granted: true });
      });

      it('counts holds in a row for fresh 429s only, and the first success after a hold clears them', async () => {
        // Computed holds double with every hold in a row: 1 ms, 2 ms, … so the 12th is 1–2 s.
        const computed = { baseMs: 1, maxMs: DAY };
        let last = { holdMs: 0, epoch: 0 };
        for (let i = 0; i < 12; i++) last = await store.holdRate('qonto', null, last.epoch, computed);
        expect(last.holdMs).toBeGreaterThanOrEqual(1_024 - 50);
        expect(last.holdMs).toBeLessThanOrEqual(2_048);
        // The same burst (sent under epoch 0): not another hold in a row.
        const stale = await store.holdRate('qonto', null, 0, computed);
        expect(stale.holdMs).toBeLessThanOrEqual(2_048);
        // A clear for an older epoch leaves the count: the next fresh hold is the 13th, 2–4 s.
        await store.clearRateHolds('qonto', 1);
        const thirteenth = await store.holdRate('qonto', null, stale.epoch, computed);
        expect(thirteenth.holdMs).toBeGreaterThanOrEqual(2_048 - 50);
        // Cleared under the current epoch: the next hold is the first again, so it does not lengthen
        // the one still running.
        await store.clearRateHolds('qonto', thirteenth.epoch);
        const first = await store.holdRate('qonto', null, thirteenth.epoch, computed);
        expect(first.holdMs).toBeLessThanOrEqual(thirteenth.holdMs);
      });
    });
  });
}
