/** What the activities take and return: small, serialisable summaries (never file bodies, never tokens),
 * shared by the workflow (as types only) and the activity implementations. */
import type { SignInProvider } from '../src/errors.js';
import type { IntegrationStatus, ManifestCounts } from '../src/store/types.js';
import type { TransactionChange } from '../workflows/messages.js';
import type { RunKind, RunOutcome } from '../workflows/state.js';

/** A bank account as the workflow sees it: no IBAN, only the folder name derived from it, so workflow
 * history (visible in the Temporal UI) carries no bank details. */
export interface AccountRef {
  id: string;
  name: string;
  folderName: string;
}

export interface OrganizationInfo {
  /** The integration's zone: the configured one, else from the organization's country, else the default. */
  timeZone: string;
  accounts: AccountRef[];
}

export interface QuotaInfo {
  total: number;
  used: number;
  remaining: number;
  deleted: number;
  state: string;
}

export interface QuotaCheck {
  quota: QuotaInfo;
  counts: ManifestCounts;
  /** True when the drive has no room left for the next receipt waiting to be exported. */
  full: boolean;
}

export interface VerifyResult {
  deltaLink: string;
  /** Files the user deleted whose folder still exists: exported again. */
  requeued: number;
  /** Receipts whose period (or account) folder the user deleted: left out until reconfigured. */
  dismissed: number;
}

export interface DiscoverInput {
  integrationId: string;
  account: AccountRef;
  /** `updated_at` of the newest transaction seen so far for this account; null on a backfill. */
  cursor: string | null;
  syncFrom: string;
  timeZone: string;
  /** Export Qonto's probative copies too; absent in executions from before the option (nothing done). */
  probativeCopies?: boolean;
}

export interface DiscoverResult {
  cursor: string | null;
  transactions: number;
  /** New files: receipts, and probative copies that became available. */
  discovered: number;
  /** Receipts whose data cannot make a file name (logged with their ids). */
  skipped: number;
}

export interface ExportInput {
  integrationId: string;
  runNumber: number;
  batchSize: number;
  /** Only the receipts of these transactions (an incremental run); absent: every receipt to export. */
  transactionIds?: string[];
}

/** An incremental run's discovery: the transactions Qonto's webhooks named, fetched one by one. */
export interface DiscoverTransactionsInput {
  integrationId: string;
  changes: TransactionChange[];
  /** The organization's accounts (a transaction of another account is skipped). */
  accounts: AccountRef[];
  syncFrom: string;
  timeZone: string;
  probativeCopies: boolean;
}

/** An incremental run that listed the accounts: the changes whose attachments should now be known. */
export interface UnlistedAttachmentsInput {
  integrationId: string;
  changes: TransactionChange[];
}

export interface DiscoverTransactionsResult {
  /** New files: receipts, and probative copies that became available. */
  discovered: number;
  /** Transactions whose event named an attachment the API does not return yet (Qonto still processes
   * the upload): to be looked at again. */
  notVisible: string[];
  /** Receipts whose data cannot make a file name, and transactions left out (before the start date,
   * of an unknown account, gone). */
  skipped: number;
}

export interface ExportResult {
  exported: number;
  failed: number;
  bytes: number;
  /** The batch stopped because the drive is full (no partial file is left behind). */
  quotaExceeded: boolean;
  /** Receipts still to export in this run (pending, or failed in an earlier run). */
  remaining: number;
  counts: ManifestCounts;
  lastError: string | null;
}

export interface StatusInput {
  integrationId: string;
  status: IntegrationStatus;
}

/** The end of every run (not one cut short by continue-as-new): alerts and metrics build on it. */
export interface RunEndedInput {
  integrationId: string;
  runNumber: number;
  kind: RunKind;
  outcome: RunOutcome;
  startedAt: string;
  finishedAt: string;
  exported: number;
  failed: number;
  quota: QuotaInfo | null;
  /** Whose sign-in ended, with `reconnect_required` (null: not known; absent from older workflows). */
  signInEnded?: SignInProvider | null;
}

export interface AlertCheckInput {
  integrationId: string;
  /** The workflow's clock (the time-skipping test server moves it; activities would see real time). */
  now: string;
  /** Whose sign-in ended while the integration waits for it (a reminder names it). */
  signInEnded?: SignInProvider | null;
}

export interface AlertCheckResult {
  /** When the workflow should check again though no run ends (a reminder, the 30 h mark). */
  nextCheckAt: string | null;
}
