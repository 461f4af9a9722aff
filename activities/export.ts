import { CancelledFailure, Context } from '@temporalio/activity';
import {
  FatalError,
  NotFoundError,
  QuotaExceededError,
  ReconnectRequiredError,
  RetryableError,
} from '../src/errors.js';
import type { OneDriveClient } from '../src/onedrive/client.js';
import type { QontoClient } from '../src/qonto/client.js';
import type { ManifestEntry } from '../src/store/types.js';
import type { ActivityDeps } from './deps.js';
import { FolderResolver } from './folders.js';
import { keepHeartbeating } from './heartbeat.js';
import { settleAll } from './settle.js';
import type { ExportInput, ExportResult } from './types.js';

type Outcome = { kind: 'exported'; bytes: number } | { kind: 'failed'; error: string } | { kind: 'quota' };

/**
 * Exports the next batch of receipts: stream each from Qonto's signed URL into the drive, verify size and
 * quickXorHash, record it. Safe to run twice or to die half way: a receipt is only marked exported once
 * verified; names are unique per receipt and uploads replace, so a retry never makes a second copy; an
 * upload session is persisted and resumed.
 */
export function exportActivities(deps: ActivityDeps) {
  const concurrency = deps.uploadConcurrency ?? 2;
  const attemptsPerRun = deps.attemptsPerRun ?? 3;

  return {
    async exportBatch({ integrationId, runNumber, batchSize }: ExportInput): Promise<ExportResult> {
      const { store } = deps;
      const ctx = Context.current();
      const drive = deps.onedrive(integrationId);
      const qonto = deps.qonto(integrationId);
      const folders = new FolderResolver(integrationId, store, drive);

      const batch = await store.nextToExport(integrationId, runNumber, batchSize);
      const { quota } = await drive.getDrive();
      let budget = quota.state === 'exceeded' ? 0 : quota.remaining;
      const fitting: ManifestEntry[] = [];
      for (const entry of batch) {
        if (entry.size > budget) break;
        budget -= entry.size;
        fitting.push(entry);
      }
      let quotaExceeded = fitting.length < batch.length;

      let exported = 0;
      let failed = 0;
      let bytes = 0;
      let lastError: string | null = null;
      let done = 0;
      const beat = keepHeartbeating(ctx);
      const outcomes = await settleAll(fitting, concurrency, ctx.cancellationSignal, async (entry) => {
        const outcome = await exportOne(entry);
        beat.progress({ done: ++done });
        return outcome;
      }).finally(() => beat.stop());
      for (const outcome of outcomes) {
        if (outcome.kind === 'exported') (exported += 1), (bytes += outcome.bytes);
        else if (outcome.kind === 'failed') (failed += 1), (lastError = outcome.error);
        else quotaExceeded = true;
      }

      return {
        exported,
        failed,
        bytes,
        quotaExceeded,
        remaining: await store.countToExport(integrationId, runNumber),
        counts: await store.counts(integrationId),
        lastError,
      };

      async function exportOne(entry: ManifestEntry): Promise<Outcome> {
        try {
          const { item, folderId, quickXorHash, size } = await upload(
            entry,
            drive,
            qonto,
            folders,
            (uploadUrl) => store.updateEntry(integrationId, entry.attachmentId, { uploadUrl }),
            (sent) => beat.progress({ done, attachmentId: entry.attachmentId, sent }),
          );
          await store.updateEntry(integrationId, entry.attachmentId, {
            state: 'uploaded',
            driveItemId: item.id,
            folderId,
            quickXorHash,
            size,
            uploadUrl: null,
            attempts: 0,
            failedInRun: null,
            lastError: null,
          });
          return { kind: 'exported', bytes: size };
        } catch (error) {
          if (ctx.cancellationSignal.aborted) throw new CancelledFailure('export cancelled');
          if (error instanceof ReconnectRequiredError) throw error;
          if (error instanceof QuotaExceededError) {
            await store.updateEntry(integrationId, entry.attachmentId, { uploadUrl: null });
            return { kind: 'quota' };
          }
          const attempts = entry.attempts + 1;
          const message = `${entry.fileName}: ${error instanceof Error ? error.message : String(error)}`;
          const transient = error instanceof RetryableError || !(error instanceof FatalError || error instanceof NotFoundError);
          if (transient && attempts % attemptsPerRun !== 0) {
            await store.updateEntry(integrationId, entry.attachmentId, { attempts, lastError: message });
            throw error;
          }
          await store.updateEntry(integrationId, entry.attachmentId, {
            state: 'failed',
            attempts,
            failedInRun: runNumber,
            lastError: message,
            uploadUrl: null,
          });
          return { kind: 'failed', error: message };
        }
      }
    },
  };
}

async function upload(
  entry: ManifestEntry,
  drive: OneDriveClient,
  qonto: QontoClient,
  folders: FolderResolver,
  persistSession: (uploadUrl: string) => Promise<void>,
  onProgress: (sent: number) => void,
) {
  const ctx = Context.current();
  const attempt = async (folderId: string, resumeUploadUrl: string | undefined) => {
    const result = await drive.uploadFile({
      parentId: folderId,
      name: entry.fileName,
      size: entry.size,
      open: async (signal) => (await qonto.openAttachment(entry.attachmentId, signal)).body,
      resumeUploadUrl,
      onSession: persistSession,
      onProgress,
      signal: ctx.cancellationSignal,
    });
    return { ...result, folderId };
  };
  const folderId = await folders.resolve(entry.folderPath);
  try {
    return await attempt(folderId, entry.uploadUrl ?? undefined);
  } catch (error) {
    // The folder was deleted after its id was cached: forget it and make it again, once.
    if (!(error instanceof NotFoundError) || (await drive.getItem(folderId)) !== null) throw error;
    await folders.forget(entry.folderPath);
    return attempt(await folders.resolve(entry.folderPath), undefined);
  }
}
