import { DefaultLogger, type LogEntry } from '@temporalio/worker';
import { MockActivityEnvironment } from '@temporalio/testing';
import { describe, expect, it } from 'vitest';
import type { ActivityDeps } from '../../activities/deps.js';
import { discoverActivities } from '../../activities/discover.js';
import type { DiscoverInput } from '../../activities/types.js';
import { QontoClient } from '../../src/qonto/client.js';
import type { DiscoveredReceipt, Store, TransactionRecord } from '../../src/store/types.js';
import { KEY, useQontoSimulators } from '../support/qonto-sim.js';

const simulator = useQontoSimulators();

describe('discoverAccount logging', () => {
  it('logs a receipt it cannot name with a reason code, never the amount or another message', async () => {
    const { sim, account } = await simulator();
    const absurd = 1.2345e17;
    const tx = sim.data.addTransaction({ bankAccountId: account.id, amount: absurd, label: 'Shop', emittedAt: '2026-03-01T10:00:00.000Z' });
    sim.data.attachReceipt(tx.id, { fileName: 'r.pdf', contentType: 'application/pdf', size: 1_000 });
    const ok = sim.data.addTransaction({ bankAccountId: account.id, amount: 12.5, label: 'Fine', emittedAt: '2026-03-02T10:00:00.000Z' });
    sim.data.attachReceipt(ok.id, { fileName: 'ok.pdf', contentType: 'application/pdf', size: 1_000 });

    const recorded: DiscoveredReceipt[] = [];
    const transactions: TransactionRecord[] = [];
    const store = {
      upsertDiscovered: async (_id: string, receipts: DiscoveredReceipt[]) => (recorded.push(...receipts), receipts.length),
      upsertTransactions: async (_id: string, records: TransactionRecord[]) => void transactions.push(...records),
    } as unknown as Store;
    const qonto = new QontoClient({ baseUrl: sim.url, auth: { kind: 'apiKey', ...KEY } });
    const deps = { store, qonto: () => qonto } as unknown as ActivityDeps;
    const entries: LogEntry[] = [];
    const env = new MockActivityEnvironment(undefined, { logger: new DefaultLogger('WARN', (e) => entries.push(e)) });

    const activities = discoverActivities(deps);
    const result = await env.run((input: DiscoverInput) => activities.discoverAccount(input), {
      integrationId: 'i1',
      account: { id: account.id, name: 'Main', folderName: 'Main (1234)' },
      cursor: null,
      syncFrom: '2026-01-01',
      timeZone: 'Europe/Paris',
    });
    expect(result).toMatchObject({ skipped: 1, discovered: 1 });
    const skipped = entries.filter((e) => e.message === 'receipt skipped');
    expect(skipped).toHaveLength(1);
    expect(skipped[0]!.meta).toMatchObject({ transactionId: tx.id, reason: 'amount_out_of_range' });
    const text = JSON.stringify(skipped[0]!.meta, (_k, v: unknown) => (typeof v === 'bigint' ? String(v) : v));
    expect(text).not.toMatch(/12345/);
    expect(text).not.toMatch(/out of range/);
    // The absurd amount cannot be listed as missing either; the other transaction is recorded.
    expect(transactions.map((t) => t.transactionId)).toEqual([ok.id]);
    expect(entries.filter((e) => e.message === 'transaction not recorded').map((e) => e.meta)).toMatchObject([{ transactionId: tx.id }]);
  });
});
