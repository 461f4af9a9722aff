import { afterAll, beforeAll, expect, inject, it } from 'vitest';
import { scrape } from '../../src/metrics/endpoint.js';
import { revokeSignal } from '../../workflows/messages.js';
import { sampleValue } from '../support/metrics-text.js';
import { expectedReceipts } from '../support/expectations.js';
import { SYNC_FROM, Testbed, ZONE } from '../support/testbed.js';
import { handleOf } from '../support/workflow.js';

// On the run's dev server (a real Temporal server): cancelling an activity that is just completing
// makes the Java test server reject the workflow task for good (ACTIVITY_UNKNOWN), which the real
// server does not. No time skipping is needed here.
let dev: Testbed;
beforeAll(async () => {
  dev = await Testbed.create({ devServerAddress: inject('temporalAddress') });
});
afterAll(() => dev?.close());

it('withdraws consent: cancels the upload under way at once, deletes the tokens, keeps the files', async () => {
  const t = await dev.start('revoke', { batchSize: 2 });
  const graph = dev.h.sims.graph;
  await t.run(async () => {
    const drive = graph.drive(t.user.id);
    await waitUntil(() => drive.listFiles().length >= 2, 'the first uploads');
    // From now on every upload is throttled with a long Retry-After: the activity waits it out.
    graph.faults.add({ method: 'PUT' }, { kind: 'status', status: 503, retryAfterSec: 40 }, 1_000);
    const throttled = () => graph.requestLog.filter((r) => r.method === 'PUT' && r.status === 503).map((r) => r.path);
    await waitUntil(() => throttled().length >= 1, 'an upload to be throttled');
    const filesAtRevoke = drive.listFiles().length;
    const revokedRuns = async () => sampleValue(await scrape({ perIntegration: false }), 'receipts_sync_runs_total', { outcome: 'revoked' }) ?? 0;
    const revokedBefore = await revokedRuns();

    await handleOf(dev.env.client, t.id).signal(revokeSignal);
    const outcome = (await handleOf(dev.env.client, t.id).result()) as { status: string };
    expect(outcome.status).toBe('revoked');
    // The backfill the withdrawal cut short is counted among the runs that ended, as revoked.
    expect((await revokedRuns()) - revokedBefore).toBe(1);
    // Stopped inside the 40 s wait: no throttled upload was tried a second time.
    expect(throttled().length).toBeGreaterThanOrEqual(1);
    expect(new Set(throttled()).size).toBe(throttled().length);
    expect(drive.listFiles().length).toBe(filesAtRevoke);
    expect(filesAtRevoke).toBeLessThan(expectedReceipts(dev.h.sims.qonto.data, SYNC_FROM, ZONE).length);
    expect(drive.uploadSessionCount()).toBe(0);
    expect(await dev.h.services.store.getTokenCache(t.id, 'microsoft')).toBeNull();
    expect((await dev.h.services.store.getIntegration(t.id))?.status).toBe('revoked');
  });
  graph.faults.clear();
});

async function waitUntil(predicate: () => boolean, what: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
