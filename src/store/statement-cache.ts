/**
 * better-sqlite3 behind Kysely with its prepared statements kept. Kysely's SQLite driver prepares
 * every query it runs, and preparing (parsing and planning the SQL) costs about as much as running
 * the small statements of the store: a backfill of 5,000 receipts prepared them some 30,000 times.
 * The store's statements are a fixed set of texts (values are always parameters), so a statement is
 * prepared once per text and run again with new parameters.
 */
import type { Database, Statement } from 'better-sqlite3';
import type { SqliteDatabase, SqliteStatement } from 'kysely';

/** More texts than the store has statements; a bound in case some caller builds texts with values in
 * them (then the cache starts over rather than growing). */
export const MAX_CACHED_STATEMENTS = 500;

export function withStatementCache(db: Database, max = MAX_CACHED_STATEMENTS): SqliteDatabase {
  const cache = new Map<string, Statement>();
  return {
    close: () => {
      cache.clear();
      db.close();
    },
    prepare(sql: string): SqliteStatement {
      const cached = cache.get(sql);
      // A statement still iterating (a streamed query) cannot run a second time meanwhile.
      if (cached !== undefined && !cached.busy) return cached;
      const statement = db.prepare(sql);
      if (cached === undefined) {
        if (cache.size >= max) cache.clear();
        cache.set(sql, statement);
      }
      return statement;
    },
  };
}
