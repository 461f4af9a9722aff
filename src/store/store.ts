import type { Kysely, Updateable } from 'kysely';
import { sql } from 'kysely';
import { TokensRefusedError } from '../errors.js';
import type { Database, Dialect } from './schema.js';
import type { FolderCounts, ManifestEntry, Store } from './types.js';
import { ENTRY_COLUMNS, EXPORT_LOG_PAGE, now, toEntry, toIntegration, type ManifestRow } from './rows.js';
import { alertStore } from './alert-store.js';
import { atOrBelow, chunks } from './sql-parts.js';
import { retryDeadlock } from './deadlock.js';
import { transactionStatements } from './transactions.js';
import { webhookStatements } from './webhooks.js';
import { rateBudgetStatements } from './rate-budgets.js';
import { folderStatements } from './folders.js';
import { signInStatements } from './sign-ins.js';

import { probativeFileName } from '../sync/naming.js';
import { manifestKey } from '../sync/probative.js';

/** Manifest rows per insert: 16 parameters each stays far below both engines' limits. */
const ROWS_PER_INSERT = 200;

type EntryPatch = Parameters<Store['updateEntry']>[2];

async function updateEntryIn(db: Kysely<Database>, integrationId: string, attachmentId: string, patch: EntryPatch): Promise<void> {
  const set: Updateable<Database['manifest']> = {};
  for (const [key, value] of Object.entries({ ...patch, updatedAt: now() })) {
    if (value !== undefined) Object.assign(set, { [ENTRY_COLUMNS[key as keyof typeof ENTRY_COLUMNS]]: value });
  }
  await db.updateTable('manifest').set(set).where('integration_id', '=', integrationId).where('attachment_id', '=', attachmentId).execute();
}

export interface StoreBackend {
  db: Kysely<Database>;
  dialect: Dialect;
  withTokenLock: <T>(integrationId: string, provider: 'microsoft' | 'qonto', run: () => Promise<T>) => Promise<T>;
  close: () => Promise<void>;
}

/**
 * The store, one definition of every statement for both dialects. What must hold across processes
 * is decided inside the database, each in one statement: takes, upserts, the final revoked status, and
 * token writes that lock the integration's row (docs/store.md).
 */
export function createStore({ db, dialect, withTokenLock, close }: StoreBackend): Store {
  const postgres = dialect === 'postgres';
  const integration = (id: string) => db.selectFrom('integrations').selectAll().where('id', '=', id).executeTakeFirst();
  // A receipt's probative copy carries its receipt's transaction id, so a transaction's files go together.
  const toExport = (integrationId: string, runNumber: number, transactionIds: readonly string[] | undefined) =>
    db
      .selectFrom('manifest')
      .where('integration_id', '=', integrationId)
      .where((eb) =>
        eb.or([
          eb('state', '=', 'pending'),
          eb.and([eb('state', '=', 'failed'), eb.or([eb('failed_in_run', 'is', null), eb('failed_in_run', '<>', runNumber)])]),
        ]),
      )
      .$if(transactionIds !== undefined, (q) => q.where('transaction_id', 'in', [...transactionIds!]));

  return {
    alerts: alertStore(db),
    async createIntegration({ id, status = 'connecting', organizationId = null }) {
      const at = now();
      await db
        .insertInto('integrations')
        .values({ id, status, organization_id: organizationId, created_at: at, updated_at: at })
        .onConflict((oc) => oc.column('id').doNothing())
        .execute();
      return toIntegration((await integration(id))!);
    },
    async getIntegration(id) {
      const row = await integration(id);
      return row ? toIntegration(row) : null;
    },
    async deleteIntegration(id) {
      await db.deleteFrom('integrations').where('id', '=', id).execute();
    },
    async listIntegrations() {
      return (await db.selectFrom('integrations').selectAll().orderBy('created_at').orderBy('id').execute()).map(toIntegration);
    },
    async updateIntegration(id, patch) {
      const row = await db
        .updateTable('integrations')
        .set((eb) => ({
          // Withdrawn consent is final: decided in the statement, whatever a run still reports.
          ...(patch.status !== undefined
            ? { status: eb.case().when('status', '=', 'revoked').then(eb.ref('status')).else(patch.status).end() }
            : {}),
          ...(patch.syncFrom !== undefined ? { sync_from: patch.syncFrom } : {}),
          ...(patch.timeZone !== undefined ? { time_zone: patch.timeZone } : {}),
          ...(patch.microsoftAccount !== undefined
            ? { microsoft_account: patch.microsoftAccount ? JSON.stringify(patch.microsoftAccount) : null }
            : {}),
          ...(patch.probativeCopies !== undefined ? { probative_copies: patch.probativeCopies ? 1 : 0 } : {}),
          // Consent is withdrawn once: a later report (its event arriving after a revoke here) keeps the first reason.
          ...(patch.revokedReason !== undefined ? { revoked_reason: eb.fn.coalesce('revoked_reason', eb.val(patch.revokedReason)) } : {}),
          updated_at: now(),
        }))
        .where('id', '=', id)
        .returningAll()
        .executeTakeFirst();
      if (!row) throw new Error(`integration ${id} does not exist`);
      return toIntegration(row);
    },

    async getTokenCache(integrationId, provider) {
      const row = await db
        .selectFrom('token_caches')
        .select('sealed')
        .where('integration_id', '=', integrationId)
        .where('provider', '=', provider)
        .executeTakeFirst();
      return row ? row.sealed : null;
    },
    async putTokenCache(integrationId, provider, sealed) {
      const at = now();
      // One statement: the row is written only if the integration exists and is not revoked. Postgres
      // (READ COMMITTED): FOR SHARE waits for a revoke that holds the row (UPDATE status, then DELETE
      // tokens) and then re-reads it, so the write either lands before the revoke deletes it or sees
      // `revoked`; without it, the check would use the statement's snapshot and a write could bring
      // back the tokens a revoke had just deleted. SQLite: one writer at a time.
      const result = await db
        .insertInto('token_caches')
        .columns(['integration_id', 'provider', 'sealed', 'updated_at'])
        .expression((eb) =>
          eb
            .selectFrom('integrations')
            .select([
              eb.val(integrationId).as('integration_id'),
              eb.val(provider).as('provider'),
              eb.cast<Buffer>(eb.val(sealed), postgres ? 'bytea' : 'blob').as('sealed'),
              eb.val(at).as('updated_at'),
            ])
            .where('id', '=', integrationId)
            .where('status', '<>', 'revoked')
            .$if(postgres, (q) => q.forShare()),
        )
        .onConflict((oc) =>
          oc.columns(['integration_id', 'provider']).doUpdateSet((eb) => ({ sealed: eb.ref('excluded.sealed'), updated_at: eb.ref('excluded.updated_at') })),
        )
        .executeTakeFirst();
      if (Number(result.numInsertedOrUpdatedRows ?? 0n) === 0) throw new TokensRefusedError(integrationId);
    },
    withTokenLock,
    async deleteTokenCaches(integrationId) {
      await db.deleteFrom('token_caches').where('integration_id', '=', integrationId).execute();
    },

    async upsertDiscovered(integrationId, receipts) {
      if (receipts.length === 0) return 0;
      return db.transaction().execute(async (trx) => {
        const at = now();
        // The first statement writes the integration's row (a no-op): concurrent discoveries of one
        // integration (its accounts listed side by side, on several workers) take turns, Postgres by the
        // row lock, SQLite by the write lock taken before any read. So max(seq), read once, numbers the
        // whole call in the given order, after every page before it.
        await trx
          .updateTable('integrations')
          .set((eb) => ({ updated_at: eb.ref('updated_at') }))
          .where('id', '=', integrationId)
          .execute();
        const top = await trx
          .selectFrom('manifest')
          .select(sql<number>`coalesce(max(seq), 0)`.as('top'))
          .where('integration_id', '=', integrationId)
          .executeTakeFirstOrThrow();
        const firstSeq = Number(top.top) + 1;
        const numbered = receipts.map((r, i) => ({ r, seq: firstSeq + i }));
        // DO NOTHING on any unique key: a known receipt (primary key) keeps its state; a name taken in
        // the folder (manifest_path) gets the fallback name. No statement fails, so a Postgres
        // transaction is never aborted by a clash. Rows of one statement are taken in the given order.
        const insert = async (items: typeof numbered, name: (r: (typeof receipts)[number]) => string) => {
          const added = new Set<string>();
          for (let i = 0; i < items.length; i += ROWS_PER_INSERT) {
            const rows = await trx
              .insertInto('manifest')
              .values(
                items.slice(i, i + ROWS_PER_INSERT).map(({ r, seq }) => ({
                  integration_id: integrationId,
                  attachment_id: r.attachmentId,
                  transaction_id: r.transactionId,
                  bank_account_id: r.bankAccountId,
                  folder_path: r.folderPath,
                  file_name: name(r),
                  size: r.size,
                  transaction_date: r.transactionDate ?? null,
                  amount: r.amount ?? null,
                  currency: r.currency ?? null,
                  counterparty: r.counterparty ?? null,
                  state: 'pending',
                  seq,
                  download_link: r.downloadLink ?? null,
                  download_link_at: r.downloadLinkAt ?? null,
                  updated_at: at,
                })),
              )
              .onConflict((oc) => oc.doNothing())
              .returning('attachment_id')
              .execute();
            for (const row of rows) added.add(row.attachment_id);
          }
          return added;
        };
        const named = await insert(numbered, (r) => r.fileName);
        // Not inserted: known already, or the name is taken.
        const rest = numbered.filter(({ r }) => !named.has(r.attachmentId));
        const known = new Set<string>();
        for (const ids of chunks([...new Set(rest.map(({ r }) => r.attachmentId))])) {
          const rows = await trx
            .selectFrom('manifest')
            .select('attachment_id')
            .where('integration_id', '=', integrationId)
            .where('attachment_id', 'in', ids)
            .execute();
          for (const row of rows) known.add(row.attachment_id);
        }
        const unknown = rest.filter(({ r }) => !known.has(r.attachmentId));
        const fallback = await insert(unknown, (r) => r.fallbackFileName);
        // Neither name free in the folder: a receipt must never be dropped silently.
        const dropped = unknown.find(({ r }) => !fallback.has(r.attachmentId));
        if (dropped) {
          throw new Error(`Receipt ${dropped.r.attachmentId} cannot be recorded: its file name and its fallback name are both taken in its folder`);
        }
        // Known, and discovered before the export log existed: it gets the transaction's fields now,
        // once (afterwards they stay as the file name shows them).
        for (const { r } of rest) {
          if (!known.has(r.attachmentId) || r.amount == null) continue;
          await trx
            .updateTable('manifest')
            .set((eb) => ({
              transaction_date: eb.fn.coalesce('transaction_date', eb.val(r.transactionDate ?? null)),
              amount: r.amount,
              currency: r.currency ?? null,
              counterparty: r.counterparty ?? null,
            }))
            .where('integration_id', '=', integrationId)
            // Its probative copy, recorded from it, lacks them as well.
            .where('attachment_id', 'in', [r.attachmentId, manifestKey(r.attachmentId, 'probative')])
            .where('amount', 'is', null)
            .execute();
        }
        return named.size + fallback.size;
      });
    },
    async getEntry(integrationId, attachmentId) {
      const row = await db
        .selectFrom('manifest')
        .selectAll()
        .where('integration_id', '=', integrationId)
        .where('attachment_id', '=', attachmentId)
        .executeTakeFirst();
      return row ? toEntry(row) : null;
    },
    async recordProbative(integrationId, updates) {
      if (updates.length === 0) return 0;
      return db.transaction().execute(async (trx) => {
        // The page's receipts and the copies already recorded, read at once (not a query per receipt).
        const receipts = new Map<string, ManifestRow>();
        const known = new Set<string>();
        for (const ids of chunks([...new Set(updates.map((u) => u.attachmentId))])) {
          const rows = await trx
            .selectFrom('manifest')
            .selectAll()
            .where('integration_id', '=', integrationId)
            .where('attachment_id', 'in', [...ids, ...ids.map((id) => manifestKey(id, 'probative'))])
            .execute();
          for (const row of rows) {
            if (row.kind === 'original') receipts.set(row.attachment_id, row);
            else known.add(row.attachment_id);
          }
        }
        let inserted = 0;
        for (const u of updates) {
          const receipt = receipts.get(u.attachmentId);
          if (!receipt) continue;
          if (receipt.probative_status !== u.status) {
            await trx
              .updateTable('manifest')
              .set({ probative_status: u.status, updated_at: now() })
              .where('integration_id', '=', integrationId)
              .where('attachment_id', '=', u.attachmentId)
              .execute();
          }
          if (u.status !== 'available' || u.size === null) continue;
          const key = manifestKey(u.attachmentId, 'probative');
          // Known copies keep their state (as upsertDiscovered does for receipts).
          if (known.has(key)) continue;
          // As upsertDiscovered: DO NOTHING on any unique key, so a clash never aborts the transaction.
          const insert = (fileName: string) =>
            trx
              .insertInto('manifest')
              .values((eb) => ({
                integration_id: integrationId,
                attachment_id: key,
                transaction_id: receipt.transaction_id,
                bank_account_id: receipt.bank_account_id,
                folder_path: receipt.folder_path,
                file_name: fileName,
                size: u.size!,
                // The export log shows a copy with its receipt's transaction (date, amount, ...).
                transaction_date: receipt.transaction_date,
                amount: receipt.amount,
                currency: receipt.currency,
                counterparty: receipt.counterparty,
                // A receipt whose folder the user deleted keeps its copy out of the drive too.
                state: receipt.state === 'dismissed' ? 'dismissed' : 'pending',
                kind: 'probative',
                seq: eb
                  .selectFrom('manifest')
                  .select(sql<number>`coalesce(max(seq), 0) + 1`.as('next'))
                  .where('integration_id', '=', integrationId),
                updated_at: now(),
              }))
              .onConflict((oc) => oc.doNothing())
              .executeTakeFirst();
          let added = Number((await insert(probativeFileName(receipt.file_name))).numInsertedOrUpdatedRows ?? 0n);
          if (added === 0) added = Number((await insert(probativeFileName(receipt.file_name, u.attachmentId))).numInsertedOrUpdatedRows ?? 0n);
          if (added === 0) {
            const recorded = await trx
              .selectFrom('manifest')
              .select('attachment_id')
              .where('integration_id', '=', integrationId)
              .where('attachment_id', '=', key)
              .executeTakeFirst();
            if (!recorded) throw new Error(`The probative copy of receipt ${u.attachmentId} cannot be recorded: its file name and its fallback name are both taken in its folder`);
          }
          inserted += added;
        }
        return inserted;
      });
    },
    async pendingProbative(integrationId, bankAccountId, limit) {
      const rows = await db
        .selectFrom('manifest')
        .select('attachment_id')
        .where('integration_id', '=', integrationId)
        .where('bank_account_id', '=', bankAccountId)
        .where('probative_status', '=', 'pending')
        .where('kind', '=', 'original')
        .where('state', '<>', 'dismissed')
        .orderBy('seq')
        .orderBy('attachment_id')
        .limit(limit)
        .execute();
      return rows.map((r) => r.attachment_id);
    },
    async forgetProbative(integrationId, bankAccountId) {
      return db.transaction().execute(async (trx) => {
        const copies = await trx
          .selectFrom('manifest')
          .select('upload_url')
          .where('integration_id', '=', integrationId)
          .where('bank_account_id', '=', bankAccountId)
          .where('kind', '=', 'probative')
          .where('upload_url', 'is not', null)
          .orderBy('seq')
          .orderBy('attachment_id')
          .$if(postgres, (q) => q.forUpdate())
          .execute();
        const deleted = await trx
          .deleteFrom('manifest')
          .where('integration_id', '=', integrationId)
          .where('bank_account_id', '=', bankAccountId)
          .where('kind', '=', 'probative')
          .executeTakeFirst();
        await trx
          .updateTable('manifest')
          .set({ probative_status: null, updated_at: now() })
          .where('integration_id', '=', integrationId)
          .where('bank_account_id', '=', bankAccountId)
          .where('probative_status', 'is not', null)
          .execute();
        return { forgotten: Number(deleted.numDeletedRows), uploadUrls: copies.map((r) => r.upload_url!) };
      });
    },
    async nextToExport(integrationId, runNumber, limit, transactionIds) {
      if (transactionIds?.length === 0) return [];
      const rows = await toExport(integrationId, runNumber, transactionIds).selectAll().orderBy('seq').orderBy('attachment_id').limit(limit).execute();
      return rows.map(toEntry);
    },
    async countToExport(integrationId, runNumber, transactionIds) {
      if (transactionIds?.length === 0) return 0;
      const row = await toExport(integrationId, runNumber, transactionIds)
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .executeTakeFirstOrThrow();
      return Number(row.n);
    },
    async uploadedItemIds(integrationId) {
      const rows = await db
        .selectFrom('manifest')
        .select('drive_item_id')
        .where('integration_id', '=', integrationId)
        .where('state', '=', 'uploaded')
        .where('drive_item_id', 'is not', null)
        .execute();
      return rows.map((r) => r.drive_item_id!);
    },
    async updateEntry(integrationId, attachmentId, patch) {
      await updateEntryIn(db, integrationId, attachmentId, patch);
    },
    async updateEntries(integrationId, updates) {
      if (updates.length === 0) return;
      await retryDeadlock(() => db.transaction().execute(async (trx) => {
        // Postgres: the rows are locked first, in attachment_id order, as dismissUnder does. Updated in
        // the order given (upload-finish order), two such transactions (a retried attempt's, a
        // dismissal's) could each hold a row the other waits for: a deadlock.
        if (postgres) {
          for (const ids of chunks([...new Set(updates.map((u) => u.attachmentId))])) {
            await trx
              .selectFrom('manifest')
              .select('attachment_id')
              .where('integration_id', '=', integrationId)
              .where('attachment_id', 'in', ids)
              .orderBy('attachment_id')
              .forUpdate()
              .execute();
          }
        }
        for (const { attachmentId, patch } of updates) await updateEntryIn(trx, integrationId, attachmentId, patch);
      }));
    },
    async findByDriveItemIds(integrationId, ids) {
      const found: ManifestEntry[] = [];
      for (const some of chunks([...new Set(ids)])) {
        const rows = await db
          .selectFrom('manifest')
          .selectAll()
          .where('integration_id', '=', integrationId)
          .where('drive_item_id', 'in', some)
          .orderBy('seq')
          .orderBy('attachment_id')
          .execute();
        found.push(...rows.map(toEntry));
      }
      return found;
    },
    async dismissUnder(integrationId, folderPath) {
      return retryDeadlock(() => db.transaction().execute(async (trx) => {
        const under = () => atOrBelow('folder_path', folderPath);
        // Postgres: every row going is locked first, in attachment_id order (the order updateEntries
        // locks in, so neither waits on the other in a cycle); an upload starting meanwhile on another
        // worker waits, its session is handed back.
        const rows = await trx
          .selectFrom('manifest')
          .select('upload_url')
          .where('integration_id', '=', integrationId)
          .where('state', '<>', 'dismissed')
          .where(under())
          .orderBy('attachment_id')
          .$if(postgres, (q) => q.forUpdate())
          .execute();
        const sessions = rows.filter((r) => r.upload_url !== null);
        const result = await trx
          .updateTable('manifest')
          .set({ state: 'dismissed', drive_item_id: null, folder_id: null, upload_url: null, updated_at: now() })
          .where('integration_id', '=', integrationId)
          .where('state', '<>', 'dismissed')
          .where(under())
          .executeTakeFirst();
        return { dismissed: Number(result.numUpdatedRows), uploadUrls: sessions.map((r) => r.upload_url!) };
      }));
    },
    async reviveAll(integrationId) {
      const result = await db
        .updateTable('manifest')
        .set({ state: 'pending', failed_in_run: null, attempts: 0, throttled_tries: 0, updated_at: now() })
        .where('integration_id', '=', integrationId)
        .where('state', 'in', ['dismissed', 'failed'])
        .executeTakeFirst();
      return Number(result.numUpdatedRows);
    },
    async counts(integrationId) {
      const rows = await db
        .selectFrom('manifest')
        .select((eb) => ['state', eb.fn.countAll<number>().as('n'), eb.fn.coalesce(eb.fn.sum<number>('size'), eb.lit(0)).as('bytes')])
        .where('integration_id', '=', integrationId)
        .groupBy('state')
        .execute();
      const by = (state: string) => rows.find((r) => r.state === state);
      const n = (state: string) => Number(by(state)?.n ?? 0);
      const bytes = (state: string) => Number(by(state)?.bytes ?? 0);
      return {
        exported: n('uploaded'),
        failed: n('failed'),
        pending: n('pending'),
        dismissed: n('dismissed'),
        pendingBytes: bytes('pending') + bytes('failed'),
      };
    },
    async *exportLog(integrationId, { from, to, folderPath }, pageSize = EXPORT_LOG_PAGE) {
      // Keyset paging: each page starts after the last row of the one before, so a page costs the
      // same at the end of a long log as at its start, and rows that change meanwhile are never
      // read twice or skipped (the key of a row, its date and id, never changes).
      const day = sql<string>`coalesce(transaction_date, '')`;
      type Key = { day: string; id: string };
      let after: Key | null = null;
      // An exported file the last drive check did not see changed was intact then (markVerified).
      const checked = (await db.selectFrom('integrations').select('drive_checked_at').where('id', '=', integrationId).executeTakeFirst())?.drive_checked_at ?? null;
      const verified = (r: { state: string; changed_at: string | null; verified_at: string | null }) =>
        r.state === 'uploaded' && r.changed_at === null && checked !== null && (r.verified_at === null || checked > r.verified_at) ? checked : r.verified_at;
      for (;;) {
        const last: Key | null = after;
        const rows = await db
          .selectFrom('manifest')
          .select([
            'attachment_id', 'transaction_id', 'transaction_date', 'amount', 'currency', 'counterparty', 'bank_account_id',
            'folder_path', 'file_name', 'size', 'sha256', 'quick_xor_hash', 'exported_at', 'verified_at', 'changed_at', 'state', 'reimports',
            'kind', 'probative_status',
          ])
          .where('integration_id', '=', integrationId)
          .$if(from !== undefined, (q) => q.where('transaction_date', '>=', from!))
          .$if(to !== undefined, (q) => q.where('transaction_date', '<=', to!))
          .$if(folderPath !== undefined, (q) => q.where('folder_path', '=', folderPath!))
          .$if(last !== null, (q) =>
            // A row-value comparison, not `day > ? OR (day = ? AND id > ?)`: both engines start the scan
            // of the log's index (manifest_log) at the key, so each page costs the same.
            q.where(sql<boolean>`(${day}, attachment_id) > (${last!.day}, ${last!.id})`),
          )
          .orderBy(day)
          .orderBy('attachment_id')
          .limit(pageSize)
          .execute();
        for (const r of rows) {
          yield {
            attachmentId: r.attachment_id,
            transactionId: r.transaction_id,
            transactionDate: r.transaction_date,
            amount: r.amount,
            currency: r.currency,
            counterparty: r.counterparty,
            bankAccountId: r.bank_account_id,
            folderPath: r.folder_path,
            fileName: r.file_name,
            size: Number(r.size),
            sha256: r.sha256,
            quickXorHash: r.quick_xor_hash,
            exportedAt: r.exported_at,
            verifiedAt: verified(r),
            changedAt: r.changed_at,
            state: r.state,
            reimports: r.reimports,
            kind: r.kind,
            probativeStatus: r.probative_status,
          };
        }
        const end = rows.at(-1);
        if (rows.length < pageSize || end === undefined) return;
        after = { day: end.transaction_date ?? '', id: end.attachment_id };
      }
    },
    async markVerified(integrationId, at) {
      await db.updateTable('integrations').set({ drive_checked_at: at }).where('id', '=', integrationId).execute();
    },
    async folderCounts(integrationId) {
      const rows = await db
        .selectFrom('manifest')
        .select((eb) => {
          const count = (state: ManifestRow['state']) => eb.fn.countAll<number>().filterWhere('state', '=', state);
          return [
            'folder_path',
            count('uploaded').as('exported'),
            count('failed').as('failed'),
            count('pending').as('pending'),
            count('dismissed').as('dismissed'),
            eb.fn.coalesce(eb.fn.sum<number>('size').filterWhere('state', '=', 'uploaded'), eb.lit(0)).as('exported_bytes'),
          ];
        })
        .where('integration_id', '=', integrationId)
        .groupBy('folder_path')
        .orderBy('folder_path')
        .execute();
      return rows.map(
        (r): FolderCounts => ({
          folderPath: r.folder_path,
          exported: Number(r.exported),
          failed: Number(r.failed),
          pending: Number(r.pending),
          dismissed: Number(r.dismissed),
          exportedBytes: Number(r.exported_bytes),
        }),
      );
    },

    ...transactionStatements(db),
    ...webhookStatements(db),
    ...rateBudgetStatements(db, dialect),
    ...folderStatements(db),
    ...signInStatements(db),

    async ping() {
      // Reads a row, so that a store that cannot answer (closed, server gone, schema missing) says so.
      await db.selectFrom('admin_sessions').select('epoch').where('id', '=', 1).executeTakeFirstOrThrow();
    },

    close,
  };
}
