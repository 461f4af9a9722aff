import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { openSqliteStore } from '../../src/store/sqlite.js';
import type { Store } from '../../src/store/types.js';
import { LEGACY_MIGRATIONS } from './legacy-sqlite-schema.js';

/** A file as an earlier release left it: the first `version` migrations of its runner, some data. */
function legacyFile(version: number): string {
  const file = join(mkdtempSync(join(tmpdir(), 'store-legacy-')), 'receipts.sqlite');
  const db = new Database(file);
  for (const migration of LEGACY_MIGRATIONS.slice(0, version)) db.exec(migration);
  db.pragma(`user_version = ${version}`);
  db.prepare("INSERT INTO integrations (id, status, created_at, updated_at) VALUES ('i1', 'idle', '2026-01-01T00:00:00.000Z', '2026-01-01T00:00:00.000Z')").run();
  db.prepare(
    `INSERT INTO manifest (integration_id, attachment_id, transaction_id, bank_account_id, folder_path, file_name, size, state, seq, updated_at)
     VALUES ('i1', 'a', 'tx-a', 'acc', 'F', 'a.pdf', 10, 'uploaded', 1, '2026-01-01T00:00:00.000Z')`,
  ).run();
  db.prepare("INSERT INTO token_caches (integration_id, provider, sealed, updated_at) VALUES ('i1', 'microsoft', ?, 'x')").run(Buffer.from([7]));
  db.close();
  return file;
}

describe('SQLite files of earlier releases', () => {
  let store: Store | undefined;
  afterEach(async () => {
    await store?.close();
  });

  it.each([1, 3, 5, 6])('opens a file at schema version %i without loss, with the later migrations applied', async (version) => {
    const file = legacyFile(version);
    store = openSqliteStore(file);
    expect(await store.getIntegration('i1')).toMatchObject({ status: 'idle', organizationId: null });
    expect(await store.getEntry('i1', 'a')).toMatchObject({ state: 'uploaded', fileName: 'a.pdf', throttledTries: 0 });
    expect(await store.getTokenCache('i1', 'microsoft')).toEqual(Buffer.from([7]));
    // Its 30 h without success count from the upgrade, not from its creation in January.
    expect(Date.parse((await store.alerts.profile('i1'))?.lastSuccessAt ?? '')).toBeGreaterThan(Date.now() - 60_000);
    // What the later migrations brought works.
    expect(await store.bumpAdminSessionEpoch()).toBe(1);
    await store.putQontoSignIn('g', { sealed: Buffer.from('t'), expiresAt: 1_800_000_002_000 });
    await store.putSignIn('s', { integrationId: 'i1', sealed: Buffer.from('v'), expiresAt: 1_800_000_002_000 });
    await store.updateEntry('i1', 'a', { throttledTries: 2 });
    await store.close();
    // And again: adopted once, nothing applied twice.
    store = openSqliteStore(file);
    expect(await store.adminSessionEpoch()).toBe(1);
    expect((await store.getEntry('i1', 'a'))?.throttledTries).toBe(2);
    expect(await store.takeQontoSignIn('g', 1_800_000_001_000)).toEqual(Buffer.from('t'));
  });

  it('gives receipts of an earlier release the transaction date their file name starts with, and nulls for the rest of the log', async () => {
    const file = legacyFile(6);
    const db = new Database(file);
    db.prepare(
      `INSERT INTO manifest (integration_id, attachment_id, transaction_id, bank_account_id, folder_path, file_name, size, state, seq, updated_at)
       VALUES ('i1', 'b', 'tx-b', 'acc', 'F', '2026-11-03 Amazon -52.40 EUR 1a2b3c4d.pdf', 10, 'uploaded', 2, '2026-01-01T00:00:00.000Z')`,
    ).run();
    db.close();
    store = openSqliteStore(file);
    expect(await store.getEntry('i1', 'b')).toMatchObject({ transactionDate: '2026-11-03', amount: null, currency: null, sha256: null, exportedAt: null, reimports: 0 });
    expect((await store.getEntry('i1', 'a'))?.transactionDate).toBeNull();
  });
});
