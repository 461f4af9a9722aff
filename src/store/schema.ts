import type { Generated } from 'kysely';
import type { FileKind, ProbativeStatus } from '../sync/probative.js';
import type { ManifestState } from './types.js';

/** The tables as the query builder sees them (column names as stored; both dialects hand back the
 * same JavaScript types: text as string, integers as number, blobs and bytea as Buffer). */
export interface Database {
  integrations: {
    id: string;
    organization_id: string | null;
    status: string;
    sync_from: string | null;
    time_zone: string | null;
    /** JSON of MicrosoftAccount. */
    microsoft_account: string | null;
    /** 0 or 1: export Qonto's probative copies too. */
    probative_copies: Generated<number>;
    created_at: string;
    updated_at: string;
    contact_email: string | null;
    contact_language: string | null;
    last_success_at: string | null;
    /** The last drive check that completed: every exported file it did not see changed was intact then. */
    drive_checked_at: string | null;
    /** Why it was revoked (RevokedReason), null until it is (0012_webhooks). */
    revoked_reason: string | null;
  };
  alerts: {
    integration_id: string;
    condition: string;
    occurrence: string;
    started_at: string;
    resolved_at: string | null;
    /** 1: its mail is owed; 0: shown on the dashboard only (a 90 % that filled up in the same run). */
    mailed: number;
  };
  alert_mails: {
    integration_id: string;
    condition: string;
    occurrence: string;
    kind: string;
    claimed_at: string;
    lease_until: number;
    sent_at: string | null;
    given_up_at: string | null;
  };
  token_caches: {
    integration_id: string;
    provider: string;
    sealed: Buffer;
    updated_at: string;
  };
  manifest: {
    integration_id: string;
    attachment_id: string;
    transaction_id: string;
    bank_account_id: string;
    folder_path: string;
    file_name: string;
    size: number;
    state: ManifestState;
    drive_item_id: string | null;
    folder_id: string | null;
    quick_xor_hash: string | null;
    upload_url: string | null;
    attempts: Generated<number>;
    throttled_tries: Generated<number>;
    failed_in_run: number | null;
    last_error: string | null;
    /** The export log's (0009): YYYY-MM-DD in the integration's zone, signed amount as in the file name. */
    transaction_date: string | null;
    amount: string | null;
    currency: string | null;
    counterparty: string | null;
    sha256: string | null;
    exported_at: string | null;
    verified_at: string | null;
    changed_at: string | null;
    reimports: Generated<number>;
    /** Discovery order (export order); not unique: two workers may number one batch alike. */
    seq: number;
    kind: Generated<FileKind>;
    /** On a receipt's row: where its probative copy stands (null: not asked, the option is off). */
    probative_status: ProbativeStatus | null;
    updated_at: string;
  };
  /** What discovery last saw of each transaction, for the missing-receipts list (0008_transactions). */
  transactions: {
    integration_id: string;
    transaction_id: string;
    bank_account_id: string;
    account_name: string;
    emitted_at: string;
    local_date: string;
    period: string;
    amount_cents: number;
    currency: string;
    counterparty: string;
    status: string;
    /** 0 or 1: one integer type for both dialects. */
    attachment_required: number;
    attachment_lost: number;
    attachments: number;
    updated_at: string;
  };
  /** Per period folder and report, the fingerprint of the file last written there (0011_drive_reports). */
  drive_reports: {
    integration_id: string;
    folder_path: string;
    report: string;
    fingerprint: string;
    written_at: string;
  };
  /** Per integration, its Qonto webhook subscription (0012_webhooks). */
  webhook_subscriptions: {
    integration_id: string;
    subscription_id: string | null;
    organization_id: string | null;
    membership_id: string | null;
    sealed_secret: Buffer | null;
    state: string;
    reason: string | null;
    last_event_at: string | null;
    updated_at: string;
  };
  /** Delivered webhook events, by Qonto's event id: a redelivery is a duplicate (0012_webhooks). */
  webhook_events: {
    id: string;
    subscription_id: string | null;
    organization_id: string;
    type: string;
    received_at: string;
  };
  /** The fleet-wide rate budgets, one row per service (0013_fleet_budget). */
  rate_budgets: {
    name: string;
    /** GCRA theoretical arrival times of the shortest and the longest window (ms, the database's clock). */
    tat_short_ms: Generated<number>;
    tat_long_ms: Generated<number>;
    /** No slot starts before it: the last 429's hold. */
    hold_until_ms: Generated<number>;
    /** Moves with every hold: a reservation made under an older epoch may be inside a newer hold. */
    hold_epoch: Generated<number>;
    holds_in_row: Generated<number>;
    updated_at: string;
  };
  folders: {
    integration_id: string;
    path: string;
    drive_item_id: string;
  };
  sign_ins: {
    state: string;
    integration_id: string;
    sealed: Buffer;
    expires_at: number;
  };
  qonto_sign_ins: {
    id: string;
    sealed: Buffer;
    expires_at: number;
  };
  admin_sessions: {
    id: number;
    epoch: number;
  };
}

export type Dialect = 'sqlite' | 'postgres';
