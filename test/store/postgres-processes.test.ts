import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { RetryableError, TokensRefusedError } from '../../src/errors.js';
import { openPostgresStore } from '../../src/store/postgres.js';
import type { Store } from '../../src/store/types.js';
import { freshDatabaseUrl } from '../support/postgres.js';
import { receipt } from './contract.js';

/** What holds across processes sharing one Postgres database: each store here has its own pools,
 * as a separate process would. */
const options = { poolSize: 4, statementTimeoutMs: 30_000 };
const opened: { close(): Promise<void> }[] = [];
const open = async (url: string): Promise<Store> => {
  const store = await openPostgresStore(url, options);
  opened.push(store);
  return store;
};
const client = async (url: string): Promise<pg.Client> => {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  opened.push({ close: () => c.end() });
  return c;
};
afterEach(async () => {
  await Promise.all(opened.splice(0).map((o) => o.close()));
});

/** Resolves once `condition` holds, checking it again after each poll (a state of the server, not a delay). */
async function until(condition: () => Promise<boolean>): Promise<void> {
  while (!(await condition())) await new Promise((resolve) => setTimeout(resolve, 10));
}

describe('Postgres store across processes', () => {
  it('five processes starting at once against an empty database all open it, the schema applied once', async () => {
    const url = await freshDatabaseUrl();
    const stores = await Promise.all(Array.from({ length: 5 }, () => open(url)));
    await stores[0]!.createIntegration({ id: 'i1' });
    expect((await stores[4]!.getIntegration('i1'))?.status).toBe('connecting');
    const { rows } = await (await client(url)).query<{ name: string }>('SELECT name FROM kysely_migration ORDER BY name');
    expect(rows.map((r) => r.name)).toEqual(['0001_initial', '0002_sign_ins', '0003_organization_id', '0004_qonto_sign_ins', '0005_admin_sessions', '0006_throttled_tries', '0007_alerts']);
  });

  it('a token write that waits for a revoke in progress is refused, and the tokens stay deleted', async () => {
    const url = await freshDatabaseUrl();
    const store = await open(url);
    await store.createIntegration({ id: 'i1', status: 'idle' });
    await store.putTokenCache('i1', 'qonto', Buffer.from('before'));
    // The revoke of another process, half done: status set, tokens deleted, not committed yet.
    const revoke = await client(url);
    await revoke.query('BEGIN');
    await revoke.query("UPDATE integrations SET status = 'revoked' WHERE id = 'i1'");
    await revoke.query("DELETE FROM token_caches WHERE integration_id = 'i1'");
    // A refresh elsewhere stores its rotated tokens now: it must wait for the revoke's locks.
    const write = store.putTokenCache('i1', 'qonto', Buffer.from('rotated')).then(
      () => 'stored',
      (error: unknown) => error,
    );
    const observer = await client(url);
    await until(async () => {
      const { rows } = await observer.query<{ n: number }>(
        "SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'",
      );
      return rows[0]!.n > 0;
    });
    await revoke.query('COMMIT');
    expect(await write).toBeInstanceOf(TokensRefusedError);
    expect(await store.getTokenCache('i1', 'qonto')).toBeNull();
  });

  it('token lock: critical sections of one integration and provider never overlap across processes; others do not wait', async () => {
    const url = await freshDatabaseUrl();
    const [a, b] = [await open(url), await open(url)];
    const observer = await client(url);
    const waiters = async () =>
      (await observer.query<{ n: number }>("SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'advisory' AND NOT granted")).rows[0]!.n;
    const events: string[] = [];
    let second: Promise<void> | undefined;
    await a.withTokenLock('i1', 'microsoft', async () => {
      events.push('a in');
      second = b.withTokenLock('i1', 'microsoft', async () => {
        events.push('b in');
      });
      // b is blocked on the lock (or, if the lock did not hold, already inside).
      await until(async () => events.includes('b in') || (await waiters()) > 0);
      expect(events).toEqual(['a in']);
      // Another provider or integration is not held up.
      await b.withTokenLock('i1', 'qonto', async () => void events.push('b qonto'));
      await b.withTokenLock('i2', 'microsoft', async () => void events.push('b i2'));
      events.push('a out');
    });
    await second;
    expect(events).toEqual(['a in', 'b qonto', 'b i2', 'a out', 'b in']);
    expect(await waiters()).toBe(0);
  });

  it('token lock: waiting for it ends after the statement timeout with a RetryableError saying it is busy', async () => {
    const url = await freshDatabaseUrl();
    const a = await open(url);
    const b = await openPostgresStore(url, { poolSize: 2, statementTimeoutMs: 300 });
    opened.push(b);
    let entered = false;
    await a.withTokenLock('i1', 'qonto', async () => {
      const waited = await b.withTokenLock('i1', 'qonto', async () => void (entered = true)).catch((error: unknown) => error);
      expect(waited).toBeInstanceOf(RetryableError);
      expect(waited).toMatchObject({ code: 'token_lock_busy', message: expect.stringMatching(/busy/) });
    });
    expect(entered).toBe(false);
    // Nothing left behind: the lock is free for the next refresh.
    expect(await b.withTokenLock('i1', 'qonto', async () => 'refreshed')).toBe('refreshed');
  });

  it('many concurrent refreshes from two processes run one at a time', async () => {
    const url = await freshDatabaseUrl();
    const [a, b] = [await open(url), await open(url)];
    let inside = 0;
    let most = 0;
    await Promise.all(
      Array.from({ length: 12 }, (_, n) =>
        (n % 2 ? a : b).withTokenLock('i1', 'qonto', async () => {
          most = Math.max(most, ++inside);
          await a.getIntegration('i1'); // a round trip inside the section
          inside--;
        }),
      ),
    );
    expect(most).toBe(1);
  });

  it('two workers discovering and caching the same receipts and folders at once write each once', async () => {
    const url = await freshDatabaseUrl();
    const [a, b] = [await open(url), await open(url)];
    await a.createIntegration({ id: 'i1' });
    // 40 receipts, every second one with a name that clashes case-insensitively with its neighbour's.
    const receipts = Array.from({ length: 40 }, (_, n) => receipt(`r${n}`, 'F', n % 2 ? `Name${n - 1}.PDF` : `name${n}.pdf`));
    const [x, y] = await Promise.all([a.upsertDiscovered('i1', receipts), b.upsertDiscovered('i1', receipts)]);
    expect(x + y).toBe(40);
    const names = await Promise.all(receipts.map(async (r) => (await a.getEntry('i1', r.attachmentId))!.fileName.toLowerCase()));
    expect(new Set(names).size).toBe(40);
    expect((await a.counts('i1')).pending).toBe(40);

    await Promise.all([a.putFolder('i1', 'F', 'f-1'), b.putFolder('i1', 'F', 'f-1'), a.putFolder('i1', 'G', 'g-1'), b.putFolder('i1', 'G', 'g-1')]);
    expect(await b.listFolders('i1')).toEqual([
      { path: 'F', driveItemId: 'f-1' },
      { path: 'G', driveItemId: 'g-1' },
    ]);
  });
});
