import { join } from 'node:path';
import type { ActivityDeps } from '../activities/index.js';
import { createSealer, loadOrCreateKey, type Sealer } from './auth/crypto.js';
import { MicrosoftAuth } from './auth/microsoft.js';
import { ConfigError, type Config } from './config.js';
import { OneDriveClient } from './onedrive/client.js';
import { QontoClient } from './qonto/client.js';
import { openSqliteStore } from './store/sqlite.js';
import type { Store } from './store/types.js';

export interface Services {
  store: Store;
  sealer: Sealer;
  microsoftAuth: MicrosoftAuth;
  deps: ActivityDeps;
  close(): Promise<void>;
}

/** Where the SQLite file is: DATABASE_URL (sqlite:/file:) or DATA_DIR. Postgres is designed for
 * (the Store interface) but not available yet: refuse it clearly rather than fall back silently. */
export function sqlitePath(config: Config): string {
  const url = config.DATABASE_URL;
  if (!url) return join(config.dataDir, 'receipts.sqlite');
  if (/^postgres/.test(url)) throw new ConfigError(['DATABASE_URL: Postgres is not supported yet; leave it unset to use SQLite in DATA_DIR']);
  return url.replace(/^(sqlite|file):(\/\/)?/, '');
}

/** The store, credentials and clients the worker's activities (and later the API) run on. */
export async function createServices(config: Config): Promise<Services> {
  if (config.qontoMode === 'oauth') {
    throw new ConfigError(['QONTO_CLIENT_ID: Qonto OAuth mode is not available yet; use API-key mode (QONTO_API_LOGIN, QONTO_API_SECRET, ADMIN_TOKEN)']);
  }
  const { QONTO_API_LOGIN: login, QONTO_API_SECRET: secret, MICROSOFT_CLIENT_ID: clientId, MICROSOFT_CLIENT_SECRET: clientSecret } = config;
  const missing = [
    ...(!login || !secret ? ['QONTO_API_LOGIN and QONTO_API_SECRET are required (or SANDBOX=true)'] : []),
    ...(!clientId || !clientSecret ? ['MICROSOFT_CLIENT_ID and MICROSOFT_CLIENT_SECRET are required (or SANDBOX=true)'] : []),
  ];
  if (missing.length > 0 || !login || !secret || !clientId || !clientSecret) throw new ConfigError(missing);

  const store = openSqliteStore(sqlitePath(config));
  const sealer = createSealer(await loadOrCreateKey({ encryptionKey: config.ENCRYPTION_KEY, dataDir: config.dataDir }));
  const microsoftAuth = new MicrosoftAuth({
    clientId,
    clientSecret,
    loginUrl: config.MICROSOFT_LOGIN_URL,
    redirectUri: `${config.PUBLIC_URL}/auth/microsoft/callback`,
    store,
    sealer,
  });
  const qonto = new QontoClient({
    baseUrl: config.QONTO_API_URL,
    auth: { kind: 'apiKey', login, secret },
    stagingToken: config.QONTO_STAGING_TOKEN,
  });
  const deps: ActivityDeps = {
    store,
    qonto: () => qonto,
    onedrive: (integrationId) =>
      new OneDriveClient({
        graphUrl: config.GRAPH_URL,
        getAccessToken: ({ forceRefresh }) => microsoftAuth.getAccessToken(integrationId, { forceRefresh }),
      }),
    forgetTokens: (integrationId) => microsoftAuth.forget(integrationId),
  };
  return { store, sealer, microsoftAuth, deps, close: () => store.close() };
}
