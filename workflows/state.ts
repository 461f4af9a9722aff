import type { AccountRef, QuotaInfo } from '../activities/types.js';
import type { SignInProvider } from '../src/errors.js';
import type { IntegrationStatus, ManifestCounts, WebhookStatus } from '../src/store/types.js';
import type { ReconfigureArgs } from './messages.js';

/** Settings fixed when the workflow starts (from the service's configuration), carried unchanged. */
export interface IntegrationSettings {
  /** Daily run time, HH:MM in the integration's zone (SYNC_TIME). */
  syncTime: string;
  /** Zone used when neither the user nor the organization's country gives one (DEFAULT_TIME_ZONE). */
  defaultTimeZone: string;
  /** The daily run comes at syncTime plus a fixed offset per integration inside this many minutes
   * (SYNC_SPREAD_MINUTES; 0: at syncTime). Absent in executions started before it: the default. */
  syncSpreadMinutes?: number;
  /** Receipts per export activity: bounds history growth and the work lost to a crash. */
  batchSize: number;
  /** Continue-as-new past this many history events even before the server suggests it (tests lower it). */
  maxHistoryEvents?: number;
  /** How long changed transactions told by Qonto's webhooks are gathered before an incremental run
   * (default WEBHOOK_DEBOUNCE_MS; tests lower it). */
  webhookDebounceMs?: number;
  /** Delays of the looks again at a transaction whose new attachment the API did not show yet
   * (default WEBHOOK_RECHECK_MS; tests lower them). */
  webhookRecheckMs?: number[];
}

/** 10 s from the first changed id: a burst of events becomes one run, a single receipt still lands
 * within the minute. */
export const WEBHOOK_DEBOUNCE_MS = 10_000;
/** Qonto processes an upload in the background: an event can name an attachment the API does not
 * return yet. Looked at again after 30 s, then 2 min; after that the daily run finds it. */
export const WEBHOOK_RECHECK_MS = [30_000, 120_000];
/** This many changed ids start the incremental run at once, without waiting for the debounce. */
export const WEBHOOK_BURST_IDS = 200;
/** Above this many changed ids, an incremental run lists the accounts by cursor (a few pages)
 * rather than fetching every transaction by id. */
export const WEBHOOK_LIST_ABOVE = 50;
/** Changed ids kept while waiting; past it they are dropped and the next incremental run lists
 * the accounts by cursor instead (`overflow`). */
export const MAX_PENDING_TRANSACTIONS = 1000;

/** A changed transaction waiting for an incremental run; `tries`: incremental runs that failed with it. */
export interface PendingChange {
  attachmentIds: string[];
  receivedAt: string;
  tries?: number;
}

/** A transaction whose event named an attachment the API did not return yet: looked at again at `dueAt`. */
export interface Recheck {
  transactionId: string;
  attachmentIds: string[];
  dueAt: string;
  tries: number;
}

export interface WebhookChanges {
  pending: Record<string, PendingChange>;
  recheck: Recheck[];
  /** Ids were dropped (more than MAX_PENDING_TRANSACTIONS): the next incremental run lists by cursor. */
  overflow: boolean;
  /** Failed incremental runs that already had `overflow` (absent: none); like an id's `tries`. */
  overflowTries?: number;
  /** Incremental runs that failed in a row (absent: none); a completed run (incremental or full) ends it. */
  failures?: number;
  /** After a failed incremental run, none starts before this time (the daily run's back-off delays). */
  retryAt?: string | null;
}

export type RunKind = 'backfill' | 'sync' | 'reconfigure' | 'incremental';
export type RunOutcome = 'completed' | 'quota_exceeded' | 'reconnect_required' | 'failed' | 'revoked';

export interface LastRun {
  kind: RunKind;
  startedAt: string;
  finishedAt: string;
  outcome: RunOutcome;
  exported: number;
  failed: number;
  bytes: number;
  /** Files the user deleted that were put back, and receipts left out with a deleted folder. */
  requeued: number;
  dismissed: number;
}

/** Everything that survives continue-as-new. Small by design: the manifest lives in the store. */
export interface CarriedState {
  status: IntegrationStatus;
  syncFrom: string;
  /** The zone the user chose (null: follow the organization's country). */
  configuredTimeZone: string | null;
  /** The zone in effect, once known. */
  timeZone: string | null;
  /** Export Qonto's probative copies too (absent in states carried by executions from before it). */
  probativeCopies?: boolean;
  /** Per bank account, `updated_at` of the newest transaction seen. */
  cursors: Record<string, string>;
  deltaLink: string | null;
  runNumber: number;
  backfilled: boolean;
  /** A run that must happen before sleeping again (the first backfill, or one cut short by continue-as-new). */
  runDue: RunKind | null;
  /** The run under way, carried across continue-as-new so its totals are not lost. */
  currentRun: LastRun | null;
  pendingReconfigure: ReconfigureArgs | null;
  /** A reconfigure signal arrived since the last run started (the pending change itself stays until a
   * run applies it; this says the user asked again). Absent in executions started before it existed. */
  reconfigureRequested?: boolean;
  syncNowRequested: boolean;
  /** The user signed in again; carried so a signal arriving as the run continues as new is not lost. */
  reconnectRequested: boolean;
  lastRun: LastRun | null;
  lastError: string | null;
  /** Whose sign-in ended, while `reconnect_required` (absent in states carried by older executions). */
  signInEnded?: SignInProvider | null;
  /** Failed runs in a row (0 once a run ends any other way), and when the next try is due: until
   * then only the daily run or a user action starts a run. Absent before back-off existed. */
  failedRuns?: number;
  retryAt?: string | null;
  quota: QuotaInfo | null;
  counts: ManifestCounts;
  /** When the alerts are next due though no run ends (reminder, 30 h without success); from the
   * `runEnded` and `checkAlerts` activities. Absent before alerts existed. */
  alertCheckAt?: string | null;
  /** Transactions Qonto's webhooks told about, waiting for an incremental run (absent before webhooks). */
  webhook?: WebhookChanges;
  /** The last incremental run (webhooks); `lastRun` stays the last full run. */
  lastIncremental?: LastRun | null;
  /** The accounts as the last full run read them: incremental runs do not read the organization. */
  accounts?: AccountRef[];
  /** Where the Qonto webhook subscription stands, as the last full run found it. */
  webhookStatus?: WebhookStatus;
  /** SYNC_TIME of the day whose scheduled run last fell due (ISO, without the spread offset): that
   * day's slot is served, whatever the offset in effect. Absent in states carried before it. */
  dailySlotServed?: string | null;
}

export interface IntegrationInput {
  integrationId: string;
  syncFrom: string;
  timeZone?: string | null;
  /** Export Qonto's probative copies too (Finish); default off. */
  probativeCopies?: boolean;
  settings: IntegrationSettings;
  /** Set by continue-as-new only. */
  carried?: CarriedState;
}

/** What the status query answers (the API's `GET /api/integrations/:id` builds on it). */
export interface IntegrationView {
  id: string;
  status: IntegrationStatus;
  phase: string;
  syncFrom: string;
  timeZone: string | null;
  nextRunAt: string | null;
  lastRun: LastRun | null;
  counts: { exported: number; failed: number; pending: number; dismissed: number };
  backfill: { done: boolean; exported: number; pending: number };
  quota: QuotaInfo | null;
  lastError: string | null;
  /** Whose sign-in must be renewed (Qonto's or Microsoft's), while `reconnect_required`. */
  signInEnded: SignInProvider | null;
  runNumber: number;
  /** The last incremental run (from Qonto's webhooks), null before the first. */
  lastIncremental: LastRun | null;
  /** Changed transactions waiting for an incremental run, or to be looked at again. */
  pendingChanges: number;
}

export const EMPTY_COUNTS: ManifestCounts = { exported: 0, failed: 0, pending: 0, dismissed: 0, pendingBytes: 0 };

export function initialState(input: IntegrationInput): CarriedState {
  return {
    status: 'backfilling',
    syncFrom: input.syncFrom,
    configuredTimeZone: input.timeZone ?? null,
    timeZone: input.timeZone ?? null,
    probativeCopies: input.probativeCopies ?? false,
    cursors: {},
    deltaLink: null,
    runNumber: 0,
    backfilled: false,
    runDue: 'backfill',
    currentRun: null,
    pendingReconfigure: null,
    reconfigureRequested: false,
    syncNowRequested: false,
    reconnectRequested: false,
    lastRun: null,
    lastError: null,
    signInEnded: null,
    failedRuns: 0,
    retryAt: null,
    quota: null,
    counts: EMPTY_COUNTS,
    // Known from the start: no day served yet (undefined is reserved for states carried from before).
    dailySlotServed: null,
  };
}
