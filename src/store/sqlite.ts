import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { MIGRATIONS } from './migrations.js';
import type {
  DiscoveredReceipt,
  FolderCounts,
  Integration,
  IntegrationStatus,
  ManifestCounts,
  ManifestEntry,
  MicrosoftAccount,
  Store,
} from './types.js';

interface IntegrationRow {
  id: string;
  organization_id: string | null;
  status: string;
  sync_from: string | null;
  time_zone: string | null;
  microsoft_account: string | null;
  created_at: string;
  updated_at: string;
}

interface ManifestRow {
  integration_id: string;
  attachment_id: string;
  transaction_id: string;
  bank_account_id: string;
  folder_path: string;
  file_name: string;
  size: number;
  state: ManifestEntry['state'];
  drive_item_id: string | null;
  folder_id: string | null;
  quick_xor_hash: string | null;
  upload_url: string | null;
  attempts: number;
  throttled_tries: number;
  failed_in_run: number | null;
  last_error: string | null;
  updated_at: string;
}

const ENTRY_COLUMNS: Record<keyof Omit<ManifestEntry, 'integrationId' | 'attachmentId'>, string> = {
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
};

const now = () => new Date().toISOString();

function toIntegration(row: IntegrationRow): Integration {
  return {
    id: row.id,
    organizationId: row.organization_id,
    status: row.status as IntegrationStatus,
    syncFrom: row.sync_from,
    timeZone: row.time_zone,
    microsoftAccount: row.microsoft_account ? (JSON.parse(row.microsoft_account) as MicrosoftAccount) : null,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

function toEntry(row: ManifestRow): ManifestEntry {
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
  };
}

/** `LIKE` pattern matching every path strictly below `path`. */
function below(path: string): string {
  return `${path.replace(/[\\%_]/g, (c) => `\\${c}`)}/%`;
}

/**
 * SQLite store. better-sqlite3 is synchronous; the async interface is kept for Postgres. WAL mode lets
 * the API process and several worker processes on one machine share the file.
 */
export function openSqliteStore(file: string): Store {
  if (file !== ':memory:') mkdirSync(dirname(file), { recursive: true });
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma('busy_timeout = 5000');
  db.pragma('foreign_keys = ON');
  migrate(db);

  const getIntegration = db.prepare<[string], IntegrationRow>('SELECT * FROM integrations WHERE id = ?');
  const insertReceipt = db.prepare(
    `INSERT INTO manifest (integration_id, attachment_id, transaction_id, bank_account_id, folder_path, file_name, size,
       state, seq, updated_at)
     VALUES (@integrationId, @attachmentId, @transactionId, @bankAccountId, @folderPath, @fileName, @size, 'pending',
       (SELECT COALESCE(MAX(seq), 0) + 1 FROM manifest WHERE integration_id = @integrationId), @now)
     ON CONFLICT (integration_id, attachment_id) DO NOTHING`,
  );
  const upsertMany = db.transaction((integrationId: string, receipts: DiscoveredReceipt[]) => {
    let inserted = 0;
    const at = now();
    for (const { fallbackFileName, ...r } of receipts) {
      try {
        inserted += insertReceipt.run({ ...r, integrationId, now: at }).changes;
      } catch (error) {
        if (!isPathClash(error)) throw error;
        inserted += insertReceipt.run({ ...r, fileName: fallbackFileName, integrationId, now: at }).changes;
      }
    }
    return inserted;
  });

  return {
    async createIntegration({ id, status = 'connecting', organizationId = null }) {
      const at = now();
      db.prepare(
        `INSERT INTO integrations (id, status, organization_id, created_at, updated_at) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (id) DO NOTHING`,
      ).run(id, status, organizationId, at, at);
      return toIntegration(getIntegration.get(id)!);
    },
    async getIntegration(id) {
      const row = getIntegration.get(id);
      return row ? toIntegration(row) : null;
    },
    async deleteIntegration(id) {
      db.prepare('DELETE FROM integrations WHERE id = ?').run(id);
    },
    async listIntegrations() {
      return db.prepare<[], IntegrationRow>('SELECT * FROM integrations ORDER BY created_at, id').all().map(toIntegration);
    },
    async updateIntegration(id, patch) {
      const sets: string[] = [];
      const values: unknown[] = [];
      const set = (column: string, value: unknown) => {
        sets.push(`${column} = ?`);
        values.push(value);
      };
      if (patch.status !== undefined) set('status', patch.status);
      if (patch.syncFrom !== undefined) set('sync_from', patch.syncFrom);
      if (patch.timeZone !== undefined) set('time_zone', patch.timeZone);
      if (patch.microsoftAccount !== undefined)
        set('microsoft_account', patch.microsoftAccount ? JSON.stringify(patch.microsoftAccount) : null);
      sets.push('updated_at = ?');
      values.push(now(), id);
      const { changes } = db.prepare(`UPDATE integrations SET ${sets.join(', ')} WHERE id = ?`).run(...values);
      if (changes === 0) throw new Error(`integration ${id} does not exist`);
      return toIntegration(getIntegration.get(id)!);
    },

    async getTokenCache(integrationId, provider) {
      const row = db
        .prepare<[string, string], { sealed: Buffer }>(
          'SELECT sealed FROM token_caches WHERE integration_id = ? AND provider = ?',
        )
        .get(integrationId, provider);
      return row ? row.sealed : null;
    },
    async putTokenCache(integrationId, provider, sealed) {
      db.prepare(
        `INSERT INTO token_caches (integration_id, provider, sealed, updated_at) VALUES (?, ?, ?, ?)
         ON CONFLICT (integration_id, provider) DO UPDATE SET sealed = excluded.sealed, updated_at = excluded.updated_at`,
      ).run(integrationId, provider, sealed, now());
    },
    async withTokenLock(_integrationId, _provider, run) {
      return run();
    },
    async deleteTokenCaches(integrationId) {
      db.prepare('DELETE FROM token_caches WHERE integration_id = ?').run(integrationId);
    },

    async upsertDiscovered(integrationId, receipts) {
      return upsertMany(integrationId, receipts);
    },
    async getEntry(integrationId, attachmentId) {
      const row = db
        .prepare<[string, string], ManifestRow>('SELECT * FROM manifest WHERE integration_id = ? AND attachment_id = ?')
        .get(integrationId, attachmentId);
      return row ? toEntry(row) : null;
    },
    async nextToExport(integrationId, runNumber, limit) {
      return db
        .prepare<[string, number, number], ManifestRow>(
          `SELECT * FROM manifest WHERE integration_id = ?
             AND (state = 'pending' OR (state = 'failed' AND (failed_in_run IS NULL OR failed_in_run <> ?)))
           ORDER BY seq LIMIT ?`,
        )
        .all(integrationId, runNumber, limit)
        .map(toEntry);
    },
    async countToExport(integrationId, runNumber) {
      return db
        .prepare<[string, number], { n: number }>(
          `SELECT COUNT(*) AS n FROM manifest WHERE integration_id = ?
             AND (state = 'pending' OR (state = 'failed' AND (failed_in_run IS NULL OR failed_in_run <> ?)))`,
        )
        .get(integrationId, runNumber)!.n;
    },
    async uploadedItemIds(integrationId) {
      return db
        .prepare<[string], { drive_item_id: string }>(
          `SELECT drive_item_id FROM manifest WHERE integration_id = ? AND state = 'uploaded' AND drive_item_id IS NOT NULL`,
        )
        .all(integrationId)
        .map((r) => r.drive_item_id);
    },
    async updateEntry(integrationId, attachmentId, patch) {
      const entries = Object.entries({ ...patch, updatedAt: now() }) as [keyof typeof ENTRY_COLUMNS, unknown][];
      const sets = entries.map(([k]) => `${ENTRY_COLUMNS[k]} = ?`).join(', ');
      db.prepare(`UPDATE manifest SET ${sets} WHERE integration_id = ? AND attachment_id = ?`).run(
        ...entries.map(([, v]) => v),
        integrationId,
        attachmentId,
      );
    },
    async findByDriveItemIds(integrationId, ids) {
      if (ids.length === 0) return [];
      const found: ManifestEntry[] = [];
      const stmt = db.prepare<[string, string], ManifestRow>(
        'SELECT * FROM manifest WHERE integration_id = ? AND drive_item_id = ?',
      );
      for (const id of ids) found.push(...stmt.all(integrationId, id).map(toEntry));
      return found;
    },
    async dismissUnder(integrationId, folderPath) {
      // '' is the app folder itself: everything below it goes.
      const pattern = folderPath === '' ? '%' : below(folderPath);
      const where = `integration_id = ? AND state <> 'dismissed' AND (folder_path = ? OR folder_path LIKE ? ESCAPE '\\')`;
      return db.transaction(() => {
        const uploadUrls = db
          .prepare<[string, string, string], { upload_url: string }>(`SELECT upload_url FROM manifest WHERE ${where} AND upload_url IS NOT NULL ORDER BY seq`)
          .all(integrationId, folderPath, pattern)
          .map((row) => row.upload_url);
        const dismissed = db
          .prepare(`UPDATE manifest SET state = 'dismissed', drive_item_id = NULL, folder_id = NULL, upload_url = NULL, updated_at = ? WHERE ${where}`)
          .run(now(), integrationId, folderPath, pattern).changes;
        return { dismissed, uploadUrls };
      })();
    },
    async reviveAll(integrationId) {
      return db
        .prepare(
          `UPDATE manifest SET state = 'pending', failed_in_run = NULL, attempts = 0, throttled_tries = 0, updated_at = ?
           WHERE integration_id = ? AND state IN ('dismissed', 'failed')`,
        )
        .run(now(), integrationId).changes;
    },
    async counts(integrationId) {
      const rows = db
        .prepare<[string], { state: string; n: number; bytes: number }>(
          'SELECT state, COUNT(*) AS n, COALESCE(SUM(size), 0) AS bytes FROM manifest WHERE integration_id = ? GROUP BY state',
        )
        .all(integrationId);
      const by = (s: string) => rows.find((r) => r.state === s);
      const result: ManifestCounts = {
        exported: by('uploaded')?.n ?? 0,
        failed: by('failed')?.n ?? 0,
        pending: by('pending')?.n ?? 0,
        dismissed: by('dismissed')?.n ?? 0,
        pendingBytes: (by('pending')?.bytes ?? 0) + (by('failed')?.bytes ?? 0),
      };
      return result;
    },

    async folderCounts(integrationId) {
      return db
        .prepare<[string], FolderCounts>(
          `SELECT folder_path AS folderPath,
                  SUM(state = 'uploaded') AS exported, SUM(state = 'failed') AS failed,
                  SUM(state = 'pending') AS pending, SUM(state = 'dismissed') AS dismissed,
                  COALESCE(SUM(CASE WHEN state = 'uploaded' THEN size END), 0) AS exportedBytes
           FROM manifest WHERE integration_id = ? GROUP BY folder_path ORDER BY folder_path`,
        )
        .all(integrationId);
    },

    async getFolder(integrationId, path) {
      const row = db
        .prepare<[string, string], { drive_item_id: string }>(
          'SELECT drive_item_id FROM folders WHERE integration_id = ? AND path = ?',
        )
        .get(integrationId, path);
      return row?.drive_item_id ?? null;
    },
    async putFolder(integrationId, path, driveItemId) {
      db.prepare(
        `INSERT INTO folders (integration_id, path, drive_item_id) VALUES (?, ?, ?)
         ON CONFLICT (integration_id, path) DO UPDATE SET drive_item_id = excluded.drive_item_id`,
      ).run(integrationId, path, driveItemId);
    },
    async findFoldersByIds(integrationId, ids) {
      if (ids.length === 0) return [];
      const stmt = db.prepare<[string, string], { path: string; drive_item_id: string }>(
        'SELECT path, drive_item_id FROM folders WHERE integration_id = ? AND drive_item_id = ?',
      );
      return ids.flatMap((id) => stmt.all(integrationId, id).map((r) => ({ path: r.path, driveItemId: r.drive_item_id })));
    },
    async listFolders(integrationId) {
      return db
        .prepare<[string], { path: string; drive_item_id: string }>(
          'SELECT path, drive_item_id FROM folders WHERE integration_id = ? ORDER BY path',
        )
        .all(integrationId)
        .map((r) => ({ path: r.path, driveItemId: r.drive_item_id }));
    },
    async forgetFoldersUnder(integrationId, path) {
      const pattern = path === '' ? '%' : below(path);
      db.prepare(`DELETE FROM folders WHERE integration_id = ? AND (path = ? OR path LIKE ? ESCAPE '\\')`).run(
        integrationId,
        path,
        pattern,
      );
    },

    async putSignIn(state, { integrationId, sealed, expiresAt }) {
      db.prepare('INSERT INTO sign_ins (state, integration_id, sealed, expires_at) VALUES (?, ?, ?, ?)').run(
        state,
        integrationId,
        sealed,
        expiresAt,
      );
    },
    async takeSignIn(state, at) {
      return db.transaction(() => {
        db.prepare('DELETE FROM sign_ins WHERE expires_at <= ?').run(at);
        const row = db
          .prepare<[string], { integration_id: string; sealed: Buffer }>('SELECT integration_id, sealed FROM sign_ins WHERE state = ?')
          .get(state);
        if (!row) return null;
        db.prepare('DELETE FROM sign_ins WHERE state = ?').run(state);
        return { integrationId: row.integration_id, sealed: row.sealed };
      })();
    },

    async putQontoSignIn(id, { sealed, expiresAt }) {
      db.prepare('DELETE FROM qonto_sign_ins WHERE expires_at <= ?').run(Date.now());
      db.prepare('INSERT INTO qonto_sign_ins (id, sealed, expires_at) VALUES (?, ?, ?)').run(id, sealed, expiresAt);
    },
    async takeQontoSignIn(id, at) {
      // One statement: the row goes to whichever DELETE runs first, whatever process sent it.
      const row = db
        .prepare<[string, number], { sealed: Buffer }>('DELETE FROM qonto_sign_ins WHERE id = ? AND expires_at > ? RETURNING sealed')
        .get(id, at);
      return row?.sealed ?? null;
    },
    async adminSessionEpoch() {
      return db.prepare<[], { epoch: number }>('SELECT epoch FROM admin_sessions WHERE id = 1').get()!.epoch;
    },
    async bumpAdminSessionEpoch() {
      return db.prepare<[], { epoch: number }>('UPDATE admin_sessions SET epoch = epoch + 1 WHERE id = 1 RETURNING epoch').get()!.epoch;
    },

    async ping() {
      db.prepare('SELECT 1').get();
    },
    async close() {
      db.close();
    },
  };
}

function isPathClash(error: unknown): boolean {
  return error instanceof Error && error.message.includes("index 'manifest_path'");
}

function migrate(db: Database.Database): void {
  const current = db.pragma('user_version', { simple: true }) as number;
  for (let v = current; v < MIGRATIONS.length; v++) {
    db.transaction(() => {
      db.exec(MIGRATIONS[v]!);
      db.pragma(`user_version = ${v + 1}`);
    })();
  }
}
