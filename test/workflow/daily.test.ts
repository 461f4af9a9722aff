import { afterEach, beforeEach, expect, it } from 'vitest';
import { driveMismatches, expectedReceipts } from '../support/expectations.js';
import { SYNC_FROM, Testbed, ZONE, sleepingAfter } from '../support/testbed.js';

// Daily runs at 23:30 need the time-skipping server; its own, as the test moves the clock by days.
let bed: Testbed;
beforeEach(async () => {
  bed = await Testbed.create();
});
afterEach(async () => {
  await bed?.terminateStarted();
  await bed?.close();
});

function wallTime(iso: string, zone: string): string {
  return new Intl.DateTimeFormat('en-GB', { timeZone: zone, hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).format(new Date(iso));
}

it('backfills every receipt, then exports new and late receipts at 23:30 each day', { timeout: 60_000 }, async () => {
  const t = await bed.start('daily');
  await t.run(async () => {
    const first = await t.status(sleepingAfter(1), 'the backfill');
    const expected = expectedReceipts(bed.h.sims.qonto.data, SYNC_FROM, ZONE);
    expect(expected.length).toBeGreaterThan(20);
    expect(first).toMatchObject({ status: 'idle', backfill: { done: true }, counts: { exported: expected.length, pending: 0, failed: 0 } });
    expect(first.lastRun).toMatchObject({ kind: 'backfill', outcome: 'completed', exported: expected.length });
    expect(wallTime(first.nextRunAt!, ZONE)).toBe('23:30');
    const drive = bed.h.sims.graph.drive(t.user.id);
    expect(await driveMismatches(drive, bed.h.services.store, t.id, expected)).toEqual([]);

    // A receipt attached today to a transaction of two months ago, and a new payment with a receipt.
    const data = bed.h.sims.qonto.data;
    const [account] = data.bankAccounts();
    const old = data.transactionsOf(account!.id).filter((tx) => tx.status === 'completed').sort((a, b) => a.emittedAt.localeCompare(b.emittedAt))[0]!;
    const late = data.attachReceipt(old.id, { fileName: 'late-invoice.pdf', contentType: 'application/pdf', size: 12_345 });
    const fresh = data.addTransaction({ bankAccountId: account!.id, amount: 19.9, label: 'Boulangerie Paul', side: 'debit' });
    data.attachReceipt(fresh.id, { fileName: 'ticket.jpg', contentType: 'image/jpeg', size: 80_000 });

    await bed.skipToNextRun(first);
    const second = await t.status(sleepingAfter(2), 'the first daily run');
    expect(second.lastRun).toMatchObject({ kind: 'sync', outcome: 'completed', exported: 2 });
    expect(wallTime(second.lastRun!.startedAt, ZONE)).toBe('23:30');
    const all = expectedReceipts(data, SYNC_FROM, ZONE);
    expect(await driveMismatches(drive, bed.h.services.store, t.id, all)).toEqual([]);
    const lateEntry = await bed.h.services.store.getEntry(t.id, late.id);
    const month = new Intl.DateTimeFormat('en-CA', { timeZone: ZONE, year: 'numeric', month: '2-digit' }).format(new Date(old.emittedAt));
    expect(lateEntry?.folderPath.endsWith(`/${month.slice(0, 4)}/${month}`)).toBe(true);

    await bed.skipToNextRun(second);
    const third = await t.status(sleepingAfter(3), 'the second daily run');
    expect(third.lastRun).toMatchObject({ outcome: 'completed', exported: 0 });
    expect(Math.round((Date.parse(third.lastRun!.startedAt) - Date.parse(second.lastRun!.startedAt)) / 60_000)).toBe(24 * 60);
    expect(await driveMismatches(drive, bed.h.services.store, t.id, all)).toEqual([]);
  });
});
