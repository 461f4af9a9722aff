import { sql, type Kysely } from 'kysely';
import type { Migration, MigrationProvider, Migrator } from 'kysely';
import { logger } from '../logger.js';
import type { Dialect } from './schema.js';

/**
 * Schema migrations for both dialects, written with the query builder's schema builder. Kysely's
 * Migrator records by name which ran (table `kysely_migration`); names sort in the order they apply.
 * Append only: never edit a migration that has shipped.
 *
 * The first six are the SQLite schema as it shipped before, one for one: an SQLite file that recorded
 * them with `PRAGMA user_version` (1..6) is adopted by treating that many as already applied
 * (`legacyApplied`), so it opens without loss.
 */
type Step = (db: Kysely<any>, dialect: Dialect) => Promise<void>; // eslint-disable-line @typescript-eslint/no-explicit-any

/** Column types that differ: sealed bytes, and integers that outgrow 32 bits in Postgres (epoch
 * milliseconds, file sizes). SQLite keeps the declared types of its old schema. */
const types = (dialect: Dialect) =>
  dialect === 'postgres' ? ({ bytes: 'bytea', big: 'bigint' } as const) : ({ bytes: 'blob', big: 'integer' } as const);

const STEPS: readonly [name: string, up: Step][] = [
  [
    '0001_initial',
    async (db, dialect) => {
      const { big } = types(dialect);
      await db.schema
        .createTable('integrations')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('sync_from', 'text')
        .addColumn('time_zone', 'text')
        .addColumn('microsoft_account', 'text')
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('token_caches')
        .addColumn('integration_id', 'text', (c) => c.notNull().references('integrations.id').onDelete('cascade'))
        .addColumn('provider', 'text', (c) => c.notNull())
        .addColumn('sealed', types(dialect).bytes, (c) => c.notNull())
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('token_caches_pk', ['integration_id', 'provider'])
        .execute();
      await db.schema
        .createTable('manifest')
        .addColumn('integration_id', 'text', (c) => c.notNull().references('integrations.id').onDelete('cascade'))
        .addColumn('attachment_id', 'text', (c) => c.notNull())
        .addColumn('transaction_id', 'text', (c) => c.notNull())
        .addColumn('bank_account_id', 'text', (c) => c.notNull())
        .addColumn('folder_path', 'text', (c) => c.notNull())
        .addColumn('file_name', 'text', (c) => c.notNull())
        .addColumn('size', big, (c) => c.notNull())
        .addColumn('state', 'text', (c) => c.notNull())
        .addColumn('drive_item_id', 'text')
        .addColumn('folder_id', 'text')
        .addColumn('quick_xor_hash', 'text')
        .addColumn('upload_url', 'text')
        .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('failed_in_run', 'integer')
        .addColumn('last_error', 'text')
        .addColumn('seq', 'integer', (c) => c.notNull())
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('manifest_pk', ['integration_id', 'attachment_id'])
        .execute();
      await db.schema.createIndex('manifest_state').on('manifest').columns(['integration_id', 'state', 'seq']).execute();
      await db.schema.createIndex('manifest_item').on('manifest').columns(['integration_id', 'drive_item_id']).execute();
      await db.schema.createIndex('manifest_folder').on('manifest').columns(['integration_id', 'folder_path']).execute();
      // One name per folder, case-insensitively (OneDrive's rule): discovery's fallback name relies on it.
      await db.schema
        .createIndex('manifest_path')
        .unique()
        .on('manifest')
        .expression(sql`integration_id, lower(folder_path), lower(file_name)`)
        .execute();
      await db.schema
        .createTable('folders')
        .addColumn('integration_id', 'text', (c) => c.notNull().references('integrations.id').onDelete('cascade'))
        .addColumn('path', 'text', (c) => c.notNull())
        .addColumn('drive_item_id', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('folders_pk', ['integration_id', 'path'])
        .execute();
      await db.schema.createIndex('folders_item').on('folders').columns(['integration_id', 'drive_item_id']).execute();
    },
  ],
  [
    '0002_sign_ins',
    async (db, dialect) => {
      await db.schema
        .createTable('sign_ins')
        .addColumn('state', 'text', (c) => c.primaryKey())
        .addColumn('integration_id', 'text', (c) => c.notNull().references('integrations.id').onDelete('cascade'))
        .addColumn('sealed', types(dialect).bytes, (c) => c.notNull())
        .addColumn('expires_at', types(dialect).big, (c) => c.notNull())
        .execute();
    },
  ],
  [
    '0003_organization_id',
    async (db) => {
      await db.schema.alterTable('integrations').addColumn('organization_id', 'text').execute();
    },
  ],
  [
    '0004_qonto_sign_ins',
    async (db, dialect) => {
      await db.schema
        .createTable('qonto_sign_ins')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('sealed', types(dialect).bytes, (c) => c.notNull())
        .addColumn('expires_at', types(dialect).big, (c) => c.notNull())
        .execute();
    },
  ],
  [
    '0005_admin_sessions',
    async (db) => {
      await db.schema
        .createTable('admin_sessions')
        .addColumn('id', 'integer', (c) => c.primaryKey().check(sql`id = 1`))
        .addColumn('epoch', 'integer', (c) => c.notNull())
        .execute();
      await db.insertInto('admin_sessions').values({ id: 1, epoch: 0 }).execute();
    },
  ],
  [
    '0006_throttled_tries',
    async (db) => {
      await db.schema.alterTable('manifest').addColumn('throttled_tries', 'integer', (c) => c.notNull().defaultTo(0)).execute();
    },
  ],
  [
    '0007_alerts',
    async (db) => {
      // Whom alerts go to, in which language, and the clock of "no successful run for 30 h".
      await db.schema.alterTable('integrations').addColumn('contact_email', 'text').execute();
      await db.schema.alterTable('integrations').addColumn('contact_language', 'text').execute();
      await db.schema.alterTable('integrations').addColumn('last_success_at', 'text').execute();
      // Integrations of an earlier release ran without recording their successes: their clock starts at
      // the upgrade, not at their creation (months ago), or the first failed run would also mail "no
      // successful run for 30 h" whatever yesterday's run did.
      await db
        .updateTable('integrations')
        .set({ last_success_at: new Date().toISOString() })
        .where('status', 'not in', ['connecting', 'revoked'])
        .execute();
      // One row per occurrence of a condition (docs/alerts.md): the dashboard's banner and history.
      await db.schema
        .createTable('alerts')
        .addColumn('integration_id', 'text', (c) => c.notNull().references('integrations.id').onDelete('cascade'))
        .addColumn('condition', 'text', (c) => c.notNull())
        .addColumn('occurrence', 'text', (c) => c.notNull())
        .addColumn('started_at', 'text', (c) => c.notNull())
        .addColumn('resolved_at', 'text')
        .addColumn('mailed', 'integer', (c) => c.notNull())
        .addPrimaryKeyConstraint('alerts_pk', ['integration_id', 'condition', 'occurrence'])
        .execute();
      await db.schema.createIndex('alerts_started').on('alerts').columns(['integration_id', 'started_at']).execute();
      // One row per mail: claimed before it is sent (one attempt at a time, for a lease), marked sent or
      // given up after; a retried activity finds it (docs/alerts.md, Delivery).
      await db.schema
        .createTable('alert_mails')
        .addColumn('integration_id', 'text', (c) => c.notNull().references('integrations.id').onDelete('cascade'))
        .addColumn('condition', 'text', (c) => c.notNull())
        .addColumn('occurrence', 'text', (c) => c.notNull())
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('claimed_at', 'text', (c) => c.notNull())
        // Epoch ms until which the attempt that claimed it may still be sending it (0: released).
        .addColumn('lease_until', 'bigint', (c) => c.notNull())
        .addColumn('sent_at', 'text')
        .addColumn('given_up_at', 'text')
        .addPrimaryKeyConstraint('alert_mails_pk', ['integration_id', 'condition', 'occurrence', 'kind'])
        .execute();
    },
  ],
  [
    '0008_transactions',
    async (db, dialect) => {
      const { big } = types(dialect);
      await db.schema
        .createTable('transactions')
        .addColumn('integration_id', 'text', (c) => c.notNull().references('integrations.id').onDelete('cascade'))
        .addColumn('transaction_id', 'text', (c) => c.notNull())
        .addColumn('bank_account_id', 'text', (c) => c.notNull())
        .addColumn('account_name', 'text', (c) => c.notNull())
        .addColumn('emitted_at', 'text', (c) => c.notNull())
        .addColumn('local_date', 'text', (c) => c.notNull())
        .addColumn('period', 'text', (c) => c.notNull())
        .addColumn('amount_cents', big, (c) => c.notNull())
        .addColumn('currency', 'text', (c) => c.notNull())
        .addColumn('counterparty', 'text', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('attachment_required', 'integer', (c) => c.notNull())
        .addColumn('attachment_lost', 'integer', (c) => c.notNull())
        .addColumn('attachments', 'integer', (c) => c.notNull())
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('transactions_pk', ['integration_id', 'transaction_id'])
        .execute();
      await db.schema.createIndex('transactions_period').on('transactions').columns(['integration_id', 'period', 'account_name']).execute();
    },
  ],
  [
    '0009_export_log',
    async (db) => {
      // What the export log shows and the manifest did not hold. Rows discovered earlier keep nulls,
      // except the transaction date: every receipt's file name starts with it (naming.ts).
      for (const column of ['transaction_date', 'amount', 'currency', 'counterparty', 'sha256', 'exported_at', 'verified_at', 'changed_at']) {
        await db.schema.alterTable('manifest').addColumn(column, 'text').execute();
      }
      await db.schema.alterTable('manifest').addColumn('reimports', 'integer', (c) => c.notNull().defaultTo(0)).execute();
      // One time per integration, not one write per file and day (a drive check vouches for them all).
      await db.schema.alterTable('integrations').addColumn('drive_checked_at', 'text').execute();
      await db
        .updateTable('manifest')
        .set({ transaction_date: sql`substr(file_name, 1, 10)` })
        .where('file_name', 'like', '____-__-__ %')
        .execute();
      // The log's keyset order (exportLog in store.ts).
      await db.schema
        .createIndex('manifest_log')
        .on('manifest')
        .expression(sql`integration_id, coalesce(transaction_date, ''), attachment_id`)
        .execute();
    },
  ],
  [
    // Probative copies (docs/probative-copies.md): the per-integration switch; per manifest row what
    // file it is (a copy is a row of its own), and on a receipt's row where its copy stands.
    '0010_probative',
    async (db) => {
      await db.schema.alterTable('integrations').addColumn('probative_copies', 'integer', (c) => c.notNull().defaultTo(0)).execute();
      await db.schema.alterTable('manifest').addColumn('kind', 'text', (c) => c.notNull().defaultTo('original')).execute();
      await db.schema.alterTable('manifest').addColumn('probative_status', 'text').execute();
      // Each run looks again at the copies still pending, per account.
      await db.schema.createIndex('manifest_probative').on('manifest').columns(['integration_id', 'bank_account_id', 'probative_status']).execute();
      // With the option off (the default) every run forgets an account's copies: finding none must not
      // read every receipt of the account.
      await db.schema.createIndex('manifest_kind').on('manifest').columns(['integration_id', 'bank_account_id', 'kind']).execute();
    },
  ],
  [
    // The reports written into period folders (docs/export-log.md and docs/missing-receipts.md): per
    // folder and report, the fingerprint of what was last written, so an unchanged period is not
    // written again.
    '0011_drive_reports',
    async (db) => {
      await db.schema
        .createTable('drive_reports')
        .addColumn('integration_id', 'text', (c) => c.notNull().references('integrations.id').onDelete('cascade'))
        .addColumn('folder_path', 'text', (c) => c.notNull())
        .addColumn('report', 'text', (c) => c.notNull())
        .addColumn('fingerprint', 'text', (c) => c.notNull())
        .addColumn('written_at', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('drive_reports_pk', ['integration_id', 'folder_path', 'report'])
        .execute();
    },
  ],
  [
    // Qonto webhooks (docs/webhooks.md): per integration, its subscription at Qonto and the sealed
    // secret that verifies its deliveries (kept after revocation, so late retries still verify); the
    // delivered event ids, whose primary key makes a redelivery a duplicate across processes; and why
    // an integration was revoked.
    '0012_webhooks',
    async (db, dialect) => {
      await db.schema
        .createTable('webhook_subscriptions')
        .addColumn('integration_id', 'text', (c) => c.primaryKey().references('integrations.id').onDelete('cascade'))
        .addColumn('subscription_id', 'text', (c) => c.unique())
        .addColumn('organization_id', 'text')
        .addColumn('membership_id', 'text')
        .addColumn('sealed_secret', types(dialect).bytes)
        .addColumn('state', 'text', (c) => c.notNull())
        .addColumn('reason', 'text')
        .addColumn('last_event_at', 'text')
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('webhook_subscriptions_org').on('webhook_subscriptions').column('organization_id').execute();
      await db.schema
        .createTable('webhook_events')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('subscription_id', 'text')
        .addColumn('organization_id', 'text', (c) => c.notNull())
        .addColumn('type', 'text', (c) => c.notNull())
        .addColumn('received_at', 'text', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('webhook_events_received').on('webhook_events').column('received_at').execute();
      await db.schema.alterTable('integrations').addColumn('revoked_reason', 'text').execute();
    },
  ],
  [
    // The fleet-wide rate budgets (docs/rate-budget.md): one row per service, its GCRA arrival times
    // and its hold after a 429, in milliseconds of the database's clock. Doubles, not bigints: pg hands
    // int8 out as strings, and milliseconds fit a double exactly.
    '0013_fleet_budget',
    async (db) => {
      await db.schema
        .createTable('rate_budgets')
        .addColumn('name', 'text', (c) => c.primaryKey())
        .addColumn('tat_short_ms', 'double precision', (c) => c.notNull().defaultTo(0))
        .addColumn('tat_long_ms', 'double precision', (c) => c.notNull().defaultTo(0))
        .addColumn('hold_until_ms', 'double precision', (c) => c.notNull().defaultTo(0))
        .addColumn('hold_epoch', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('holds_in_row', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .execute();
    },
  ],
];

export const MIGRATION_NAMES: readonly string[] = STEPS.map(([name]) => name);

/** How many of the first migrations an SQLite file of the old runner already holds. */
export const LEGACY_SQLITE_VERSIONS = 6;

/** The migrations for `dialect`; the first `legacyApplied` do nothing (their schema is already there)
 * and are only recorded. */
export function migrationProvider(dialect: Dialect, legacyApplied = 0): MigrationProvider {
  if (legacyApplied > LEGACY_SQLITE_VERSIONS) throw new Error(`unknown store schema version ${legacyApplied}`);
  return {
    async getMigrations() {
      const migrations: Record<string, Migration> = {};
      STEPS.forEach(([name, up], index) => {
        migrations[name] = { up: index < legacyApplied ? async () => {} : (db) => up(db, dialect) };
      });
      return migrations;
    },
  };
}

/** Names recorded as applied that this release does not know: a newer release migrated the database. */
export function unknownMigrations(applied: readonly string[]): string[] {
  const known = new Set(MIGRATION_NAMES);
  return applied.filter((name) => !known.has(name));
}

/**
 * Runs the pending migrations, given the names the database recorded as applied (read under the
 * caller's migration lock). A database a newer release migrated (a rollback, or older processes still
 * running during a rolling upgrade) is left as it is: Kysely's Migrator would refuse it ("corrupted
 * migrations"), and every older process would fail to start. Migrations stay compatible with the
 * previous release (docs/store.md), so the older code works on the newer schema.
 */
export async function migrateToLatest(migrator: Migrator, applied: readonly string[]): Promise<void> {
  const unknown = unknownMigrations(applied);
  if (unknown.length > 0) {
    logger.warn({ unknownMigrations: unknown }, 'The store was migrated by a newer release of this product: opening it without migrating');
    return;
  }
  const { error } = await migrator.migrateToLatest();
  if (error === undefined) return;
  throw error instanceof Error ? error : new Error('store migration failed', { cause: error });
}
