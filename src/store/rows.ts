import type { Selectable } from 'kysely';
import type { Database } from './schema.js';
import type { Integration, IntegrationStatus, ManifestEntry, MicrosoftAccount, RevokedReason } from './types.js';

/** Rows of the store's tables as the domain types of types.ts, and the manifest's column names. */
export type IntegrationRow = Selectable<Database['integrations']>;
export type ManifestRow = Selectable<Database['manifest']>;

export const ENTRY_COLUMNS = {
  transactionId: 'transaction_id',
  bankAccountId: 'bank_account_id',
  folderPath: 'folder_path',
  fileName: 'file_name',
  size: 'size',
  state: 'state',
  driveItemId: 'drive_item_id',
  folderId: 'folder_id',
  quickXorHash: 'quick_xor_hash',
  uploadUrl: 'upload_url',
  attempts: 'attempts',
  throttledTries: 'throttled_tries',
  failedInRun: 'failed_in_run',
  lastError: 'last_error',
  updatedAt: 'updated_at',
  transactionDate: 'transaction_date',
  amount: 'amount',
  currency: 'currency',
  counterparty: 'counterparty',
  sha256: 'sha256',
  exportedAt: 'exported_at',
  verifiedAt: 'verified_at',
  changedAt: 'changed_at',
  reimports: 'reimports',
  kind: 'kind',
  probativeStatus: 'probative_status',
  downloadLink: 'download_link',
  downloadLinkAt: 'download_link_at',
} as const satisfies Record<keyof Omit<ManifestEntry, 'integrationId' | 'attachmentId'>, keyof Database['manifest']>;

/** Bound parameters per statement stay well below both engines' limits (SQLite 32766, Postgres 65535). */
export const IDS_PER_STATEMENT = 500;

/** Rows per page of the export log's reads: a page is a few hundred kilobytes at most. */
export const EXPORT_LOG_PAGE = 500;

export const now = () => new Date().toISOString();

export function toIntegration(row: IntegrationRow): Integration {
  return {
    id: row.id,
    organizationId: row.organization_id,
    status: row.status as IntegrationStatus,
    syncFrom: row.sync_from,
    timeZone: row.time_zone,
    microsoftAccount: row.microsoft_account ? (JSON.parse(row.microsoft_account) as MicrosoftAccount) : null,
    probativeCopies: Number(row.probative_copies) === 1,
    revokedReason: row.revoked_reason as RevokedReason | null,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

export function toEntry(row: ManifestRow): ManifestEntry {
  return {
    integrationId: row.integration_id,
    attachmentId: row.attachment_id,
    transactionId: row.transaction_id,
    bankAccountId: row.bank_account_id,
    folderPath: row.folder_path,
    fileName: row.file_name,
    size: row.size,
    state: row.state,
    driveItemId: row.drive_item_id,
    folderId: row.folder_id,
    quickXorHash: row.quick_xor_hash,
    uploadUrl: row.upload_url,
    attempts: row.attempts,
    throttledTries: row.throttled_tries,
    failedInRun: row.failed_in_run,
    lastError: row.last_error,
    updatedAt: row.updated_at,
    transactionDate: row.transaction_date,
    amount: row.amount,
    currency: row.currency,
    counterparty: row.counterparty,
    sha256: row.sha256,
    exportedAt: row.exported_at,
    verifiedAt: row.verified_at,
    changedAt: row.changed_at,
    reimports: row.reimports,
    kind: row.kind,
    probativeStatus: row.probative_status,
    downloadLink: row.download_link,
    downloadLinkAt: row.download_link_at,
  };
}
