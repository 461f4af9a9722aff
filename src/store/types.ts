import type { FileKind, ProbativeStatus } from '../sync/probative.js';
import type { AlertStore } from './alert-store.js';

/** The store: integrations, the per-receipt manifest, drive folders and encrypted token caches.
 * SQLite implements it today (sqlite.ts); a Postgres implementation must pass the same suite. */

export const INTEGRATION_STATUSES = [
  'connecting',
  'backfilling',
  'idle',
  'syncing',
  'quota_exceeded',
  'reconnect_required',
  'revoked',
  'failed',
] as const;
export type IntegrationStatus = (typeof INTEGRATION_STATUSES)[number];

/** Why an integration was revoked: consent withdrawn in this product, or in Qonto (a consent-revocation event). */
export type RevokedReason = 'withdrawn_here' | 'withdrawn_in_qonto';

/**
 * Where an integration's Qonto webhook subscription stands (docs/webhooks.md):
 * - creating: its secret is written, the subscription may or may not exist at Qonto yet
 * - active: subscribed (OAuth mode); deliveries name its subscription id
 * - manual: API-key mode, the operator registered it; deliveries are matched by organization
 * - unavailable: it cannot subscribe (reason); the daily run alone keeps the drive up to date
 * - revoked: consent withdrawn; the sealed secret stays, so late retries still verify
 */
export type WebhookState = 'creating' | 'active' | 'manual' | 'unavailable' | 'revoked';
export type WebhookUnavailableReason = 'insecure_public_url' | 'missing_scope' | 'api_key_no_permission' | 'no_secret';

/** What the workflow and the dashboard know of an integration's webhooks. */
export interface WebhookStatus {
  state: WebhookState;
  reason: WebhookUnavailableReason | null;
  lastEventAt: string | null;
}

export interface WebhookSubscriptionRow {
  integrationId: string;
  /** Qonto's id of the subscription (OAuth mode); null in API-key mode or before it is created. */
  subscriptionId: string | null;
  /** The Qonto organization whose events it receives (API-key mode matches deliveries by it). */
  organizationId: string | null;
  membershipId: string | null;
  /** The subscription's secret, sealed like the tokens (OAuth mode). */
  sealedSecret: Buffer | null;
  state: WebhookState;
  reason: WebhookUnavailableReason | null;
  /** When the last new (not duplicate) event for it was recorded. */
  lastEventAt: string | null;
  updatedAt: string;
}

/** A delivered webhook event, as recorded for deduplication. */
export interface WebhookEventRecord {
  /** Qonto's event id. */
  id: string;
  subscriptionId: string | null;
  organizationId: string;
  type: string;
  receivedAt: string;
}

export interface MicrosoftAccount {
  homeAccountId: string;
  tenantId: string;
  username: string;
}

export interface Integration {
  id: string;
  /** The Qonto organization it belongs to (OAuth mode); null in API-key mode (one organization). */
  organizationId: string | null;
  status: IntegrationStatus;
  /** First day whose transactions are exported, YYYY-MM-DD. */
  syncFrom: string | null;
  timeZone: string | null;
  microsoftAccount: MicrosoftAccount | null;
  /** Qonto's probative copies are exported beside the receipts (docs/probative-copies.md). */
  probativeCopies: boolean;
  /** Where consent was withdrawn, once it was; null otherwise. */
  revokedReason: RevokedReason | null;
  createdAt: string;
  updatedAt: string;
}

/**
 * Where a receipt stands:
 * - pending: known, not (or no longer) in the drive; exported at the next batch
 * - uploaded: in the drive, size and hash verified
 * - failed: the last attempt failed; retried at the next run
 * - dismissed: its period (or account) folder was deleted by the user; stays gone until reconfigure
 */
export type ManifestState = 'pending' | 'uploaded' | 'failed' | 'dismissed';

/** One file in the drive: a receipt, or the probative copy of one (a row of its own, so it has the
 * same identity, verification and re-import rules). */
export interface ManifestEntry {
  integrationId: string;
  /** The row's key: the Qonto attachment id for a receipt; for its copy, the id plus the kind
   * (manifestKey() in src/sync/probative.ts; parseManifestKey() gives both back). */
  attachmentId: string;
  transactionId: string;
  bankAccountId: string;
  /** Folder path below the app folder, segments joined by '/', e.g. `Main (1234)/2026/2026-03`. */
  folderPath: string;
  fileName: string;
  /** Size announced by Qonto; the verified size once uploaded. */
  size: number;
  state: ManifestState;
  driveItemId: string | null;
  folderId: string | null;
  quickXorHash: string | null;
  /** Open upload session for a file being uploaded (resumed after a crash), never a secret. */
  uploadUrl: string | null;
  attempts: number;
  /** Tries answered 429/503 since its last attempt that counted (see exportBatch). */
  throttledTries: number;
  /** Run number of the last failed attempt: a receipt that failed is not retried in the same run. */
  failedInRun: number | null;
  lastError: string | null;
  updatedAt: string;
  /** Transaction date (YYYY-MM-DD in the integration's zone), signed amount (`-52.40`), currency and
   * counterparty, as discovery saw them; null for receipts discovered before the export log existed. */
  transactionDate: string | null;
  amount: string | null;
  currency: string | null;
  counterparty: string | null;
  /** Lowercase hex SHA-256 of the bytes last uploaded (computed while streaming them). */
  sha256: string | null;
  /** First and last time the file was seen intact in the drive (upload verified, drive check). */
  exportedAt: string | null;
  verifiedAt: string | null;
  /** When a drive check found the file's content changed (its quickXorHash no longer ours); null
   * again once it is uploaded anew. */
  changedAt: string | null;
  /** How often it was exported again after the user deleted the file. */
  reimports: number;
  kind: FileKind;
  /** On a receipt's row: where its probative copy stands, while the option is on (null otherwise, and
   * on a copy's own row). For the export log: `available` (its copy has a row of its own), `pending`
   * (looked at again at every run), `unavailable` (Qonto makes none). */
  probativeStatus: ProbativeStatus | null;
  /** The download link discovery saw, sealed (activities/download-link.ts), and when (ISO); null once
   * the file is exported. */
  downloadLink: Buffer | null;
  downloadLinkAt: string | null;
}

/** What discovery learnt of a receipt's probative copy (size: of an available copy). */
export interface ProbativeUpdate {
  attachmentId: string;
  status: ProbativeStatus;
  size: number | null;
}

/** What discovery knows about a receipt before it is exported. */
export type DiscoveredReceipt = Pick<
  ManifestEntry,
  'attachmentId' | 'transactionId' | 'bankAccountId' | 'folderPath' | 'fileName' | 'size'
> &
  Partial<Pick<ManifestEntry, 'transactionDate' | 'amount' | 'currency' | 'counterparty'>> & {
  /** Used instead of fileName when another receipt already has that name in the folder (case-insensitively). */
  fallbackFileName: string;
} & (
    | { downloadLink?: undefined; downloadLinkAt?: undefined }
    /** Its download link, sealed, and when it was fetched from Qonto (ISO; its expiry counts from
     * then): kept with a new receipt (a known one keeps what it has). */
    | { downloadLink: Buffer; downloadLinkAt: string }
  );

/** One file of the export log: a manifest row as the log shows it (docs/export-log.md). */
export type ExportLogRow = Pick<
  ManifestEntry,
  | 'attachmentId'
  | 'transactionId'
  | 'transactionDate'
  | 'amount'
  | 'currency'
  | 'counterparty'
  | 'bankAccountId'
  | 'folderPath'
  | 'fileName'
  | 'size'
  | 'sha256'
  | 'quickXorHash'
  | 'exportedAt'
  | 'verifiedAt'
  | 'changedAt'
  | 'state'
  | 'reimports'
  | 'kind'
  | 'probativeStatus'
>;

/** Transaction dates, YYYY-MM-DD, both inclusive; a bound given leaves out rows without a date. */
export interface ExportLogRange {
  from?: string;
  to?: string;
  /** Only the receipts of this period folder (`<account>/<YYYY>/<YYYY-MM>`, as recorded). */
  folderPath?: string;
}

/** Which report of a period folder (docs/export-log.md and docs/missing-receipts.md). */
export type DriveReportKind = 'export-log' | 'missing-receipts';

/** What was last written as one report of one period folder. */
export interface DriveReportFingerprint {
  folderPath: string;
  report: DriveReportKind;
  fingerprint: string;
}

export interface ManifestCounts {
  exported: number;
  failed: number;
  pending: number;
  dismissed: number;
  pendingBytes: number;
}

export interface FolderCounts {
  folderPath: string;
  exported: number;
  failed: number;
  pending: number;
  dismissed: number;
  exportedBytes: number;
}

/** What discovery records of a transaction: enough to list it while its receipt is missing. */
export interface TransactionRecord {
  /** Qonto's transaction `id` (the manifest's transactionId). */
  transactionId: string;
  bankAccountId: string;
  /** The business account as its folder is named (AccountRef.folderName). */
  accountName: string;
  /** `emitted_at`, as a UTC ISO instant. */
  emittedAt: string;
  /** Day and month (`YYYY-MM-DD`, `YYYY-MM`) of `emittedAt` in the integration's zone. */
  localDate: string;
  period: string;
  /** Signed: a debit is negative, as in the file names. */
  amountCents: number;
  currency: string;
  counterparty: string;
  status: string;
  required: boolean;
  lost: boolean;
  /** Receipts attached in Qonto when it was last seen. */
  attachments: number;
}

/** A completed transaction without a receipt that requires one, or whose receipt was declared lost. */
export interface MissingReceipt {
  transactionId: string;
  /** `YYYY-MM-DD` in the integration's zone. */
  date: string;
  amountCents: number;
  currency: string;
  counterparty: string;
  account: string;
  period: string;
  lost: boolean;
}

/** How many receipts are missing in one period of one business account (lost ones included). */
export interface MissingCount {
  period: string;
  account: string;
  missing: number;
  /** Of `missing`, those declared lost. */
  lost: number;
}

/** A fleet-wide rate budget's windows (docs/rate-budget.md): at most `limit` requests in any
 * sliding `windowMs`. `burst[i]` is window i's burst (default limit/10 for a window up to 10 s,
 * limit/30 above); `slackMs` is the jitter allowed between a slot and the request's arrival (1 s). */
export interface BudgetParams {
  windows: { windowMs: number; limit: number }[];
  burst?: number[];
  slackMs?: number;
}

/** A reservation: granted, send after `waitMs` (the database's clock), under hold `epoch`; or refused
 * because the slot lies more than the caller's `maxWaitMs` away (nothing was reserved). */
export type RateReservation = { granted: true; waitMs: number; epoch: number } | { granted: false; retryInMs: number };

export interface Store {
  /** Alert records, their mails and the person they go to (alert-store.ts). */
  readonly alerts: AlertStore;
  createIntegration(input: { id: string; status?: IntegrationStatus; organizationId?: string | null }): Promise<Integration>;
  getIntegration(id: string): Promise<Integration | null>;
  /** Removes an integration with everything stored for it (a pending one merged into another). */
  deleteIntegration(id: string): Promise<void>;
  listIntegrations(): Promise<Integration[]>;
  updateIntegration(
    id: string,
    /** `revokedReason`: the first one given stays (consent is withdrawn once). */
    patch: Partial<Pick<Integration, 'status' | 'syncFrom' | 'timeZone' | 'microsoftAccount' | 'probativeCopies' | 'revokedReason'>>,
  ): Promise<Integration>;

  /** Encrypted, opaque token cache (MSAL serialisation, Qonto OAuth tokens) per integration and provider. */
  getTokenCache(integrationId: string, provider: 'microsoft' | 'qonto'): Promise<Buffer | null>;
  /** Stores the sealed tokens, unless the integration is revoked or gone: then nothing is written and
   * TokensRefusedError is thrown, decided in the same statement (or under the same lock) as the write,
   * so a refresh that was in flight in another process cannot bring withdrawn tokens back. */
  putTokenCache(integrationId: string, provider: 'microsoft' | 'qonto', sealed: Buffer): Promise<void>;
  /** Runs `run` holding the lock of this integration's `provider` tokens, across every process that
   * shares the store (read-refresh-store of a rotating refresh token happens once at a time). The
   * embedded SQLite store serves one host: callers serialise in process, this just runs `run`. */
  withTokenLock<T>(integrationId: string, provider: 'microsoft' | 'qonto', run: () => Promise<T>): Promise<T>;
  deleteTokenCaches(integrationId: string): Promise<void>;

  /** Inserts unknown receipts as pending; known ones keep their state. Returns how many were new. */
  upsertDiscovered(integrationId: string, receipts: DiscoveredReceipt[]): Promise<number>;
  getEntry(integrationId: string, attachmentId: string): Promise<ManifestEntry | null>;
  /** Records where the probative copies of known receipts stand; an available one gets a row of its
   * own (pending, or dismissed with its receipt's deleted folder) named after its receipt's recorded
   * name (probativeFileName, or its fallback when that is taken). Known copies keep their state.
   * Returns how many copies were new. */
  recordProbative(integrationId: string, updates: ProbativeUpdate[]): Promise<number>;
  /** Receipts of the account whose copy is still pending (not dismissed), in discovery order. */
  pendingProbative(integrationId: string, bankAccountId: string, limit: number): Promise<string[]>;
  /** The option is off: forgets the account's copies (their files stay in the drive, untracked) and
   * the statuses. Hands back how many rows went, and the upload sessions they held. */
  forgetProbative(integrationId: string, bankAccountId: string): Promise<{ forgotten: number; uploadUrls: string[] }>;
  /** Receipts to export now: pending, plus failed ones not failed in `runNumber`. Stable order. With
   * `transactionIds`, only the files of these transactions (an incremental run; at most a few thousand). */
  nextToExport(integrationId: string, runNumber: number, limit: number, transactionIds?: readonly string[]): Promise<ManifestEntry[]>;
  /** How many receipts `nextToExport` would still return for this run. */
  countToExport(integrationId: string, runNumber: number, transactionIds?: readonly string[]): Promise<number>;
  /** Drive item ids of every receipt believed to be in the drive (for a full re-scan after delta expiry). */
  uploadedItemIds(integrationId: string): Promise<string[]>;
  updateEntry(
    integrationId: string,
    attachmentId: string,
    patch: Partial<Omit<ManifestEntry, 'integrationId' | 'attachmentId'>>,
  ): Promise<void>;
  /** `updateEntry` of several entries, in one transaction. */
  updateEntries(
    integrationId: string,
    updates: readonly { attachmentId: string; patch: Partial<Omit<ManifestEntry, 'integrationId' | 'attachmentId'>> }[],
  ): Promise<void>;
  findByDriveItemIds(integrationId: string, driveItemIds: string[]): Promise<ManifestEntry[]>;
  /** Marks every non-dismissed entry whose folder is `folderPath` or below it (paths compared
   * case-insensitively, as OneDrive does) as dismissed. Hands back
   * how many, and the upload sessions they held (forgotten here: the caller cancels them on the drive). */
  dismissUnder(integrationId: string, folderPath: string): Promise<{ dismissed: number; uploadUrls: string[] }>;
  /** Reconfiguration: dismissed and failed entries become pending again. */
  reviveAll(integrationId: string): Promise<number>;
  counts(integrationId: string): Promise<ManifestCounts>;
  /** Every receipt of the integration for the export log, by transaction date then attachment id,
   * read in keyset pages of `pageSize` rows: the caller never holds more than a page. */
  exportLog(integrationId: string, range: ExportLogRange, pageSize?: number): AsyncIterable<ExportLogRow>;
  /** The drive check saw every exported receipt intact (but those whose content it found changed) at
   * `at`. Recorded once for the integration; the export log shows it as their verifiedAt where it is
   * later than their own (the manifest's verifiedAt is the upload's). */
  markVerified(integrationId: string, at: string): Promise<void>;
  /** Receipts per period folder (`<account>/<YYYY>/<YYYY-MM>`), sorted by path. */
  folderCounts(integrationId: string): Promise<FolderCounts[]>;

  /** Records what discovery saw of these transactions, replacing what it saw before. */
  upsertTransactions(integrationId: string, transactions: TransactionRecord[]): Promise<void>;
  /** Completed transactions of `syncFrom` (`YYYY-MM-DD`, local) or later without any receipt that require
   * one or whose receipt was declared lost; by period, account, date. */
  missingReceipts(integrationId: string, syncFrom: string): Promise<MissingReceipt[]>;
  /** The same transactions for the export log, those dated within `range` only, by date then
   * transaction id, read in keyset pages of `pageSize` rows (the caller never holds more than a page). */
  missingLog(integrationId: string, syncFrom: string, range: ExportLogRange, pageSize?: number): AsyncIterable<MissingReceipt>;
  /** The same, counted per period and account (period order, then account). */
  missingByPeriod(integrationId: string, syncFrom: string): Promise<MissingCount[]>;
  /** Whether discovery has recorded any transaction of this account yet. */
  hasTransactions(integrationId: string, bankAccountId: string): Promise<boolean>;

  /** Drive folder ids by path below the app folder (a cache: the drive is the truth). */
  getFolder(integrationId: string, path: string): Promise<string | null>;
  putFolder(integrationId: string, path: string, driveItemId: string): Promise<void>;
  /** Folders with one of these ids, with their paths (to recognise deleted folders in delta). */
  findFoldersByIds(integrationId: string, driveItemIds: string[]): Promise<{ path: string; driveItemId: string }[]>;
  listFolders(integrationId: string): Promise<{ path: string; driveItemId: string }[]>;
  /** Forgets the folder and every folder below it (case-insensitively, as dismissUnder), and the
   * fingerprints of the reports written into them (the files went with the folder). */
  forgetFoldersUnder(integrationId: string, path: string): Promise<void>;

  /** The fingerprints of the reports written into period folders. */
  driveReports(integrationId: string): Promise<DriveReportFingerprint[]>;
  /** Records what was just written as a report (replacing the fingerprint before it). */
  putDriveReport(integrationId: string, written: DriveReportFingerprint): Promise<void>;

  /** A Microsoft sign-in under way: its `state`, and the sealed PKCE verifier. Single use. */
  putSignIn(state: string, signIn: { integrationId: string; sealed: Buffer; expiresAt: number }): Promise<void>;
  /** Returns and deletes the sign-in (null when unknown, used or expired). */
  takeSignIn(state: string, now: number): Promise<{ integrationId: string; sealed: Buffer } | null>;

  /** "Sign in with Qonto": the member's Qonto tokens, sealed, until one integration takes them (Qonto
   * refresh tokens rotate, so two integrations must never share one). */
  putQontoSignIn(id: string, signIn: { sealed: Buffer; expiresAt: number }): Promise<void>;
  /** Returns and deletes them in one atomic step, so that of concurrent takes (from any process) exactly
   * one gets them; null when unknown, taken or expired. */
  takeQontoSignIn(id: string, now: number): Promise<Buffer | null>;
  /** API-key mode: admin session cookies carry this number; only cookies with the current one are valid. */
  adminSessionEpoch(): Promise<number>;
  /** Ends every admin session issued so far (sign-out); returns the new epoch. */
  bumpAdminSessionEpoch(): Promise<number>;

  /** Writes the given fields of the integration's webhook subscription row (`integrationId` and
   * `updatedAt` are the store's). A row is created only when `state` is given; a revoked row is final
   * and stays as it is (decided in the statement, so a subscription attempt still under way cannot
   * bring it back). */
  putWebhookSubscription(integrationId: string, row: Partial<WebhookSubscriptionRow>): Promise<void>;
  getWebhookSubscription(integrationId: string): Promise<WebhookSubscriptionRow | null>;
  /** The sealed secret of a subscription, whatever its state (a revoked one verifies late retries);
   * null when unknown or without a secret. */
  webhookSecrets(subscriptionId: string): Promise<{ integrationId: string; sealedSecret: Buffer; state: WebhookState } | null>;
  /** Integrations subscribed (active or manual) to this organization's events that are not revoked. */
  integrationsOfOrganization(organizationId: string): Promise<string[]>;
  /** Records a delivered event once: 'new' for the first delivery of its id to its subscription, from
   * any process, and 'duplicate' after. A new one sets `lastEventAt` of its subscription's row, or when
   * it names none, of every row of its organization, unless the stored time is less than 10 s older. */
  recordWebhookEvent(e: WebhookEventRecord): Promise<'new' | 'duplicate'>;
  /** Forgets the events received before `before` (ISO instant); returns how many. */
  pruneWebhookEvents(before: string): Promise<number>;
  /** Compare-and-set ending a subscription attempt: the row becomes `active` with these fields only
   * while it is still `creating` with this attempt's sealed secret; false when another attempt
   * replaced it, or it was revoked, meanwhile (the row then stays as it is). */
  activateWebhookSubscription(
    integrationId: string,
    sealedSecret: Buffer,
    fields: Pick<WebhookSubscriptionRow, 'subscriptionId' | 'organizationId' | 'membershipId'>,
  ): Promise<boolean>;

  /** Reserves `permits` send slots of budget `name` (its row is created on first use), in one
   * transaction on the database's clock: granted in the order the row's lock is taken, across
   * processes. Beyond `maxWaitMs` nothing is reserved. The caller sleeps `waitMs` outside it. */
  reserveRate(name: string, permits: number, params: BudgetParams, maxWaitMs: number): Promise<RateReservation>;
  /** A 429: no slot of `name` starts before now + the wait (`waitMs`, the Retry-After; null: computed
   * from the holds in a row, `computed` bounds, with jitter). A 429 to a request sent under an older
   * epoch than the current (`sentEpoch`) may lengthen the hold but is not another hold in a row.
   * `holdUntilMs`: the hold's end on the database's clock, as stored (optional for stand-ins in tests). */
  holdRate(name: string, waitMs: number | null, sentEpoch: number, computed: { baseMs: number; maxMs: number }): Promise<{ holdMs: number; epoch: number; holdUntilMs?: number }>;
  /** The current hold of `name`: its epoch and how long it still lasts (0 when none). */
  rateHold(name: string): Promise<{ epoch: number; remainingMs: number }>;
  /** The first success after the hold of `epoch`: the holds in a row start again from zero. */
  clearRateHolds(name: string, epoch: number): Promise<void>;

  /** A cheap round trip to the database (readiness); throws when it does not answer. */
  ping(): Promise<void>;
  close(): Promise<void>;
}
