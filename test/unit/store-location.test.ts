import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { storeLocation } from '../../src/store/location.js';

const key = 'ab'.repeat(32);

describe('storeLocation', () => {
  it('picks Postgres for postgres:// and postgresql:// URLs, with the pool settings', () => {
    for (const url of ['postgres://u@db/receipts', 'postgresql://u@db:5433/receipts?sslmode=require']) {
      expect(storeLocation(loadConfig({ DATABASE_URL: url, ENCRYPTION_KEY: key, DATABASE_POOL_SIZE: '4' }))).toEqual({
        kind: 'postgres',
        url,
        options: { poolSize: 4, statementTimeoutMs: 30_000 },
      });
    }
  });

  it('picks SQLite in DATA_DIR by default, or the sqlite:/file: path given', () => {
    const c = loadConfig({ DATA_DIR: '/var/lib/receipts' });
    expect(storeLocation(c)).toEqual({ kind: 'sqlite', file: join('/var/lib/receipts', 'receipts.sqlite') });
    expect(storeLocation(loadConfig({ DATABASE_URL: 'sqlite:/srv/r.sqlite' }))).toEqual({ kind: 'sqlite', file: '/srv/r.sqlite' });
    expect(storeLocation(loadConfig({ DATABASE_URL: 'file:///srv/r.sqlite' }))).toEqual({ kind: 'sqlite', file: '/srv/r.sqlite' });
  });
});
