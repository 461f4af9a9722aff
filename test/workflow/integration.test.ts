import { Client } from '@temporalio/client';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { reconfigureSignal, reconnectSignal, revokeSignal, syncNowSignal } from '../../workflows/messages.js';
import { driveMismatches, expectedReceipts } from '../support/expectations.js';
import { SYNC_FROM, Testbed, ZONE, sleepingAfter } from '../support/testbed.js';
import { handleOf } from '../support/workflow.js';

/**
 * The integration workflow on the time-skipping test server, with real activities talking HTTP to the
 * simulators. Each test has its own Microsoft user (drive), integration, workflow and task queue.
 */
let bed: Testbed;
beforeAll(async () => {
  bed = await Testbed.create();
});
afterAll(() => bed?.close());
afterEach(() => bed.terminateStarted());

describe('integration workflow', { timeout: 60_000 }, () => {
  it('puts back a deleted file, leaves a deleted period folder gone, and reconfiguring brings it back', async () => {
    const t = await bed.start('deletes');
    await t.run(async () => {
      await t.status(sleepingAfter(1), 'the backfill');
      const drive = bed.h.sims.graph.drive(t.user.id);
      const files = drive.listFiles();
      const periods = [...new Set(files.map((f) => f.path.split('/').slice(0, -1).join('/')))].sort();
      expect(periods.length).toBeGreaterThanOrEqual(3);
      const doomedFolder = periods[0]!;
      const doomedCount = files.filter((f) => f.path.startsWith(`${doomedFolder}/`)).length;
      const victim = files.find((f) => !f.path.startsWith(`${doomedFolder}/`))!;
      await drive.deleteByPath(victim.path);
      await drive.deleteByPath(doomedFolder);

      await handleOf(bed.env.client, t.id).signal(syncNowSignal);
      const after = await t.status(sleepingAfter(2), 'the run after the deletions');
      expect(after.lastRun).toMatchObject({ requeued: 1, dismissed: doomedCount, exported: 1 });
      expect(drive.getByPath(victim.path)).toBeDefined();
      expect(drive.getByPath(doomedFolder)).toBeUndefined();
      expect(after.counts.dismissed).toBe(doomedCount);

      // A new receipt for the deleted period still arrives, alone in a new folder.
      const sample = await bed.h.services.store.findByDriveItemIds(t.id, []);
      expect(sample).toEqual([]);
      const doomedEntry = (await Promise.all(expectedReceipts(bed.h.sims.qonto.data, SYNC_FROM, ZONE).map((a) => bed.h.services.store.getEntry(t.id, a.id)))).find(
        (e) => e?.state === 'dismissed',
      )!;
      const tx = bed.h.sims.qonto.data.transaction(doomedEntry.transactionId)!;
      const sibling = bed.h.sims.qonto.data.addTransaction({ bankAccountId: tx.bankAccountId, amount: 5, label: 'Late arrival', emittedAt: tx.emittedAt, createdAt: tx.emittedAt });
      bed.h.sims.qonto.data.attachReceipt(sibling.id, { fileName: 'new.pdf', contentType: 'application/pdf', size: 2_000 });
      await handleOf(bed.env.client, t.id).signal(syncNowSignal);
      await t.status(sleepingAfter(3), 'the run with a new receipt for the deleted period');
      expect(drive.listFiles().filter((f) => f.path.startsWith(`${doomedFolder}/`))).toHaveLength(1);

      await handleOf(bed.env.client, t.id).signal(reconfigureSignal, { syncFrom: SYNC_FROM });
      const reconfigured = await t.status(sleepingAfter(4), 'the reconfiguration');
      expect(reconfigured.lastRun).toMatchObject({ kind: 'reconfigure', outcome: 'completed', exported: doomedCount });
      expect(reconfigured.counts.dismissed).toBe(0);
      expect(await driveMismatches(drive, bed.h.services.store, t.id, expectedReceipts(bed.h.sims.qonto.data, SYNC_FROM, ZONE))).toEqual([]);
    });
  });

  it('stops cleanly on a full drive and continues with "sync now" once there is space', async () => {
    const t = await bed.start('quota', {}, ({ user }) => {
      bed.h.sims.graph.drive(user.id).setQuota({ total: 400_000 });
    });
    await t.run(async () => {
      const full = await t.status((v) => v.status === 'quota_exceeded' && v.phase.startsWith('sleeping'), 'the quota stop');
      expect(full.lastRun?.outcome).toBe('quota_exceeded');
      expect(full.lastError).toMatch(/OneDrive is full/);
      expect(full.counts.pending).toBeGreaterThan(0);
      const drive = bed.h.sims.graph.drive(t.user.id);
      expect(drive.uploadSessionCount()).toBe(0);
      const expected = expectedReceipts(bed.h.sims.qonto.data, SYNC_FROM, ZONE);
      const problems = await driveMismatches(drive, bed.h.services.store, t.id, expected);
      // Only "not exported yet" problems: no partial or wrong file.
      expect(problems.every((p) => / is (pending|failed)$/.test(p))).toBe(true);

      drive.setQuota({ total: 5 * 1024 ** 3 });
      await handleOf(bed.env.client, t.id).signal(syncNowSignal);
      const done = await t.status((v) => v.status === 'idle' && v.runNumber >= 2 && v.phase.startsWith('sleeping'), 'the run with space');
      expect(done.lastError).toBeNull();
      expect(await driveMismatches(drive, bed.h.services.store, t.id, expected)).toEqual([]);
    });
  });

  it('needs a reconnect when consent is gone, without a retry storm, and resumes after it', async () => {
    const t = await bed.start('reconnect');
    await t.run(async () => {
      await t.status(sleepingAfter(1), 'the backfill');
      bed.h.sims.directory.revokeUser(t.user.id);
      const before = bed.h.sims.identity.tokenRequests;
      await handleOf(bed.env.client, t.id).signal(syncNowSignal);
      const waiting = await t.status((v) => v.status === 'reconnect_required' && v.phase.includes('sign in again'), 'the wait for a reconnect');
      expect(waiting.lastRun?.outcome).toBe('reconnect_required');
      expect(waiting.signInEnded).toBe('microsoft');
      expect(bed.h.sims.identity.tokenRequests - before).toBeLessThanOrEqual(2);

      await bed.h.connect(t.id, t.user);
      const added = bed.h.sims.qonto.data.addTransaction({ bankAccountId: bed.h.sims.qonto.data.bankAccounts()[0]!.id, amount: 7, label: 'After reconnect' });
      bed.h.sims.qonto.data.attachReceipt(added.id, { fileName: 'r.pdf', contentType: 'application/pdf', size: 3_000 });
      await handleOf(bed.env.client, t.id).signal(reconnectSignal);
      const resumed = await t.status((v) => v.status === 'idle' && v.runNumber >= 3 && v.phase.startsWith('sleeping'), 'the run after reconnect');
      expect(resumed.lastRun).toMatchObject({ outcome: 'completed', exported: 1 });
      expect(resumed.signInEnded).toBeNull();
    });
  });

  it('withdraws consent while sleeping: completes, deletes the tokens, keeps the files', async () => {
    const t = await bed.start('revoke-idle');
    await t.run(async () => {
      await t.status(sleepingAfter(1), 'the backfill');
      await handleOf(bed.env.client, t.id).signal(revokeSignal);
      // A plain client: the test environment's result() unlocks time skipping while it waits, which
      // would fast-forward every other timer on this server.
      const outcome = (await handleOf(new Client({ connection: bed.env.connection }), t.id).result()) as { status: string };
      expect(outcome.status).toBe('revoked');
      const expected = expectedReceipts(bed.h.sims.qonto.data, SYNC_FROM, ZONE);
      expect(await driveMismatches(bed.h.sims.graph.drive(t.user.id), bed.h.services.store, t.id, expected)).toEqual([]);
      expect(await bed.h.services.store.getTokenCache(t.id, 'microsoft')).toBeNull();
      expect((await bed.h.services.store.getIntegration(t.id))?.status).toBe('revoked');
    });
  });

  it('ignores a reconfiguration with a bad time zone or date instead of wedging', async () => {
    const t = await bed.start('bad-reconfigure');
    await t.run(async () => {
      await t.status(sleepingAfter(1), 'the backfill');
      await handleOf(bed.env.client, t.id).signal(reconfigureSignal, { timeZone: 'Mars/Olympus_Mons' });
      await handleOf(bed.env.client, t.id).signal(reconfigureSignal, { syncFrom: '2026-13-45' });
      const ignored = await t.status((v) => v.lastError?.includes('2026-13-45') === true, 'the rejection');
      expect(ignored).toMatchObject({ timeZone: ZONE, syncFrom: SYNC_FROM, runNumber: 1 });
      await handleOf(bed.env.client, t.id).signal(syncNowSignal);
      const next = await t.status(sleepingAfter(2), 'a run after the bad signals');
      expect(next).toMatchObject({ status: 'idle', timeZone: ZONE, lastError: null });
    });
  });

  it('continues as new during a long backfill without duplicating a receipt', async () => {
    const t = await bed.start('can', { batchSize: 2, maxHistoryEvents: 40 });
    await t.run(async () => {
      const view = await t.status(sleepingAfter(1), 'the backfill');
      const description = await handleOf(bed.env.client, t.id).describe();
      expect(description.runId).not.toBe(t.handle.firstExecutionRunId);
      expect(view.lastRun).toMatchObject({ kind: 'backfill', outcome: 'completed' });
      const expected = expectedReceipts(bed.h.sims.qonto.data, SYNC_FROM, ZONE);
      expect(view.lastRun?.exported).toBe(expected.length);
      expect(await driveMismatches(bed.h.sims.graph.drive(t.user.id), bed.h.services.store, t.id, expected)).toEqual([]);
      const history = await handleOf(bed.env.client, t.id).fetchHistory();
      expect(history.events?.length ?? 0).toBeLessThan(120);
    });
  });
});
