import { join } from 'node:path';
import { isPostgresUrl, type Config } from '../config.js';
import type { PostgresOptions } from './postgres.js';

export type StoreLocation = { kind: 'sqlite'; file: string } | { kind: 'postgres'; url: string; options: PostgresOptions };

/** Which store DATABASE_URL selects: Postgres for postgres:// and postgresql://; otherwise the SQLite
 * file it names (sqlite: or file:), by default `receipts.sqlite` in DATA_DIR. */
export function storeLocation(config: Config): StoreLocation {
  const url = config.DATABASE_URL;
  if (url && isPostgresUrl(url))
    return { kind: 'postgres', url, options: { poolSize: config.DATABASE_POOL_SIZE, statementTimeoutMs: config.DATABASE_STATEMENT_TIMEOUT_MS } };
  if (!url) return { kind: 'sqlite', file: join(config.dataDir, 'receipts.sqlite') };
  return { kind: 'sqlite', file: url.replace(/^(sqlite|file):(\/\/)?/, '') };
}
