import { openPostgresStore } from '../../src/store/postgres.js';
import { freshDatabaseUrl } from '../support/postgres.js';
import { storeContract } from './contract.js';

storeContract('Postgres', async () => {
  const url = await freshDatabaseUrl();
  return { open: () => openPostgresStore(url, { poolSize: 4, statementTimeoutMs: 30_000 }) };
});
