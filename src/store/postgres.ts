import { createHash } from 'node:crypto';
import { DEFAULT_MIGRATION_TABLE, Kysely, Migrator, PostgresDialect, sql } from 'kysely';
import pg from 'pg';
import { RetryableError } from '../errors.js';
import { StoreConnectError, connectFailureMessage, connectFailureNeedsOperator } from './connect-failure.js';
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

/** Names of the migrations the Migrator recorded as applied (none in an empty database). */
async function appliedMigrations(db: Kysely<Database>): Promise<string[]> {
  const { rows } = await sql<{ present: boolean }>`SELECT to_regclass(${DEFAULT_MIGRATION_TABLE}) IS NOT NULL AS present`.execute(db);
  if (!rows[0]?.present) return [];
  return (await sql<{ name: string }>`SELECT name FROM ${sql.table(DEFAULT_MIGRATION_TABLE)}`.execute(db)).rows.map((r) => r.name);
}

/** Postgres' code of a statement cancelled by `statement_timeout`. */
const QUERY_CANCELED = '57014';

/** Runs `run` holding the session advisory lock (LOCK_NAMESPACE, key) on a connection of `pool`.
 * Waiting is bounded by the pool's statement timeout: then a RetryableError, the lock being busy. A
 * connection that may still hold the lock (unlocking failed) is closed, never reused: closing ends its
 * locks. */
async function withAdvisoryLock<T>(pool: pg.Pool, key: number, what: string, run: () => Promise<T>): Promise<T> {
  const client = await pool.connect();
  let unlockFailed: Error | undefined;
  try {
    await client.query('SELECT pg_advisory_lock($1, $2)', [LOCK_NAMESPACE, key]).catch((error: unknown) => {
      if ((error as { code?: unknown }).code !== QUERY_CANCELED) throw error;
      throw new RetryableError(`The ${what} is busy: another process held it for longer than the statement timeout (DATABASE_STATEMENT_TIMEOUT_MS)`, {
        code: `${what.replace(/ /g, '_')}_busy`,
        cause: error,
      });
    });
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

/** TCP keepalive, both ends: idle seconds before the first probe, seconds between probes, probes. */
const KEEPALIVE = { idleSeconds: 30, intervalSeconds: 10, count: 3 };

/**
 * Settings of both pools. TCP keepalive on both ends of every connection: a connection holding a token
 * lock sits idle while its holder talks to the provider, and if that host vanishes (power or network
 * loss) nothing else would ever be sent on it. The server, probing, ends the session within about a
 * minute, which releases its advisory locks (with the system's defaults it would wait about two hours);
 * the client, probing, notices a server that vanished. The server's settings travel as the startup
 * parameter `options` (user-settable, per connection); an `options` in DATABASE_URL replaces them.
 */
export function poolConfig(url: string, options: PostgresOptions): pg.PoolConfig {
  return {
    connectionString: url,
    max: options.poolSize,
    statement_timeout: options.statementTimeoutMs,
    // Waiting for a connection (server unreachable, pool exhausted) is bounded alike.
    connectionTimeoutMillis: options.statementTimeoutMs,
    keepAlive: true,
    keepAliveInitialDelayMillis: KEEPALIVE.idleSeconds * 1000,
    options: [
      `-c tcp_keepalives_idle=${KEEPALIVE.idleSeconds}`,
      `-c tcp_keepalives_interval=${KEEPALIVE.intervalSeconds}`,
      `-c tcp_keepalives_count=${KEEPALIVE.count}`,
    ].join(' '),
    types,
  };
}

/**
 * The Postgres store (node-postgres). Migrations run at open, under an advisory lock held on its own
 * connection, so processes starting together against an empty database apply them once, one after
 * the other. Two pools: queries, and connections held by token locks (a lock holder's own queries
 * then never wait for a connection that another lock holder keeps).
 */
export async function openPostgresStore(url: string, options: PostgresOptions): Promise<Store> {
  const settings = poolConfig(url, options);
  const pool = new pg.Pool(settings);
  const lockPool = new pg.Pool(settings);
  // An idle connection that breaks (server restart) is dropped by the pool; without a listener the
  // error would end the process.
  pool.on('error', () => {});
  lockPool.on('error', () => {});
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  try {
    // The first connection alone, so that an unreachable or untrusted server is reported as such.
    const first = await lockPool.connect().catch((error: unknown) => {
      throw new StoreConnectError(connectFailureMessage(url, error), { cause: error, operatorMustFix: connectFailureNeedsOperator(url, error) });
    });
    first.release();
    await withAdvisoryLock(lockPool, MIGRATION_LOCK, 'migration lock', async () => {
      await migrateToLatest(new Migrator({ db, provider: migrationProvider('postgres') }), await appliedMigrations(db));
    });
  } catch (error) {
    await db.destroy();
    await lockPool.end();
    throw error;
  }
  return createStore({
    db,
    dialect: 'postgres',
    withTokenLock: (integrationId, provider, run) => withAdvisoryLock(lockPool, tokenLockKey(integrationId, provider), 'token lock', run),
    close: async () => {
      await db.destroy();
      await lockPool.end();
    },
  });
}
