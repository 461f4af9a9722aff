import { createHash } from 'node:crypto';
import { Kysely, PostgresDialect } from 'kysely';
import { Migrator } from 'kysely';
import pg from 'pg';
import { migrateToLatest, migrationProvider } from './migrations.js';
import type { Database } from './schema.js';
import { createStore } from './store.js';
import type { Store } from './types.js';

export interface PostgresOptions {
  /** Connections of the query pool (DATABASE_POOL_SIZE); token locks have a pool of the same size. */
  poolSize: number;
  /** Server-side limit of every statement, waiting for a lock included (DATABASE_STATEMENT_TIMEOUT_MS). */
  statementTimeoutMs: number;
}

/** First key of every advisory lock this product takes (two-int form), so it shares no lock with
 * other applications on the same database. */
const LOCK_NAMESPACE = 0x51_4f_44_31; // "QOD1"
/** Second key of the migration lock; token locks use a hash of integration and provider. */
const MIGRATION_LOCK = 0;

/** COUNT and SUM answer int8 and numeric, which pg hands out as strings; every count and byte sum
 * here fits a double. Set on these pools only, not on pg's global parsers. */
const INT8 = 20;
const NUMERIC = 1700;
const types = {
  getTypeParser: (oid: number, format?: 'text' | 'binary'): unknown =>
    oid === INT8 || oid === NUMERIC ? (value: string) => Number(value) : pg.types.getTypeParser(oid, format),
};

/** Second key of an integration's token lock: 32 bits of a hash (a collision only serialises two
 * refreshes that need not be). */
export function tokenLockKey(integrationId: string, provider: string): number {
  return createHash('sha256').update(`${integrationId}\0${provider}`).digest().readInt32BE(0);
}

/** Runs `run` holding the session advisory lock (LOCK_NAMESPACE, key) on a connection of `pool`.
 * Waiting is bounded by the pool's statement timeout. A connection that may still hold the lock
 * (unlocking failed) is closed, never reused: closing ends its locks. */
async function withAdvisoryLock<T>(pool: pg.Pool, key: number, run: () => Promise<T>): Promise<T> {
  const client = await pool.connect();
  let unlockFailed: Error | undefined;
  try {
    await client.query('SELECT pg_advisory_lock($1, $2)', [LOCK_NAMESPACE, key]);
    try {
      return await run();
    } finally {
      await client.query('SELECT pg_advisory_unlock($1, $2)', [LOCK_NAMESPACE, key]).catch((error: Error) => {
        unlockFailed = error;
      });
    }
  } finally {
    client.release(unlockFailed);
  }
}

/**
 * The Postgres store (node-postgres). Migrations run at open, under an advisory lock held on its own
 * connection, so processes starting together against an empty database apply them once, one after
 * the other. Two pools: queries, and connections held by token locks (a lock holder's own queries
 * then never wait for a connection that another lock holder keeps).
 */
export async function openPostgresStore(url: string, options: PostgresOptions): Promise<Store> {
  const settings: pg.PoolConfig = {
    connectionString: url,
    max: options.poolSize,
    statement_timeout: options.statementTimeoutMs,
    // Waiting for a connection (server unreachable, pool exhausted) is bounded alike.
    connectionTimeoutMillis: options.statementTimeoutMs,
    types,
  };
  const pool = new pg.Pool(settings);
  const lockPool = new pg.Pool(settings);
  // An idle connection that breaks (server restart) is dropped by the pool; without a listener the
  // error would end the process.
  pool.on('error', () => {});
  lockPool.on('error', () => {});
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  try {
    await withAdvisoryLock(lockPool, MIGRATION_LOCK, async () => {
      await migrateToLatest(new Migrator({ db, provider: migrationProvider('postgres') }));
    });
  } catch (error) {
    await db.destroy();
    await lockPool.end();
    throw error;
  }
  return createStore({
    db,
    dialect: 'postgres',
    withTokenLock: (integrationId, provider, run) => withAdvisoryLock(lockPool, tokenLockKey(integrationId, provider), run),
    close: async () => {
      await db.destroy();
      await lockPool.end();
    },
  });
}
