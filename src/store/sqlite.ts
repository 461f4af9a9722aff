import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { DEFAULT_MIGRATION_TABLE, Kysely, Migrator, SqliteDialect } from 'kysely';
import { MIGRATION_NAMES, migrateToLatest, migrationProvider, unknownMigrations } from './migrations.js';
import { withStatementCache } from './statement-cache.js';
import type { Database as Tables } from './schema.js';
import { createStore } from './store.js';
import type { Store } from './types.js';

/** How many migrations the old runner recorded in `user_version`, for a file Kysely's Migrator has not
 * seen yet (0 for a new file, or one the Migrator owns). */
function legacyVersion(raw: Database.Database): number {
  return migratorOwns(raw) ? 0 : (raw.pragma('user_version', { simple: true }) as number);
}

function migratorOwns(raw: Database.Database): boolean {
  return raw.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'kysely_migration'").get() !== undefined;
}

/** Names of the migrations the Migrator recorded as applied (none for a new or legacy file). */
function appliedMigrations(raw: Database.Database): string[] {
  if (!migratorOwns(raw)) return [];
  return raw.prepare<[], { name: string }>(`SELECT name FROM ${DEFAULT_MIGRATION_TABLE}`).all().map((r) => r.name);
}

/** Every migration of this release applied, and none it does not know. */
function upToDate(raw: Database.Database): boolean {
  const applied = appliedMigrations(raw);
  return unknownMigrations(applied).length === 0 && MIGRATION_NAMES.every((name) => applied.includes(name));
}

/** Applies the migrations inside one `BEGIN IMMEDIATE`: all or nothing, and another process opening
 * the same file meanwhile waits (busy_timeout) instead of applying them a second time. */
async function migrate(raw: Database.Database, db: Kysely<Tables>): Promise<void> {
  // Up to date (every open after the first): no write lock. A lock held across the Migrator's awaits
  // would block, for busy_timeout, another connection of this process that writes meanwhile.
  if (upToDate(raw)) return;
  raw.exec('BEGIN IMMEDIATE');
  try {
    // Read again under the lock: another process may have migrated meanwhile.
    await migrateToLatest(new Migrator({ db, provider: migrationProvider('sqlite', legacyVersion(raw)) }), appliedMigrations(raw));
    raw.exec('COMMIT');
  } catch (error) {
    if (raw.inTransaction) raw.exec('ROLLBACK');
    throw error;
  }
}

/**
 * The embedded SQLite store, migrated before it answers. better-sqlite3 is synchronous and one
 * connection: statements of one process run one after another. WAL mode lets the processes of one
 * machine share the file.
 */
export async function openSqliteStoreReady(file: string): Promise<Store> {
  const store = openSqliteStore(file);
  await store.adminSessionEpoch();
  return store;
}

/** Same, returned at once (tests and tools): the first call waits for the migrations. */
export function openSqliteStore(file: string): Store {
  if (file !== ':memory:') mkdirSync(dirname(file), { recursive: true });
  const raw = new Database(file);
  raw.pragma('journal_mode = WAL');
  raw.pragma('busy_timeout = 5000');
  raw.pragma('foreign_keys = ON');
  const db = new Kysely<Tables>({ dialect: new SqliteDialect({ database: withStatementCache(raw) }) });
  const ready = migrate(raw, db);
  ready.catch(() => {}); // surfaced by the first call instead
  const store = createStore({
    db,
    dialect: 'sqlite',
    // One host: the token clients serialise in process.
    withTokenLock: (_integrationId, _provider, run) => run(),
    close: async () => {
      await ready.catch(() => {});
      await db.destroy();
    },
  });
  type Methods = Record<string, (...args: unknown[]) => Promise<unknown>>;
  const afterReady = (methods: Methods): Methods =>
    Object.fromEntries(
      Object.entries(methods).map(([name, method]) => [
        name,
        name === 'close'
          ? method
          : name === 'exportLog' || name === 'missingLog' // an async iterable, not a promise: it waits on its first read
            ? async function* (...args: unknown[]) {
                await ready;
                yield* method(...args) as unknown as AsyncIterable<unknown>;
              }
            : async (...args: unknown[]) => (await ready, method(...args)),
      ]),
    ) as Methods;
  // The alert statements are grouped in one object (alert-store.ts): they wait alike.
  return { ...afterReady(store as unknown as Methods), alerts: afterReady(store.alerts as unknown as Methods) } as unknown as Store;
}
