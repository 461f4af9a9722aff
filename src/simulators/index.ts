import { startGraphSimulator, type GraphSimulator } from './graph/server.js';
import { MicrosoftDirectory, type SimUser } from './identity/directory.js';
import { startIdentitySimulator, type IdentitySimulator } from './identity/server.js';
import { seedDemo, type DemoOptions, type DemoSummary } from './qonto/demo.js';
import { startQontoSimulator, type QontoSimulator } from './qonto/server.js';
import type { RateLimit } from './qonto/rate-limit.js';
import type { WebhookDispatcherOptions } from './qonto/webhooks.js';

export interface SimulatorsOptions {
  /** Fixed ports (sandbox); any free port when left out (tests). */
  ports?: { qonto?: number; identity?: number; graph?: number; upload?: number };
  qontoApiKey?: { login: string; secret: string };
  /** Qonto OAuth clients the simulator accepts (default: the sandbox client). */
  qontoOAuthClient?: { clientId: string; clientSecret: string };
  microsoftClient?: { clientId: string; clientSecret: string; redirectUris?: string[] };
  appName?: string;
  storageDir?: string;
  /** Seeds Qonto with the demo organization unless false. */
  demo?: DemoOptions | false;
  now?: () => number;
  /** Added before every Qonto and Graph answer (benchmarks). */
  latencyMs?: number;
  /** Qonto's per-IP limits; default the documented ones (the fleet benchmark scales them down). */
  qontoRateLimit?: RateLimit;
  /** Keep every Qonto API arrival time (`qonto.arrivals`) for sliding-window peaks. */
  qontoRecordArrivals?: boolean;
  /** Lifetimes of the access tokens Qonto's OAuth server and the identity platform issue (default an
   * hour each): short ones make clients refresh, and rotate refresh tokens, all the time. */
  accessTokenTtlSec?: { qonto?: number; microsoft?: number };
  /**
   * How long a spent (rotated) refresh token is still accepted, per provider: Microsoft default 0
   * (strict, AADSTS70000), Qonto default 60 s as the real service. 0 for both makes any refresh of
   * one token by two processes at once fail with invalid_grant (multi-process tests).
   */
  refreshTokenReuseGraceSec?: { microsoft?: number; qonto?: number };
  /** Qonto's webhooks: delivery behaviour, http callbacks (sandbox, benchmark), API-key permission. */
  qontoWebhooks?: WebhookDispatcherOptions & { allowHttpCallbacks?: boolean; webhooksForApiKeys?: boolean };
}

export interface Simulators {
  qonto: QontoSimulator;
  identity: IdentitySimulator;
  graph: GraphSimulator;
  directory: MicrosoftDirectory;
  demo: DemoSummary | null;
  /** A personal (outlook.com) and a work account, ready to sign in. */
  users: { personal: SimUser; work: SimUser };
  /** The configuration that points the service at these simulators (API-key mode). */
  env: Record<string, string>;
  /** The same in OAuth mode ("Sign in with Qonto"). */
  oauthEnv: Record<string, string>;
  close(): Promise<void>;
}

export const SANDBOX_QONTO_KEY = { login: 'demo-organization-1', secret: '0123456789abcdef0123456789abcdef' };
export const SANDBOX_QONTO_OAUTH_CLIENT = { clientId: 'sandbox-qonto-client', clientSecret: 'sandbox-qonto-secret' };
export const SANDBOX_MICROSOFT_CLIENT = { clientId: '00000000-0000-0000-0000-00000000c1d0', clientSecret: 'sandbox-secret' };

/**
 * Qonto, the Microsoft identity platform and Graph (OneDrive), as real HTTP servers on 127.0.0.1,
 * sharing one directory of Microsoft users. The sandbox runs on them; so do the tests.
 */
export async function startSimulators(opts: SimulatorsOptions = {}): Promise<Simulators> {
  const qontoApiKey = opts.qontoApiKey ?? SANDBOX_QONTO_KEY;
  const client: NonNullable<SimulatorsOptions['microsoftClient']> = opts.microsoftClient ?? SANDBOX_MICROSOFT_CLIENT;
  const directory = new MicrosoftDirectory(opts.now ? { now: opts.now } : {});
  const users = {
    personal: directory.addUser({ username: 'camille.martin@outlook.com', name: 'Camille Martin', kind: 'personal' as const }),
    work: directory.addUser({ username: 'camille@contoso.onmicrosoft.com', name: 'Camille (Contoso)', kind: 'work' as const }),
  };
  const qontoOAuthClient = opts.qontoOAuthClient ?? SANDBOX_QONTO_OAUTH_CLIENT;
  const qonto = await startQontoSimulator({
    port: opts.ports?.qonto,
    apiKeys: [qontoApiKey],
    now: opts.now,
    oauthClients: [qontoOAuthClient],
    refreshTokenReuseGraceSec: opts.refreshTokenReuseGraceSec?.qonto,
    latencyMs: opts.latencyMs,
    rateLimit: opts.qontoRateLimit,
    recordArrivals: opts.qontoRecordArrivals,
    oauthAccessTokenTtlSec: opts.accessTokenTtlSec?.qonto,
    webhooks: opts.qontoWebhooks,
    allowHttpCallbacks: opts.qontoWebhooks?.allowHttpCallbacks,
    webhooksForApiKeys: opts.qontoWebhooks?.webhooksForApiKeys,
  });
  const identity = await startIdentitySimulator({
    directory,
    port: opts.ports?.identity,
    refreshTokenReuseGraceSec: opts.refreshTokenReuseGraceSec?.microsoft,
    accessTokenTtlSec: opts.accessTokenTtlSec?.microsoft,
    clients: [{ clientId: client.clientId, clientSecret: client.clientSecret, redirectUris: client.redirectUris }],
  });
  const graph = await startGraphSimulator({
    resolveToken: (token) => directory.resolveAccessToken(token),
    expireAccessTokens: (userId) => directory.expireAccessTokens(userId),
    appName: opts.appName,
    port: opts.ports?.graph,
    uploadPort: opts.ports?.upload,
    storageDir: opts.storageDir,
    latencyMs: opts.latencyMs,
  });
  const demo = opts.demo === false ? null : seedDemo(qonto.data, opts.demo ?? {});
  return {
    qonto,
    identity,
    graph,
    directory,
    demo,
    users,
    env: {
      QONTO_API_URL: qonto.url,
      QONTO_API_LOGIN: qontoApiKey.login,
      QONTO_API_SECRET: qontoApiKey.secret,
      MICROSOFT_LOGIN_URL: identity.url,
      MICROSOFT_CLIENT_ID: client.clientId,
      MICROSOFT_CLIENT_SECRET: client.clientSecret,
      GRAPH_URL: graph.url,
    },
    oauthEnv: {
      QONTO_API_URL: qonto.url,
      QONTO_OAUTH_URL: qonto.url,
      QONTO_CLIENT_ID: qontoOAuthClient.clientId,
      QONTO_CLIENT_SECRET: qontoOAuthClient.clientSecret,
      MICROSOFT_LOGIN_URL: identity.url,
      MICROSOFT_CLIENT_ID: client.clientId,
      MICROSOFT_CLIENT_SECRET: client.clientSecret,
      GRAPH_URL: graph.url,
    },
    close: async () => {
      await Promise.all([qonto.close(), identity.close(), graph.close()]);
    },
  };
}
