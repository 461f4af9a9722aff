import { sql } from 'kysely';
import { IDS_PER_STATEMENT } from './rows.js';

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
