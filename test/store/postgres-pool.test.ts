import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { openStore } from '../../src/services.js';
import type { Store } from '../../src/store/types.js';
import { ENCRYPTION_KEY } from '../support/harness.js';
import { freshDatabaseUrl } from '../support/postgres.js';
import { until } from '../support/until.js';

/**
 * DATABASE_POOL_SIZE as the server sees it: the connections a store opens, counted in pg_stat_activity
 * by the application_name its DATABASE_URL carries. README: a process holds up to twice the pool size
 * (queries, and token locks).
 */
const APP = 'pool-size-test';
let dir: string;
let base: string;
let store: Store;
const clients: pg.Client[] = [];

async function client(): Promise<pg.Client> {
  const c = new pg.Client({ connectionString: base });
  await c.connect();
  clients.push(c);
  return c;
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'receipts-pg-pool-'));
  base = await freshDatabaseUrl();
  const url = new URL(base);
  url.searchParams.set('application_name', APP);
  store = await openStore(loadConfig({ DATABASE_URL: url.toString(), DATABASE_POOL_SIZE: '2', ENCRYPTION_KEY, DATA_DIR: dir }));
});

afterAll(async () => {
  await store?.close();
  await Promise.all(clients.map((c) => c.end()));
  rmSync(dir, { recursive: true, force: true });
});

interface Seen {
  /** Every connection of the store. */
  total: number;
  /** Those waiting on the server for a row lock (a query of the query pool). */
  waitingOnRow: number;
  /** Those holding an advisory lock (a token lock, on the lock pool). */
  holdingLock: number;
}

async function seen(observer: pg.Client): Promise<Seen> {
  const { rows } = await observer.query<Seen>(
    `SELECT count(*)::int AS total,
            count(*) FILTER (WHERE a.wait_event_type = 'Lock')::int AS "waitingOnRow",
            count(*) FILTER (WHERE EXISTS (SELECT 1 FROM pg_locks l WHERE l.pid = a.pid AND l.locktype = 'advisory' AND l.granted))::int AS "holdingLock"
       FROM pg_stat_activity a WHERE a.application_name = $1`,
    [APP],
  );
  return rows[0]!;
}

describe('DATABASE_POOL_SIZE', () => {
  it('=2: sixteen store calls at once, half of them token locks, hold at most 2 + 2 connections, and all complete', async () => {
    const observer = await client();
    const ids = Array.from({ length: 8 }, (_, n) => `i${n}`);
    for (const id of ids) await store.createIntegration({ id });
    // Another process holds the row of i0: the store's updates of it wait on the server, each holding a
    // connection of the query pool, for as long as the test wants.
    const holder = await client();
    await holder.query('BEGIN');
    await holder.query("SELECT 1 FROM integrations WHERE id = 'i0' FOR UPDATE");
    let open!: () => void;
    const gate = new Promise<void>((resolve) => (open = resolve));
    const work = Promise.allSettled([
      ...ids.map(() => store.updateIntegration('i0', { status: 'idle' })),
      ...ids.map((id) =>
        store.withTokenLock(id, 'qonto', async () => {
          await gate;
          return store.getTokenCache(id, 'qonto');
        }),
      ),
    ]);

    let most = 0;
    const sample = async () => {
      const s = await seen(observer);
      most = Math.max(most, s.total);
      return s;
    };
    let full: Seen;
    try {
      // Both pools full: two updates waiting on the row, two token locks held; the rest wait in the pools.
      full = await until(sample, (s) => s.waitingOnRow >= 2 && s.holdingLock >= 2, 'both pools in use');
    } finally {
      await holder.query('COMMIT');
      open();
    }
    const results = await work;
    expect(full).toEqual({ total: 4, waitingOnRow: 2, holdingLock: 2 });
    expect(results.filter((r) => r.status === 'rejected')).toEqual([]);
    // The pools keep their idle connections a while: had either opened more, they would still be here.
    expect((await sample()).total).toBeLessThanOrEqual(4);
    expect(most).toBe(4);
  });
});
