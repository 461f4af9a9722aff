import { randomUUID } from 'node:crypto';
import { MockActivityEnvironment } from '@temporalio/testing';
import { afterEach, describe, expect, it } from 'vitest';
import type { ActivityDeps } from '../../activities/deps.js';
import { discoverTransactionsActivities } from '../../activities/discover-transactions.js';
import type { DiscoverTransactionsInput, DiscoverTransactionsResult, UnlistedAttachmentsInput } from '../../activities/types.js';
import { QontoClient } from '../../src/qonto/client.js';
import { openSqliteStoreReady } from '../../src/store/sqlite.js';
import type { Store } from '../../src/store/types.js';
import { KEY, useQontoSimulators } from '../support/qonto-sim.js';

const simulator = useQontoSimulators();
let store: Store | undefined;
afterEach(async () => {
  await store?.close();
});

const run = (activities: ReturnType<typeof discoverTransactionsActivities>, input: DiscoverTransactionsInput) =>
  new MockActivityEnvironment().run<[DiscoverTransactionsInput], DiscoverTransactionsResult, (i: DiscoverTransactionsInput) => Promise<DiscoverTransactionsResult>>(
    (i) => activities.discoverTransactions(i),
    input,
  );

describe('discoverTransactions (an incremental run’s discovery by id)', () => {
  it('records the named transactions’ receipts, skips what the daily listing would skip, and says which attachment is not visible yet', async () => {
    const { sim, account } = await simulator();
    const other = sim.data.addBankAccount();
    const day = '2026-02-03T10:00:00.000Z';
    const tx = (bankAccountId: string, emittedAt = day, status: 'completed' | 'declined' = 'completed') =>
      sim.data.addTransaction({ bankAccountId, amount: 12, label: 'Shop', side: 'debit', emittedAt, status });
    const fine = tx(account.id);
    const receipt = sim.data.attachReceipt(fine.id, { fileName: 'a.pdf', contentType: 'application/pdf', size: 100 });
    const early = tx(account.id, '2025-12-31T10:00:00.000Z');
    sim.data.attachReceipt(early.id, { fileName: 'b.pdf', contentType: 'application/pdf', size: 100 });
    const foreign = tx(other.id);
    sim.data.attachReceipt(foreign.id, { fileName: 'c.pdf', contentType: 'application/pdf', size: 100 });
    const declined = tx(account.id, day, 'declined');
    const slow = tx(account.id);

    store = await openSqliteStoreReady(':memory:');
    await store.createIntegration({ id: 'i1', status: 'idle' });
    const qonto = new QontoClient({ baseUrl: sim.url, auth: { kind: 'apiKey', ...KEY } });
    const activities = discoverTransactionsActivities({ store, qonto: () => qonto } as unknown as ActivityDeps);
    const change = (id: string, attachmentIds: string[] = []) => ({ transactionId: id, attachmentIds, receivedAt: day });
    const result = await run(activities, {
      integrationId: 'i1',
      changes: [change(fine.id, [receipt.id]), change(early.id), change(foreign.id), change(declined.id), change(slow.id, [randomUUID()]), change(randomUUID())],
      // The other account is not the organization's as the last full run read it.
      accounts: [{ id: account.id, name: 'Main', folderName: 'Main (1234)' }],
      syncFrom: '2026-01-01',
      timeZone: 'Europe/Paris',
      probativeCopies: false,
    });
    expect(result).toEqual({ discovered: 1, notVisible: [slow.id], skipped: 4 });
    expect(await store.getEntry('i1', receipt.id)).toMatchObject({ state: 'pending', transactionId: fine.id, folderPath: 'Main (1234)/2026/2026-02' });
    // Recorded for the missing-receipts list, as the listing does: the slow one has no receipt yet.
    expect((await store.missingReceipts('i1', '2026-01-01')).map((m) => m.transactionId)).toEqual([slow.id]);
  });

  it('after a listing, names the transactions whose named attachments the manifest still lacks', async () => {
    const { sim, account } = await simulator();
    const day = '2026-02-03T10:00:00.000Z';
    const listed = sim.data.addTransaction({ bankAccountId: account.id, amount: 12, label: 'Shop', side: 'debit', emittedAt: day });
    const receipt = sim.data.attachReceipt(listed.id, { fileName: 'a.pdf', contentType: 'application/pdf', size: 100 });
    store = await openSqliteStoreReady(':memory:');
    await store.createIntegration({ id: 'i1', status: 'idle' });
    const qonto = new QontoClient({ baseUrl: sim.url, auth: { kind: 'apiKey', ...KEY } });
    const activities = discoverTransactionsActivities({ store, qonto: () => qonto } as unknown as ActivityDeps);
    const change = (id: string, attachmentIds: string[]) => ({ transactionId: id, attachmentIds, receivedAt: day });
    const accounts = [{ id: account.id, name: 'Main', folderName: 'Main (1234)' }];
    // The listing's record of the receipt, as the by-id discovery makes it.
    await run(activities, { integrationId: 'i1', changes: [change(listed.id, [receipt.id])], accounts, syncFrom: '2026-01-01', timeZone: 'Europe/Paris', probativeCopies: false });
    const slow = randomUUID();
    const unlisted = await new MockActivityEnvironment().run((i: UnlistedAttachmentsInput) => activities.unlistedAttachments(i), {
      integrationId: 'i1',
      changes: [change(listed.id, [receipt.id]), change('tx-slow', [slow]), change('tx-half', [receipt.id, randomUUID()])],
    });
    expect(unlisted).toEqual(['tx-slow', 'tx-half']);
  });
});
