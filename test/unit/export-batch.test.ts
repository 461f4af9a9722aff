import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MockActivityEnvironment } from '@temporalio/testing';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ActivityDeps, ClientLimits } from '../../activities/deps.js';
import { exportActivities } from '../../activities/export.js';
import { organizationActivities } from '../../activities/organization.js';
import { quotaActivities } from '../../activities/quota.js';
import { verifyActivities } from '../../activities/verify.js';
import { budgetRefusal } from '../../src/budget/rate-budget.js';
import { NotFoundError, RetryableError } from '../../src/errors.js';
import type { OneDriveClient, UploadParams, UploadResult } from '../../src/onedrive/client.js';
import type { QontoClient } from '../../src/qonto/client.js';
import { openSqliteStore } from '../../src/store/sqlite.js';
import type { Store } from '../../src/store/types.js';

const ID = 'i1';
const QUOTA = { total: 1e12, used: 0, remaining: 1e12, deleted: 0, state: 'normal' as const };

type Upload = (p: UploadParams) => Promise<UploadResult>;

/** A drive whose answers the test scripts: every method the export uses, nothing more. */
function fakeDrive(upload: Upload, getDrive = async () => ({ id: 'd', driveType: 'personal', quota: QUOTA })) {
  const cancelled: string[] = [];
  const cancelSignals: Array<AbortSignal | undefined> = [];
  const drive = {
    getDrive,
    getAppFolder: async () => ({ id: 'app', name: 'app' }),
    ensureFolder: async (parentId: string, name: string) => ({ id: `${parentId}/${name}`, name, folder: {} }),
    getItem: async () => null,
    uploadFile: upload,
    cancelUploadSession: async (url: string, signal?: AbortSignal) => {
      cancelled.push(url);
      cancelSignals.push(signal);
    },
    deltaPage: async () => ({ items: [] as unknown[], deltaLink: 'delta-2' }),
  };
  return { drive: drive as unknown as OneDriveClient & { deltaPage: typeof drive.deltaPage }, cancelled, cancelSignals };
}

const exported = (p: UploadParams): UploadResult => ({ item: { id: `item-${p.name}`, name: p.name, size: p.size }, quickXorHash: 'h', sha256: 's', size: p.size });
const throttled = () => new RetryableError('Graph PUT: HTTP 503', { status: 503, retryAfterMs: 4_000 });

let store: Store;
beforeEach(async () => {
  store = openSqliteStore(join(mkdtempSync(join(tmpdir(), 'export-batch-')), 'db.sqlite'));
  await store.createIntegration({ id: ID });
  await store.upsertDiscovered(
    ID,
    ['a', 'b', 'c', 'd'].map((id) => ({ attachmentId: id, transactionId: `tx-${id}`, bankAccountId: 'acc', folderPath: 'Main (1234)/2026/2026-03', fileName: `${id}.pdf`, fallbackFileName: `full-${id}.pdf`, size: 10 })),
  );
});
afterEach(() => store.close());

function depsWith(drive: OneDriveClient, more: Partial<ActivityDeps> = {}): ActivityDeps {
  return { store, qonto: () => ({}) as QontoClient, onedrive: () => drive, forgetTokens: async () => undefined, uploadConcurrency: 2, ...more };
}

const BATCH = { integrationId: ID, runNumber: 1, batchSize: 10 };

/** One exportBatch call with `deps`, in a mock activity context. */
function exportBatchIn(env: MockActivityEnvironment, deps: ActivityDeps) {
  const activities = exportActivities(deps);
  return () => env.run((input: typeof BATCH) => activities.exportBatch(input), BATCH);
}

describe('exportBatch', () => {
  it('heartbeats while the drive is still being read, before the first upload (a throttle window can hold that read)', async () => {
    const env = new MockActivityEnvironment();
    let beats = 0;
    env.on('heartbeat', () => beats++);
    // The drive read answers once the activity has beaten, or after 5 s (100 intervals) if it never does.
    const { drive } = fakeDrive(async (p) => exported(p), async () => {
      for (let waited = 0; beats === 0 && waited < 5_000; waited += 10) await new Promise((r) => setTimeout(r, 10));
      return { id: 'd', driveType: 'personal', quota: QUOTA };
    });
    let beatsWhenRead = -1;
    const reading = drive.getDrive.bind(drive);
    drive.getDrive = async () => {
      const answer = await reading();
      beatsWhenRead = beats;
      return answer;
    };
    await exportBatchIn(env, depsWith(drive, { heartbeatIntervalMs: 50 }))();
    expect(beatsWhenRead).toBeGreaterThan(0);
  });

  it('lets the other receipts finish when one is throttled, keeps it pending, and counts the try', async () => {
    const { drive } = fakeDrive(async (p) => {
      if (p.name === 'b.pdf') throw throttled();
      return exported(p);
    });
    const env = new MockActivityEnvironment();
    const result = await exportBatchIn(env, depsWith(drive))();
    expect(result).toMatchObject({ exported: 3, failed: 0, remaining: 1 });
    expect(await store.getEntry(ID, 'b')).toMatchObject({ state: 'pending', attempts: 0, throttledTries: 1 });
  });

  it('ends with the window as its retry delay when nothing could be done but wait', async () => {
    const { drive } = fakeDrive(async () => {
      throw throttled();
    });
    const env = new MockActivityEnvironment();
    const error = await exportBatchIn(env, depsWith(drive))().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RetryableError);
    expect((error as RetryableError).retryAfterMs).toBe(4_000);
    for (const id of ['a', 'b', 'c', 'd']) expect(await store.getEntry(ID, id)).toMatchObject({ state: 'pending', attempts: 0 });
  });

  it('marks a receipt that is throttled every time failed after its cap, so the run goes on', async () => {
    const { drive } = fakeDrive(async (p) => {
      if (p.name === 'b.pdf') throw throttled();
      return exported(p);
    });
    const exportBatch = exportBatchIn(new MockActivityEnvironment(), depsWith(drive, { throttledTriesPerReceipt: 3 }));
    const outcomes: unknown[] = [];
    for (let call = 0; call < 3; call++) {
      outcomes.push(await exportBatch().catch((e: unknown) => e));
    }
    expect(outcomes[1]).toBeInstanceOf(RetryableError); // only b left, and it was throttled again
    expect(outcomes[2]).toMatchObject({ failed: 1, remaining: 0 });
    expect(await store.getEntry(ID, 'b')).toMatchObject({ state: 'failed', failedInRun: 1, throttledTries: 0 });
    expect((await store.getEntry(ID, 'b'))?.lastError).toMatch(/throttled/);
  });

  it('does not count waiting behind the drive-wide window as a try of the receipt', async () => {
    const { drive } = fakeDrive(async () => {
      throw new RetryableError('throttled: no request before 30 s (Retry-After)', { status: 429, retryAfterMs: 30_000, code: 'backoffWindow' });
    });
    const exportBatch = exportBatchIn(new MockActivityEnvironment(), depsWith(drive, { throttledTriesPerReceipt: 1 }));
    for (let call = 0; call < 3; call++) await exportBatch().catch(() => undefined);
    for (const id of ['a', 'b', 'c', 'd']) expect(await store.getEntry(ID, id)).toMatchObject({ state: 'pending', throttledTries: 0 });
  });

  it('does not count a request refused by the rate budget (no slot within its wait) as a try of the receipt', async () => {
    const { drive } = fakeDrive(async () => {
      throw budgetRefusal('graph', 45_000);
    });
    const exportBatch = exportBatchIn(new MockActivityEnvironment(), depsWith(drive, { throttledTriesPerReceipt: 1 }));
    for (let call = 0; call < 3; call++) await exportBatch().catch(() => undefined);
    for (const id of ['a', 'b', 'c', 'd']) expect(await store.getEntry(ID, id)).toMatchObject({ state: 'pending', throttledTries: 0 });
  });
});

describe('records of exported receipts', () => {
  it('writes them in groups, not a write per receipt, all before the batch returns its counts', async () => {
    const { drive } = fakeDrive(async (p) => exported(p));
    let single = 0;
    let grouped = 0;
    const counted: Store = {
      ...store,
      updateEntry: async (...args) => {
        single += 1;
        return store.updateEntry(...args);
      },
      updateEntries: async (...args) => {
        grouped += 1;
        return store.updateEntries(...args);
      },
    };
    const result = await exportBatchIn(new MockActivityEnvironment(), depsWith(drive, { store: counted }))();
    expect(result).toMatchObject({ exported: 4, remaining: 0, counts: { exported: 4, pending: 0 } });
    for (const id of ['a', 'b', 'c', 'd']) expect(await store.getEntry(ID, id)).toMatchObject({ state: 'uploaded', driveItemId: `item-${id}.pdf` });
    expect(single).toBe(0);
    expect(grouped).toBeGreaterThan(0);
  });

  it('dismisses a receipt exported earlier in the batch with the folder the user deleted after it', async () => {
    await store.putFolder(ID, 'Main (1234)/2026/2026-03', 'folder-id');
    const { drive } = fakeDrive(async (p) => {
      if (p.name === 'a.pdf') return exported(p);
      throw new NotFoundError('Graph PUT: HTTP 404');
    });
    await exportBatchIn(new MockActivityEnvironment(), depsWith(drive, { uploadConcurrency: 1 }))();
    expect((await store.getEntry(ID, 'a'))?.state).toBe('dismissed');
  });

  it("does not count an earlier group's failed write against a receipt whose folder was deleted: it is dismissed, the batch fails", async () => {
    await store.putFolder(ID, 'Main (1234)/2026/2026-03', 'folder-id');
    const { drive } = fakeDrive(async (p) => {
      if (p.name === 'a.pdf') return exported(p);
      throw new NotFoundError('Graph PUT: HTTP 404');
    });
    const failing: Store = {
      ...store,
      updateEntries: async () => {
        throw new Error('database unavailable');
      },
    };
    const batch = exportBatchIn(new MockActivityEnvironment(), depsWith(drive, { store: failing, uploadConcurrency: 1 }));
    await expect(batch()).rejects.toThrow('database unavailable');
    for (const id of ['b', 'c', 'd']) expect(await store.getEntry(ID, id)).toMatchObject({ state: 'dismissed', lastError: null });
  });
});

describe('upload sessions of dismissed receipts', () => {
  const FOLDER = 'Main (1234)/2026/2026-03';

  it('exportBatch cancels, with a signal, the sessions of every receipt dismissed with a deleted folder', async () => {
    await store.putFolder(ID, FOLDER, 'folder-id');
    await store.updateEntry(ID, 'a', { uploadUrl: 'https://upload.example/a' });
    await store.updateEntry(ID, 'c', { uploadUrl: 'https://upload.example/c' });
    // The folder is gone: the upload says 404 and the cached folder id no longer resolves.
    const { drive, cancelled, cancelSignals } = fakeDrive(async () => {
      throw new NotFoundError('Graph PUT: HTTP 404');
    });
    const env = new MockActivityEnvironment();
    const activities = exportActivities(depsWith(drive));
    await env.run((input: typeof BATCH) => activities.exportBatch(input), { ...BATCH, batchSize: 1 });
    expect(cancelled.sort()).toEqual(['https://upload.example/a', 'https://upload.example/c']);
    for (const signal of cancelSignals) expect(signal).toBeInstanceOf(AbortSignal);
    expect((await store.getEntry(ID, 'c'))?.state).toBe('dismissed');
  });

  it('verifyDrive cancels the sessions of the receipts under a folder the user deleted', async () => {
    await store.putFolder(ID, FOLDER, 'folder-id');
    await store.updateEntry(ID, 'b', { uploadUrl: 'https://upload.example/b' });
    const { drive, cancelled } = fakeDrive(async (p) => exported(p));
    drive.deltaPage = async () => ({ items: [{ id: 'folder-id', name: '2026-03', deleted: {} }], deltaLink: 'delta-2' });
    const env = new MockActivityEnvironment();
    const verify = verifyActivities(depsWith(drive));
    const result = await env.run((input: { integrationId: string; deltaLink: string }) => verify.verifyDrive(input), { integrationId: ID, deltaLink: 'delta-1' });
    expect(result).toMatchObject({ dismissed: 4 });
    expect(cancelled).toEqual(['https://upload.example/b']);
  });
});

describe('short activities under a throttle window', () => {
  it('checkQuota and loadOrganization ask their clients not to wait long windows in process', async () => {
    const asked: Array<ClientLimits | undefined> = [];
    const { drive } = fakeDrive(async (p) => exported(p));
    const qonto = { getOrganization: async () => ({ legal_country: 'FR', bank_accounts: [] }) } as unknown as QontoClient;
    const deps = depsWith(drive, {
      onedrive: (_id, limits) => (asked.push(limits), drive),
      qonto: (_id, limits) => (asked.push(limits), qonto),
    });
    const env = new MockActivityEnvironment();
    const quota = quotaActivities(deps);
    const organization = organizationActivities(deps);
    await env.run((id: string) => quota.checkQuota(id), ID);
    await env.run(() => organization.loadOrganization({ integrationId: ID, timeZone: null, defaultTimeZone: 'Europe/Paris' }));
    expect(asked).toHaveLength(2);
    for (const limits of asked) expect(limits?.maxRetryAfterMs).toBeLessThanOrEqual(10_000);
  });
});
