import net from 'node:net';
import pg from 'pg';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { logger } from '../../src/logger.js';
import { openPostgresStore, poolConfig } from '../../src/store/postgres.js';
import { freshDatabaseUrl } from '../support/postgres.js';
import { receipt, storeContract } from './contract.js';

const options = { poolSize: 4, statementTimeoutMs: 30_000 };

storeContract('Postgres', async () => {
  const url = await freshDatabaseUrl();
  return { open: () => openPostgresStore(url, options) };
});

describe('Postgres store', () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

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

  it('opens a database a newer release migrated (rollback), without migrating, and warns', async () => {
    const url = await freshDatabaseUrl();
    const first = await openPostgresStore(url, options);
    await first.createIntegration({ id: 'i1' });
    await first.close();
    const other = new pg.Client({ connectionString: url });
    await other.connect();
    try {
      await other.query('INSERT INTO kysely_migration (name, timestamp) VALUES ($1, $2)', ['9999_from_a_newer_release', new Date().toISOString()]);
    } finally {
      await other.end();
    }

    const warn = vi.spyOn(logger, 'warn');
    const store = await openPostgresStore(url, options);
    try {
      expect((await store.getIntegration('i1'))?.status).toBe('connecting');
      expect(warn).toHaveBeenCalledWith(expect.objectContaining({ unknownMigrations: ['9999_from_a_newer_release'] }), expect.stringMatching(/newer release/));
    } finally {
      await store.close();
    }
  });

  it('keeps its connections alive at both ends, so that the locks of a host that vanished are released within minutes', async () => {
    const url = await freshDatabaseUrl();
    // Client side: TCP keepalive on the sockets of both pools (the migration lock and the Migrator
    // each take a connection of one of them).
    const keepAlive = vi.spyOn(net.Socket.prototype, 'setKeepAlive');
    const store = await openPostgresStore(url, options);
    try {
      await store.withTokenLock('i1', 'qonto', () => store.listIntegrations());
      expect(keepAlive.mock.calls.filter(([enable, delay]) => enable === true && delay !== undefined && delay <= 60_000).length).toBeGreaterThanOrEqual(2);
    } finally {
      await store.close();
    }
    // Server side (what ends a session, and its advisory locks, when the client is gone): TCP
    // keepalive probes after a short idle time, set per connection.
    const client = new pg.Client(poolConfig(url, options));
    await client.connect();
    try {
      const { rows } = await client.query<{ idle: string; interval: string; count: string }>(
        "SELECT current_setting('tcp_keepalives_idle') AS idle, current_setting('tcp_keepalives_interval') AS interval, current_setting('tcp_keepalives_count') AS count",
      );
      expect(rows[0]).toEqual({ idle: '30', interval: '10', count: '3' });
    } finally {
      await client.end();
    }
  });

  it('says why when the server cannot be reached', async () => {
    await expect(openPostgresStore('postgres://nobody@127.0.0.1:1/none', options)).rejects.toThrow(/ECONNREFUSED/);
  });
});
