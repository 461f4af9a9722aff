import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseKeyList } from '../../src/auth/keys.js';
import { loadConfig, type Config } from '../../src/config.js';
import { freshDatabaseUrl } from './postgres.js';
import { createServices, type ClientTuning, type Services } from '../../src/services.js';
import type { SimUser } from '../../src/simulators/identity/directory.js';
import { startSimulators, type Simulators, type SimulatorsOptions } from '../../src/simulators/index.js';
import { signInWithSimulator } from '../../src/simulators/sign-in.js';
import { dataConverterFor } from '../../src/temporal/data-converter.js';
import { EncryptionCodec } from '../../src/temporal/payload-codec.js';

export interface Harness {
  sims: Simulators;
  config: Config;
  services: Services;
  dataDir: string;
  /** Environment that points a separate worker process at the same simulators and store. */
  env: Record<string, string>;
  /** A fresh personal Microsoft user (so every test has its own drive). */
  newUser(name: string): SimUser;
  /** Creates the integration and signs `user` in for it, as Connect would. */
  connect(integrationId: string, user: SimUser): Promise<void>;
  close(): Promise<void>;
}

/** A TCP port free on loopback right now (for servers the tests and scripts start). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

export const ENCRYPTION_KEY = Buffer.alloc(32, 7).toString('base64');
export const ADMIN_TOKEN = 'test-admin-token-of-32-characters';
/** Every test's workers and clients encrypt payloads with this key (the product's codec). */
export const PAYLOAD_KEY = `test:${Buffer.alloc(32, 9).toString('base64')}`;
export const dataConverter = dataConverterFor(new EncryptionCodec(parseKeyList(PAYLOAD_KEY, 'PAYLOAD_KEY')));

export interface HarnessOptions extends SimulatorsOptions {
  qontoMode?: 'apiKey' | 'oauth';
  /** Client settings for the worker's activities (shorter retries and deadlines). */
  tuning?: ClientTuning;
  /** More environment for the configuration (e.g. UPLOAD_CONCURRENCY). */
  extraEnv?: Record<string, string>;
}

export async function startHarness(opts: HarnessOptions = {}): Promise<Harness> {
  const dataDir = mkdtempSync(join(tmpdir(), 'receipts-test-'));
  const sims = await startSimulators({ storageDir: join(dataDir, 'drive'), ...opts });
  const env = {
    ...(opts.qontoMode === 'oauth' ? sims.oauthEnv : sims.env),
    PORT: String(await freePort()),
    DATA_DIR: dataDir,
    ADMIN_TOKEN,
    ENCRYPTION_KEY,
    PAYLOAD_KEY,
    SANDBOX: 'false',
    // The Postgres store instead of SQLite in DATA_DIR: the end-to-end flows on both (CI runs both).
    ...(process.env.TEST_STORE === 'postgres' ? { DATABASE_URL: await freshDatabaseUrl() } : {}),
    ...opts.extraEnv,
  };
  const config = loadConfig(env);
  const services = await createServices(config, opts.tuning);
  return {
    sims,
    config,
    services,
    dataDir,
    env,
    newUser: (name) => sims.directory.addUser({ username: `${name}@outlook.com`, name, kind: 'personal' }),
    async connect(integrationId, user) {
      await services.store.createIntegration({ id: integrationId });
      const account = await signInWithSimulator(services.microsoftAuth, integrationId, user.username);
      await services.store.updateIntegration(integrationId, { microsoftAccount: account });
    },
    async close() {
      await services.close();
      await sims.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
