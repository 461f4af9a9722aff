import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { openPostgresStore } from '../../src/store/postgres.js';
import { freshDatabaseUrl } from '../support/postgres.js';
import { receipt, storeContract } from './contract.js';

const options = { poolSize: 4, statementTimeoutMs: 30_000 };

storeContract('Postgres', async () => {
  const url = await freshDatabaseUrl();
  return { open: () => openPostgresStore(url, options) };
});

describe('Postgres store', () => {
  it('reads int8 and numeric as numbers on its own pools, leaving pg\'s global parsers alone', async () => {
    const url = await freshDatabaseUrl();
    const store = await openPostgresStore(url, options);
    const other = new pg.Client({ connectionString: url });
    try {
      await store.createIntegration({ id: 'i1' });
      await store.upsertDiscovered('i1', [{ ...receipt('a'), size: 3_000_000_000 }, { ...receipt('b'), size: 3_000_000_000 }]);
      expect((await store.getEntry('i1', 'a'))?.size).toBe(3_000_000_000);
      expect(await store.counts('i1')).toMatchObject({ pending: 2, pendingBytes: 6_000_000_000 });
      await other.connect();
      const { rows } = await other.query<{ n: unknown; s: unknown }>('SELECT count(*) AS n, sum(size) AS s FROM manifest');
      expect(rows[0]).toEqual({ n: '2', s: '6000000000' });
    } finally {
      await other.end();
      await store.close();
    }
  });

  it('says why when the server cannot be reached', async () => {
    await expect(openPostgresStore('postgres://nobody@127.0.0.1:1/none', options)).rejects.toThrow(/ECONNREFUSED/);
  });
});
