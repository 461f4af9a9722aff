import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { logger } from '../../src/logger.js';
import { openSqliteStore, openSqliteStoreReady } from '../../src/store/sqlite.js';
import { manifestKey } from '../../src/sync/probative.js';
import { receipt, storeContract } from './contract.js';

const freshFile = () => join(mkdtempSync(join(tmpdir(), 'store-')), 'db.sqlite');

storeContract('SQLite', async () => {
  const file = freshFile();
  return { open: async () => openSqliteStore(file) };
});

describe('SQLite store', () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it("gives the probative copies recorded before 0013 their receipt's transaction fields", async () => {
    const file = freshFile();
    const first = await openSqliteStoreReady(file);
    await first.createIntegration({ id: 'i1' });
    await first.upsertDiscovered('i1', [{ ...receipt('a'), transactionDate: '2026-03-02', amount: '-52.40', currency: 'EUR', counterparty: 'Shop a' }, receipt('b')]);
    await first.recordProbative('i1', [{ attachmentId: 'a', status: 'available', size: 5 }, { attachmentId: 'b', status: 'available', size: 5 }]);
    await first.close();
    // As the release of 0010 recorded them: without the fields; and 0013 not applied yet.
    const raw = new Database(file);
    raw.prepare("UPDATE manifest SET transaction_date = NULL, amount = NULL, currency = NULL, counterparty = NULL WHERE kind = 'probative'").run();
    raw.prepare("DELETE FROM kysely_migration WHERE name = '0013_probative_log_fields'").run();
    raw.close();

    const store = await openSqliteStoreReady(file);
    try {
      expect(await store.getEntry('i1', manifestKey('a', 'probative'))).toMatchObject({ transactionDate: '2026-03-02', amount: '-52.40', currency: 'EUR', counterparty: 'Shop a' });
      expect(await store.getEntry('i1', manifestKey('b', 'probative'))).toMatchObject({ transactionDate: null, amount: null });
    } finally {
      await store.close();
    }
  });

  it('opens a file a newer release migrated (rollback), without migrating, and warns', async () => {
    const file = freshFile();
    const first = await openSqliteStoreReady(file);
    await first.createIntegration({ id: 'i1' });
    await first.close();
    const raw = new Database(file);
    raw.prepare('INSERT INTO kysely_migration (name, timestamp) VALUES (?, ?)').run('9999_from_a_newer_release', new Date().toISOString());
    raw.close();

    const warn = vi.spyOn(logger, 'warn');
    const store = await openSqliteStoreReady(file);
    try {
      expect((await store.getIntegration('i1'))?.status).toBe('connecting');
      expect(warn).toHaveBeenCalledWith(expect.objectContaining({ unknownMigrations: ['9999_from_a_newer_release'] }), expect.stringMatching(/newer release/));
    } finally {
      await store.close();
    }
  });
});
