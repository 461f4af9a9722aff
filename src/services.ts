import { createHmac } from 'node:crypto';
import type { DataConverter, PayloadCodec } from '@temporalio/common';
import type { ActivityDeps } from '../activities/index.js';
import { LONG_ACTIVITY_BUDGET_WAIT_MS, SHORT_ACTIVITY_LIMITS, limitedRetry, type ClientLimits } from '../activities/deps.js';
import { RateBudget } from './budget/rate-budget.js';
import { smtpMailer } from './alerts/mailer.js';
import { alertService } from './alerts/service.js';
import { createSealer, loadOrCreateKeys, type Sealer } from './auth/crypto.js';
import { MicrosoftAuth } from './auth/microsoft.js';
import { ConfigError, type Config } from './config.js';
import { BackoffGate, gatesByKey } from './http/backoff-gate.js';
import { closeAgents } from './http/deadlines.js';
import { OneDriveClient, type OneDriveClientOptions } from './onedrive/client.js';
import { QontoOAuth } from './auth/qonto-oauth.js';
import { QontoClient, type QontoClientOptions } from './qonto/client.js';
import { StartupError } from './roles/startup-error.js';
import { StoreConnectError } from './store/connect-failure.js';
import { storeLocation } from './store/location.js';
import { openSqliteStoreReady } from './store/sqlite.js';
import type { Store } from './store/types.js';
import { dataConverterFor } from './temporal/data-converter.js';
import { EncryptionCodec, payloadKeys } from './temporal/payload-codec.js';
import { WebhookSubscriptions } from './webhooks/subscription.js';

export interface Services {
  store: Store;
  sealer: Sealer;
  microsoftAuth: MicrosoftAuth;
  /** OAuth mode only: Qonto sign-in and the per-integration Qonto tokens. */
  qontoOAuth: QontoOAuth | null;
  /** Sign session cookies, derived from the encryption keys so there is no other secret to manage:
   * the first signs, all verify (they rotate with ENCRYPTION_KEY). */
  sessionKeys: Buffer[];
  /** Encrypts Temporal payloads (PAYLOAD_KEY, else derived from the encryption keys). */
  payloadCodec: PayloadCodec;
  /** For every Temporal client and worker of the process. */
  dataConverter: DataConverter;
  /** The fleet-wide budget of Qonto API requests (QONTO_RATE_LIMIT), for the API's sign-in too. */
  qontoBudget: RateBudget;
  deps: ActivityDeps;
  close(): Promise<void>;
}

/** Client settings the configuration does not expose (tests shorten retries and deadlines). */
export interface ClientTuning {
  graph?: Pick<OneDriveClientOptions, 'retry' | 'deadlines' | 'simpleUploadMax' | 'fragmentSize'>;
  qonto?: Pick<QontoClientOptions, 'retry' | 'deadlines'>;
}

/** The store DATABASE_URL selects (store/location.ts), migrated and ready. The Postgres driver is
 * loaded only when it is used: a process on SQLite does not carry it. */
export async function openStore(config: Config): Promise<Store> {
  const location = storeLocation(config);
  if (location.kind === 'sqlite') return openSqliteStoreReady(location.file);
  const { openPostgresStore } = await import('./store/postgres.js');
  return openPostgresStore(location.url, location.options).catch((error: unknown) => {
    // What the operator must fix (TLS, authentication) is said in words at start-up, without a stack
    // trace (main.ts, exit code 2). A server not reachable yet stays a StoreConnectError (exit code 1).
    throw error instanceof StoreConnectError && error.operatorMustFix ? new StartupError(error.message, { cause: error }) : error;
  });
}

/** The store, credentials and clients the worker's activities (and later the API) run on. */
export async function createServices(config: Config, tuning: ClientTuning = {}): Promise<Services> {
  const { MICROSOFT_CLIENT_ID: clientId, MICROSOFT_CLIENT_SECRET: clientSecret } = config;
  const missing = [
    ...(config.qontoMode === 'none' ? ['QONTO_API_LOGIN and QONTO_API_SECRET (API-key mode) or QONTO_CLIENT_ID and QONTO_CLIENT_SECRET (OAuth mode) are required (or SANDBOX=true)'] : []),
    ...(!clientId || !clientSecret ? ['MICROSOFT_CLIENT_ID and MICROSOFT_CLIENT_SECRET are required (or SANDBOX=true)'] : []),
  ];
  if (missing.length > 0 || !clientId || !clientSecret) throw new ConfigError(missing);

  const store = await openStore(config);
  const keys = await loadOrCreateKeys({ encryptionKey: config.ENCRYPTION_KEY, dataDir: config.dataDir });
  const sealer = createSealer(keys);
  const sessionKeys = keys.map((key) => createHmac('sha256', key).update('session-key').digest());
  const payloadCodec = new EncryptionCodec(payloadKeys(config.PAYLOAD_KEY, keys));
  const microsoftAuth = new MicrosoftAuth({
    clientId,
    clientSecret,
    loginUrl: config.MICROSOFT_LOGIN_URL,
    redirectUri: `${config.PUBLIC_URL}/auth/microsoft/callback`,
    store,
    sealer,
  });
  const qontoOAuth =
    config.qontoMode === 'oauth'
      ? new QontoOAuth({
          oauthUrl: config.QONTO_OAUTH_URL,
          clientId: config.QONTO_CLIENT_ID!,
          clientSecret: config.QONTO_CLIENT_SECRET!,
          redirectUri: `${config.PUBLIC_URL}/auth/qonto/callback`,
          store,
          sealer,
        })
      : null;
  // One back-off for all the Qonto requests of the process, whichever integration and activity make
  // them: Qonto limits per IP address (docs/contracts-qonto.md, Rate limits), so a 429 holds back
  // discovery, page prefetch and upload lanes of every integration alike.
  const qontoGate = new BackoffGate();
  // And one budget for all the processes of the deployment, held in the store: each Qonto API
  // request reserves its slot there (QONTO_RATE_LIMIT), so the fleet together stays inside the
  // limits, and a 429 to any process holds back all of them. Graph's app-wide limit the same way,
  // its permits leased in blocks.
  const qontoBudget = new RateBudget(store, 'qonto', config.QONTO_RATE_LIMIT);
  const graphPermits = new RateBudget(store, 'graph', config.GRAPH_RATE_LIMIT).lease();
  // A client without limits serves a heartbeating activity (or the API-key client shared by them).
  const budgetWait = (limits?: ClientLimits) => limits?.maxBudgetWaitMs ?? LONG_ACTIVITY_BUDGET_WAIT_MS;
  const apiKeyClient =
    config.QONTO_API_LOGIN && config.QONTO_API_SECRET
      ? new QontoClient({
          baseUrl: config.QONTO_API_URL,
          auth: { kind: 'apiKey', login: config.QONTO_API_LOGIN, secret: config.QONTO_API_SECRET },
          stagingToken: config.QONTO_STAGING_TOKEN,
          gate: qontoGate,
          budget: qontoBudget,
          maxBudgetWaitMs: budgetWait(),
          ...tuning.qonto,
        })
      : null;
  // OAuth mode: each integration reads Qonto with the tokens of the member who connected it.
  // A client for a short activity (`limits`) does not wait long windows in process.
  const qonto = (integrationId: string, limits?: ClientLimits) =>
    qontoOAuth
      ? new QontoClient({
          baseUrl: config.QONTO_API_URL,
          auth: { kind: 'oauth', getAccessToken: () => qontoOAuth.getAccessToken(integrationId) },
          stagingToken: config.QONTO_STAGING_TOKEN,
          gate: qontoGate,
          budget: qontoBudget,
          maxBudgetWaitMs: budgetWait(limits),
          ...tuning.qonto,
          retry: limitedRetry(tuning.qonto?.retry, limits),
        })
      : limits === undefined
        ? apiKeyClient!
        : new QontoClient({
            baseUrl: config.QONTO_API_URL,
            auth: { kind: 'apiKey', login: config.QONTO_API_LOGIN!, secret: config.QONTO_API_SECRET! },
            stagingToken: config.QONTO_STAGING_TOKEN,
            gate: qontoGate,
            budget: qontoBudget,
            maxBudgetWaitMs: budgetWait(limits),
            ...tuning.qonto,
            retry: limitedRetry(tuning.qonto?.retry, limits),
          });
  const webhooks = new WebhookSubscriptions({
    store,
    sealer,
    qonto: (integrationId, signal) => qonto(integrationId, { ...SHORT_ACTIVITY_LIMITS, signal }),
    settings: { publicUrl: config.PUBLIC_URL, sandbox: config.sandbox, qontoMode: config.qontoMode, webhookSecrets: config.webhookSecrets },
  });
  // One back-off for all the requests of a drive, whichever activity makes them (rclone's pacer).
  const driveGate = gatesByKey();
  const deps: ActivityDeps = {
    store,
    sealer,
    uploadConcurrency: config.UPLOAD_CONCURRENCY,
    driveReports: { exportLog: config.EXPORT_LOG_CSV, missingReceipts: config.MISSING_RECEIPTS_CSV },
    qonto,
    onedrive: (integrationId, limits) =>
      new OneDriveClient({
        graphUrl: config.GRAPH_URL,
        getAccessToken: (request) => microsoftAuth.getAccessToken(integrationId, request),
        gate: driveGate(integrationId),
        permits: graphPermits,
        maxBudgetWaitMs: budgetWait(limits),
        ...tuning.graph,
        retry: limitedRetry(tuning.graph?.retry, limits),
      }),
    // atQonto false: consent was withdrawn in Qonto, which already ended the subscription and tokens.
    forgetTokens: async (integrationId, { atQonto = true, signal } = {}) => {
      if (atQonto) {
        // Both need the stored Qonto tokens: the subscription first, then the tokens, before the caches go.
        await webhooks.unsubscribe(integrationId, signal);
        await qontoOAuth?.revoke(integrationId);
      }
      await webhooks.markRevoked(integrationId);
      await microsoftAuth.forget(integrationId);
    },
    webhooks,
  };
  const mailer = config.SMTP_URL && config.ALERT_FROM ? smtpMailer(config.SMTP_URL, config.ALERT_FROM) : null;
  deps.alerts = alertService({
    store,
    mailer,
    publicUrl: config.PUBLIC_URL,
    alertTo: config.ALERT_TO ?? null,
    apiKeyMode: config.qontoMode === 'apiKey',
    periodReminder: config.MISSING_RECEIPTS_REMINDER,
    membership: qontoOAuth ? async (integrationId) => qonto(integrationId, SHORT_ACTIVITY_LIMITS).getMembership() : undefined,
  });
  const close = async () => {
    mailer?.close();
    await store.close();
    // The outbound connection pools, once their requests are done.
    await closeAgents();
  };
  return { store, sealer, microsoftAuth, qontoOAuth, sessionKeys, payloadCodec, dataConverter: dataConverterFor(payloadCodec), qontoBudget, deps, close };
}
