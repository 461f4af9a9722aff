import { CancelledFailure, Context } from '@temporalio/activity';
import {
  FatalError,
  NotFoundError,
  QuotaExceededError,
  ReconnectRequiredError,
  RetryableError,
} from '../src/errors.js';
import { isGateRefusal, isThrottling } from '../src/http/backoff-gate.js';
import { observeQuota } from '../src/metrics/quota.js';
import { observeReceipt } from '../src/metrics/runs.js';
import type { OneDriveClient } from '../src/onedrive/client.js';
import type { ManifestEntry } from '../src/store/types.js';
import { AttachmentLinks } from './attachment-links.js';
import { DEFAULT_THROTTLED_TRIES_PER_RECEIPT, DEFAULT_UPLOAD_CONCURRENCY, type ActivityDeps } from './deps.js';
import { storedLink } from './download-link.js';
import { EntryWrites } from './entry-writes.js';
import { FolderResolver } from './folders.js';
import { keepHeartbeating } from './heartbeat.js';
import { cancelSessions } from './sessions.js';
import { settleAll } from './settle.js';
import type { ExportInput, ExportResult } from './types.js';

type Outcome =
  | { kind: 'exported'; bytes: number }
  | { kind: 'failed'; error: string }
  | { kind: 'quota' }
  /** Its folder was deleted by the user during the run, or Qonto no longer has it. */
  | { kind: 'dismissed' }
  /** Not tried: the drive filled up earlier in this batch. */
  | { kind: 'skipped' }
  /** Answered 429/503, or held behind the service's back-off window: still pending. */
  | { kind: 'throttled'; retryAfterMs: number | undefined };

/**
 * Exports the next batch of receipts, `uploadConcurrency` at a time: stream each from Qonto's signed URL
 * (the one seen at discovery while fresh) into the drive, verify size and quickXorHash, record it. Safe to run twice or to die half way: a receipt is only marked exported once
 * verified; names are unique per receipt and uploads replace, so a retry never makes a second copy; an
 * upload session is persisted and resumed.
 */
export function exportActivities(deps: ActivityDeps) {
  const concurrency = deps.uploadConcurrency ?? DEFAULT_UPLOAD_CONCURRENCY;
  const attemptsPerRun = deps.attemptsPerRun ?? 3;
  const throttledCap = deps.throttledTriesPerReceipt ?? DEFAULT_THROTTLED_TRIES_PER_RECEIPT;
  const links = deps.attachmentLinks ?? new AttachmentLinks();

  return {
    async exportBatch({ integrationId, runNumber, batchSize, transactionIds }: ExportInput): Promise<ExportResult> {
      const { store } = deps;
      const ctx = Context.current();
      const drive = deps.onedrive(integrationId);
      const qonto = deps.qonto(integrationId);
      const folders = new FolderResolver(integrationId, store, drive);
      const records = new EntryWrites((updates) => store.updateEntries(integrationId, updates));

      // Beat from the start: the drive read below can wait behind a throttle window (the drive's
      // gate, Graph's Retry-After) longer than the heartbeat timeout.
      const beat = keepHeartbeating(ctx, deps.heartbeatIntervalMs);
      let quotaHit = false;
      let done = 0;
      return beat.run(() => exportAll()).finally(() => beat.stop());

      async function exportAll(): Promise<ExportResult> {
        const batch = await store.nextToExport(integrationId, runNumber, batchSize, transactionIds);
        const { quota } = await drive.getDrive();
        observeQuota(integrationId, quota);
        let budget = quota.state === 'exceeded' ? 0 : quota.remaining;
        const fitting: ManifestEntry[] = [];
        for (const entry of batch) {
          if (entry.size > budget) break;
          budget -= entry.size;
          fitting.push(entry);
        }
        let quotaExceeded = fitting.length < batch.length;

        let outcomes: Outcome[];
        try {
          outcomes = await settleAll(fitting, concurrency, ctx.cancellationSignal, async (entry) => {
            const outcome = await exportOne(entry);
            // Counted as each receipt ends: a batch cut short (cancelled, throttled) still counts it.
            if (outcome.kind === 'exported' || outcome.kind === 'failed') observeReceipt(outcome);
            beat.progress({ done: ++done });
            return outcome;
          });
        } catch (error) {
          // The batch fails with its own error; a record not written leaves its receipt pending.
          await records.flush().catch(() => undefined);
          throw error;
        }
        await records.flush();
        // Nothing done but wait: the activity ends and Temporal retries it after the window. When
        // something was done, the batch returns (its results count) and the next one meets the window.
        if (outcomes.length > 0 && outcomes.every((o) => o.kind === 'throttled')) {
          const waits = outcomes.map((o) => (o.kind === 'throttled' ? o.retryAfterMs : undefined)).filter((ms) => ms !== undefined);
          throw new RetryableError(`throttled: ${outcomes.length} receipt(s) wait for the service's back-off window`, {
            status: 429,
            retryAfterMs: waits.length > 0 ? Math.max(...waits) : undefined,
          });
        }
        let exported = 0;
        let failed = 0;
        let bytes = 0;
        let lastError: string | null = null;
        for (const outcome of outcomes) {
          if (outcome.kind === 'exported') {
            exported += 1;
            bytes += outcome.bytes;
          } else if (outcome.kind === 'failed') {
            failed += 1;
            lastError = outcome.error;
          } else if (outcome.kind === 'quota') quotaExceeded = true;
        }
        return {
          exported,
          failed,
          bytes,
          quotaExceeded,
          remaining: await store.countToExport(integrationId, runNumber, transactionIds),
          counts: await store.counts(integrationId),
          lastError,
        };
      }

      async function exportOne(entry: ManifestEntry): Promise<Outcome> {
        if (quotaHit) return { kind: 'skipped' };
        // The upload session this receipt holds on the drive, as persisted for resumption.
        let session = entry.uploadUrl;
        /** Giving up on the receipt (for this run or for good): its session goes too, or it would sit
         * on the drive, half written, until it expires. */
        const dropSession = async (alsoThese: string[] = []) => {
          await cancelSessions(drive, session === null ? alsoThese : [session, ...alsoThese], ctx.cancellationSignal);
          session = null;
        };
        try {
          const uploaded = await upload(
            entry,
            drive,
            (signal) => links.open(qonto, entry.attachmentId, signal, () => storedLink(deps.sealer, entry)),
            folders,
            (uploadUrl) => {
              session = uploadUrl;
              return store.updateEntry(integrationId, entry.attachmentId, { uploadUrl });
            },
            (sent) => beat.progress({ done, attachmentId: entry.attachmentId, sent }),
          );
          if (uploaded === 'folder-deleted') {
            // The user deleted the folder after this run's drive check: same rule as in verifyDrive.
            // Every receipt dismissed with it gives up its session too.
            // Receipts exported into it earlier in this batch are recorded first, then dismissed with it.
            // A write of theirs that failed is no failure of this receipt: the batch's flush reports it.
            await records.settle();
            const { uploadUrls } = await store.dismissUnder(integrationId, entry.folderPath);
            await dropSession(uploadUrls);
            await folders.forget(entry.folderPath);
            return { kind: 'dismissed' };
          }
          const { item, folderId, quickXorHash, sha256, size } = uploaded;
          // Verified in the drive just now (size and quickXorHash): seen intact, and first exported
          // unless an earlier upload was (a re-import keeps its first date).
          const at = new Date().toISOString();
          records.add(entry.attachmentId, {
            state: 'uploaded',
            driveItemId: item.id,
            folderId,
            quickXorHash,
            sha256,
            exportedAt: entry.exportedAt ?? at,
            verifiedAt: at,
            changedAt: null,
            size,
            uploadUrl: null,
            attempts: 0,
            throttledTries: 0,
            failedInRun: null,
            lastError: null,
            downloadLink: null,
            downloadLinkAt: null,
          });
          return { kind: 'exported', bytes: size };
        } catch (error) {
          if (ctx.cancellationSignal.aborted) throw new CancelledFailure('export cancelled');
          if (error instanceof ReconnectRequiredError) throw error;
          if (error instanceof QuotaExceededError) {
            quotaHit = true;
            await dropSession();
            await store.updateEntry(integrationId, entry.attachmentId, { uploadUrl: null });
            return { kind: 'quota' };
          }
          if (error instanceof NotFoundError) {
            // Removed from Qonto since it was discovered: nothing left to export (reconfigure tries again).
            await dropSession();
            await store.updateEntry(integrationId, entry.attachmentId, { state: 'dismissed', uploadUrl: null, lastError: 'removed from Qonto' });
            return { kind: 'dismissed' };
          }
          if (isThrottling(error)) {
            // Throttled: the receipt did nothing wrong and stays pending, its attempts as they were.
            // Waiting behind a window another request opened is not even a try of its own; its own
            // request answered 429/503 is, and a receipt its host keeps throttling is set aside.
            const { retryAfterMs } = error;
            if (isGateRefusal(error)) return { kind: 'throttled', retryAfterMs };
            const throttledTries = entry.throttledTries + 1;
            if (throttledTries < throttledCap) {
              await store.updateEntry(integrationId, entry.attachmentId, { throttledTries });
              return { kind: 'throttled', retryAfterMs };
            }
            const given = `${entry.fileName}: throttled ${throttledTries} times, last: ${error.message}`;
            await dropSession();
            await store.updateEntry(integrationId, entry.attachmentId, {
              state: 'failed',
              attempts: entry.attempts + 1,
              throttledTries: 0,
              failedInRun: runNumber,
              lastError: given,
              uploadUrl: null,
            });
            return { kind: 'failed', error: given };
          }
          const attempts = entry.attempts + 1;
          const message = `${entry.fileName}: ${error instanceof Error ? error.message : String(error)}`;
          const transient = error instanceof RetryableError || !(error instanceof FatalError);
          if (transient && attempts % attemptsPerRun !== 0) {
            await store.updateEntry(integrationId, entry.attachmentId, { attempts, lastError: message });
            throw error;
          }
          await dropSession();
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

/** Uploads one receipt into its folder. 'folder-deleted' when the folder vanished since its id was
 * cached (the user deleted it during this run); a missing app folder is looked up again, once. */
async function upload(
  entry: ManifestEntry,
  drive: OneDriveClient,
  open: (signal?: AbortSignal) => Promise<ReadableStream<Uint8Array>>,
  folders: FolderResolver,
  persistSession: (uploadUrl: string) => Promise<void>,
  onProgress: (sent: number) => void,
) {
  const ctx = Context.current();
  const attempt = async (resumeUploadUrl: string | undefined) => {
    const folderId = await folders.resolve(entry.folderPath);
    const result = await drive.uploadFile({
      parentId: folderId,
      name: entry.fileName,
      size: entry.size,
      open,
      resumeUploadUrl,
      onSession: persistSession,
      onProgress,
      signal: ctx.cancellationSignal,
    });
    return { ...result, folderId };
  };
  try {
    return await attempt(entry.uploadUrl ?? undefined);
  } catch (error) {
    if (!(error instanceof NotFoundError)) throw error;
    const cached = await folders.cached(entry.folderPath);
    if (cached !== null && (await drive.getItem(cached)) !== null) throw error;
    if (cached !== null) return 'folder-deleted' as const;
    // Nothing cached for the folder itself: a parent (or the app folder) went stale. Start over from the top.
    await folders.forget('');
    return attempt(undefined);
  }
}
