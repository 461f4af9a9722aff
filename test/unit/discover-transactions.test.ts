import { MockActivityEnvironment } from '@temporalio/testing';
import { afterEach, describe, expect, it } from 'vitest';
import type { ActivityDeps } from '../../activities/deps.js';
import { discoverActivities } from '../../activities/discover.js';
import type { DiscoverInput, DiscoverResult } from '../../activities/types.js';
import { QontoClient } from '../../src/qonto/client.js';
import { openSqliteStoreReady } from '../../src/store/sqlite.js';
import type { Store } from '../../src/store/types.js';
import { KEY, useQontoSimulators } from '../support/qonto-sim.js';

const simulator = useQontoSimulators();
let store: Store | undefined;
afterEach(async () => {
  await store?.close();
});

describe('discoverAccount and the transactions it records', () => {
  it('lists an account whose transactions were never recorded from the start, whatever its cursor, then from the cursor again', async () => {
    const { sim, account } = await simulator();
    for (const [n, day] of ['2026-02-03', '2026-02-17', '2026-03-05'].entries()) {
      sim.data.addTransaction({ bankAccountId: account.id, amount: 10 + n, label: `Shop ${n}`, side: 'debit', emittedAt: `${day}T10:00:00.000Z` });
    }
    store = await openSqliteStoreReady(':memory:');
    await store.createIntegration({ id: 'i1', status: 'idle' });
    const qonto = new QontoClient({ baseUrl: sim.url, auth: { kind: 'apiKey', ...KEY } });
    const activities = discoverActivities({ store, qonto: () => qonto } as unknown as ActivityDeps);
    // A cursor past every transaction, as an integration of a release before the missing-receipts list
    // carries it: its receipts are all known, its transactions were never recorded.
    const input: DiscoverInput = {
      integrationId: 'i1',
      account: { id: account.id, name: 'Main', folderName: 'Main (1234)' },
      cursor: '2099-01-01T00:00:00.000Z',
      syncFrom: '2026-01-01',
      timeZone: 'Europe/Paris',
    };
    const first = await new MockActivityEnvironment().run<[DiscoverInput], DiscoverResult, (i: DiscoverInput) => Promise<DiscoverResult>>((i) => activities.discoverAccount(i), input);
    expect(first.transactions).toBe(3);
    expect((await store.missingReceipts('i1', '2026-01-01')).map((m) => m.date)).toEqual(['2026-02-03', '2026-02-17', '2026-03-05']);
    // Recorded now: the cursor counts again (nothing changed since it).
    const second = await new MockActivityEnvironment().run<[DiscoverInput], DiscoverResult, (i: DiscoverInput) => Promise<DiscoverResult>>((i) => activities.discoverAccount(i), input);
    expect(second.transactions).toBe(0);
  });
});
