import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { logger } from '../../src/logger.js';
import { openSqliteStore, openSqliteStoreReady } from '../../src/store/sqlite.js';
import { storeContract } from './contract.js';

const freshFile = () => join(mkdtempSync(join(tmpdir(), 'store-')), 'db.sqlite');

storeContract('SQLite', async () => {
  const file = freshFile();
  return { open: async () => openSqliteStore(file) };
});

describe('SQLite store', () => {
  afterEach(() => {
    vi.restoreAllMocks();
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
