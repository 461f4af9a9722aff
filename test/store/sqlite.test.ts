import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openSqliteStore } from '../../src/store/sqlite.js';
import { storeContract } from './contract.js';

storeContract('SQLite', async () => {
  const file = join(mkdtempSync(join(tmpdir(), 'store-')), 'db.sqlite');
  return { open: async () => openSqliteStore(file) };
});
