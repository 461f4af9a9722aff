import { sql } from 'kysely';
import { IDS_PER_STATEMENT } from './rows.js';
import type { Dialect } from './schema.js';

/** SQL pieces the store's statements share: path prefixes and bounded id lists. */
/** `LIKE` pattern matching every path strictly below `path` ('' is the app folder: everything). */
function below(path: string): string {
  return path === '' ? '%' : `${path.replace(/[\\%_]/g, (c) => `\\${c}`)}/%`;
}

/** `column` is `path` or a path below it, case-insensitively: OneDrive paths are, and SQLite's `LIKE`
 * alone ignores ASCII case where Postgres' does not, so both sides are lowered alike on both. */
export function atOrBelow(column: 'folder_path' | 'path', path: string) {
  const ref = sql.ref(column);
  return sql<boolean>`(lower(${ref}) = lower(${path}) or lower(${ref}) like lower(${below(path)}) escape '\\')`;
}

export function chunks<T>(items: T[]): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += IDS_PER_STATEMENT) out.push(items.slice(i, i + IDS_PER_STATEMENT));
  return out;
}

/** The database's clock in epoch milliseconds, as a double: every process of the fleet reads the same
 * clock, whatever its host's. `clock_timestamp()` moves within a transaction (`now()` would not). */
export function dbNowMs(dialect: Dialect) {
  return dialect === 'postgres'
    ? sql<number>`(extract(epoch from clock_timestamp()) * 1000)::float8`
    : sql<number>`((julianday('now') - 2440587.5) * 86400000.0)`;
}
