import type { RetryOptions } from '../src/http/retry.js';
import type { OneDriveClient } from '../src/onedrive/client.js';
import type { QontoClient } from '../src/qonto/client.js';
import type { Store } from '../src/store/types.js';
import type { WebhookSubscriptions } from '../src/webhooks/subscription.js';
import type { AttachmentLinks } from './attachment-links.js';
import type { Sealer } from '../src/auth/crypto.js';
import type { AlertService } from '../src/alerts/service.js';
import type { DriveReportSettings } from '../src/sync/drive-reports.js';

/** Uploads in flight at once per export batch. Each waits on the network most of the time, so this
 * sets the throughput; all of them pause together when Microsoft throttles the drive (the drive's
 * back-off gate, src/http/backoff-gate.ts), so more lanes do not mean more throttled requests. */
export const DEFAULT_UPLOAD_CONCURRENCY = 10;

/** How a client made for one activity treats a throttle window. */
export interface ClientLimits {
  /** The longest Retry-After (or back-off window) waited out in process; a longer one fails at once
   * with it as `retryAfterMs`, which becomes the activity's next retry delay. */
  maxRetryAfterMs?: number;
  /** The longest a request waits for its slot in the fleet-wide rate budget (src/budget); a longer
   * wait is refused unsent, its `retryAfterMs` the activity's next retry delay. Default
   * LONG_ACTIVITY_BUDGET_WAIT_MS. */
  maxBudgetWaitMs?: number;
  /** Aborts the client's requests and waits (the activity is out of time). */
  signal?: AbortSignal;
}

/** `retry` with its in-process wait capped by `limits` (the tighter of the two wins), and its signal. */
export function limitedRetry(retry: Partial<RetryOptions> | undefined, limits: ClientLimits | undefined): Partial<RetryOptions> | undefined {
  if (limits === undefined) return retry;
  const limited: Partial<RetryOptions> = { ...retry };
  if (limits.maxRetryAfterMs !== undefined) limited.maxRetryAfterMs = Math.min(limits.maxRetryAfterMs, retry?.maxRetryAfterMs ?? Number.POSITIVE_INFINITY);
  if (limits.signal !== undefined) limited.signal = limits.signal;
  return limited;
}

/** For the short activities (no heartbeat, a one-minute start-to-close timeout): a window longer
 * than this ends the attempt, and Temporal retries it after the window, rather than the attempt
 * timing out while it waits. */
export const SHORT_ACTIVITY_LIMITS: ClientLimits = { maxRetryAfterMs: 10_000, maxBudgetWaitMs: 40_000 };

/** The budget wait of the heartbeating activities (30 min start-to-close): a wait for a slot is no
 * network wait, so the heartbeat beats on through it, and beyond this the activity hands the wait to
 * Temporal's retry instead of spending its remaining time. */
export const LONG_ACTIVITY_BUDGET_WAIT_MS = 20 * 60_000;

/** Tries of one receipt answered 429/503 (its own request, not the wait behind a drive-wide window)
 * before it is set aside as failed for the run. Below the export activity's eight attempts, so that
 * a receipt its host keeps throttling is set aside within one activity's retries instead of failing
 * the run. */
export const DEFAULT_THROTTLED_TRIES_PER_RECEIPT = 5;

/** What the activities need, injected by the worker (or a test). Clients are made per integration
 * because each one carries that integration's credentials, read from the store when needed. */
export interface ActivityDeps {
  store: Store;
  qonto: (integrationId: string, limits?: ClientLimits) => QontoClient;
  onedrive: (integrationId: string, limits?: ClientLimits) => OneDriveClient;
  /** Deletes every stored credential of the integration (consent withdrawn). */
  /** `signal`: ends the Qonto requests of the unsubscription (the activity's attempt is over). */
  forgetTokens: (integrationId: string, opts?: { atQonto?: boolean; signal?: AbortSignal }) => Promise<void>;
  /** Uploads in flight at once per export batch (default DEFAULT_UPLOAD_CONCURRENCY). */
  uploadConcurrency?: number;
  /** A receipt that keeps failing transiently is set aside for this run after this many attempts. */
  attemptsPerRun?: number;
  /** Default DEFAULT_THROTTLED_TRIES_PER_RECEIPT. */
  throttledTriesPerReceipt?: number;
  /** Heartbeat interval of the long activities (tests shorten it). */
  heartbeatIntervalMs?: number;
  /** Download links seen at discovery, shared by the activities of this worker (createActivities makes one). */
  attachmentLinks?: AttachmentLinks;
  /** Seals the download links discovery stores with the receipts; absent: none stored. */
  sealer?: Sealer;
  /** Alert records and mail (src/alerts); absent: no alerts. */
  alerts?: AlertService;
  /** The reports written into period folders (EXPORT_LOG_CSV, MISSING_RECEIPTS_CSV); absent: none. */
  driveReports?: DriveReportSettings;
  /** The integrations' Qonto webhook subscriptions; absent: the worker does not subscribe. */
  webhooks?: Pick<WebhookSubscriptions, 'ensure'>;
}
