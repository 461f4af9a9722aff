import { OpenAPIHono } from '@hono/zod-openapi';
import type { Context, Hono } from 'hono';
import type { BlankEnv } from 'hono/types';
import type { PayloadCodec } from '@temporalio/common';
import type { Logger } from 'pino';
import type { QontoOAuth } from '../auth/qonto-oauth.js';
import type { RateBudget } from '../budget/rate-budget.js';
import { metricsHandler, type MetricsOptions } from '../metrics/endpoint.js';
import { AdminAuth } from './admin-auth.js';
import { bodyLimit } from './body-limit.js';
import { codecServer } from './codec-server.js';
import { ApiError, notFound, onError } from './errors.js';
import { htmlErrors } from './html-errors.js';
import { integrationRoutes, type IntegrationRoutesDeps } from './integrations.js';
import { microsoftCallback } from './microsoft-callback.js';
import { methodAware } from './method-not-allowed.js';
import { serveOpenApi } from './openapi.js';
import { pageRoutes, type PagesDeps, type Viewer } from './pages/routes.js';
import { qontoLogin } from './qonto-login.js';
import { readinessHandler, type ReadinessChecks } from './readiness.js';
import { ADMIN_FAILURES, SIGN_IN_CALLBACKS, WEBHOOK_FAILURES, clientAddressOf, failureLimit, refusalLimit, requestLimit, type Limit } from './rate-limit.js';
import { requestLog } from './request-log.js';
import { sameOrigin } from './same-origin.js';
import { securityHeaders } from './security-headers.js';
import { Sessions, type Session } from './session.js';
import { webhookRoutes, type WebhookDeps } from '../webhooks/receiver.js';

type CommonDeps = Omit<IntegrationRoutesDeps, 'organizationOf' | 'beforeCreate'> &
  Pick<PagesDeps, 'namespace' | 'defaultTimeZone' | 'temporalUiUrl' | 'sandboxDrives' | 'addSandboxReceipt'> & {
    publicUrl: string;
    /** What `GET /readyz` asks (api-deps.ts builds them from the store and the Temporal client). */
    readiness: ReadinessChecks;
    /** What `GET /metrics` serves (metrics/options.ts); aggregates only when left out. */
    metrics?: MetricsOptions;
    /** Sign session cookies (pages in both modes): the first signs, all verify. */
    sessionKeys: Buffer[];
    /** Request logs (one line per request); silent when left out. */
    logger?: Logger;
    /** Reverse proxies in front of the service (TRUST_PROXY): who the client is, for the limits. */
    trustedProxies?: number;
    /** Per-address limits (defaults: ADMIN_FAILURES, SIGN_IN_CALLBACKS, WEBHOOK_FAILURES). */
    limits?: { adminFailures?: Limit; signInCallbacks?: Limit; webhookFailures?: Limit };
    /** `POST /webhooks/qonto`: QONTO_WEBHOOK_SECRET (API-key mode), QONTO_CLIENT_ID (OAuth mode), test tuning. */
    webhooks?: Partial<Pick<WebhookDeps, 'apiKeySecrets' | 'qontoClientId' | 'forwarder' | 'budgetMs'>>;
    /**
     * `/codec/encode|decode` for the Temporal UI and CLI (codec-server.ts), opened by ADMIN_TOKEN, or `open`
     * to callers without credentials in the sandbox (sandbox-codec.ts); off when left out.
     */
    codec?: { codec: PayloadCodec; adminToken?: string; open: boolean; allowedOrigins: string[] };
  };

/** API-key mode (one organization, `Bearer $ADMIN_TOKEN`) or OAuth mode ("Sign in with Qonto"). */
export type ApiDeps = CommonDeps &
  ({ mode: 'apiKey'; adminToken: string } | { mode: 'oauth'; qontoOAuth: QontoOAuth; qontoApiUrl: string; stagingToken?: string; qontoBudget?: RateBudget });

export const MAX_BODY_BYTES = 16 * 1024;
/**
 * How much of an oversized body is read (and thrown away) so that its sender reads the 413: three
 * times the 5 MB of a mistaken upload of a receipt or an export; beyond it we hang up.
 */
export const DISCARD_BODY_BYTES = 16 * 1024 * 1024;
/** The codec server's bodies: the Temporal UI sends a history page's payloads at once. */
export const MAX_CODEC_BODY_BYTES = 4 * 1024 * 1024;
/** A Qonto delivery is about 3 KB; a transfer's details can grow it, never to this. */
export const MAX_WEBHOOK_BODY_BYTES = 64 * 1024;

const bodyLimitFor = (path: string) => (path.startsWith('/codec/') ? MAX_CODEC_BODY_BYTES : path === '/webhooks/qonto' ? MAX_WEBHOOK_BODY_BYTES : MAX_BODY_BYTES);

/** The HTTP API (docs/architecture.md, Public interface) and the pages. */
export function createApp(deps: ApiDeps): Hono {
  const app = new OpenAPIHono<BlankEnv>();
  const errors = htmlErrors(onError, methodAware(notFound, () => app.routes));
  app.onError(errors.onError);
  app.notFound(errors.notFound);
  if (deps.logger) app.use('*', requestLog(deps.logger));
  app.use('*', securityHeaders(deps.publicUrl));
  app.use('*', bodyLimit(bodyLimitFor, DISCARD_BODY_BYTES));
  const secure = deps.publicUrl.startsWith('https://');
  const clientAddress = clientAddressOf(deps.trustedProxies ?? 0);
  // One counter per address for every way of guessing the admin token.
  const failures = failureLimit(deps.limits?.adminFailures ?? ADMIN_FAILURES, clientAddress);
  const adminToken = deps.mode === 'apiKey' ? deps.adminToken : deps.codec?.adminToken;
  const adminAuth = adminToken ? new AdminAuth(adminToken, deps.sessionKeys, secure, deps.store) : null;
  // Before sameOrigin: the codec server admits the Temporal UI's origin itself.
  if (deps.codec) {
    const { codec, open, allowedOrigins } = deps.codec;
    app.use('/codec/*', failures);
    app.route('/codec', codecServer({ codec, ...(adminAuth ? { requireAdmin: adminAuth.require() } : {}), open, allowedOrigins, namespace: deps.namespace }));
  }
  // Before sameOrigin: a delivery is authenticated by its signature, never by a cookie.
  app.use('/webhooks/qonto', refusalLimit(deps.limits?.webhookFailures ?? WEBHOOK_FAILURES, clientAddress));
  app.route(
    '/webhooks',
    webhookRoutes({
      store: deps.store,
      sealer: deps.sealer,
      temporal: deps.temporal,
      forgetTokens: deps.forgetTokens,
      mode: deps.mode,
      apiKeySecrets: deps.webhooks?.apiKeySecrets ?? [],
      qontoClientId: deps.webhooks?.qontoClientId ?? null,
      ...(deps.webhooks?.forwarder ? { forwarder: deps.webhooks.forwarder } : {}),
      ...(deps.webhooks?.budgetMs !== undefined ? { budgetMs: deps.webhooks.budgetMs } : {}),
    }),
  );
  // Session cookies are SameSite=Lax; this also refuses posts from other origins (other local ports included).
  app.use('*', sameOrigin(deps.publicUrl));
  app.get('/healthz', (c) => c.json({ status: 'ok' }));
  app.get('/readyz', readinessHandler(deps.readiness, deps.logger));
  app.get('/metrics', metricsHandler(deps.metrics ?? { perIntegration: false }));
  serveOpenApi(app, { mode: deps.mode, sandbox: deps.sandboxDrives !== undefined, sandboxReceipts: deps.addSandboxReceipt !== undefined, codec: deps.codec ? { open: deps.codec.open, namespace: deps.namespace } : false });

  const pages = { store: deps.store, temporal: deps.temporal, namespace: deps.namespace, defaultTimeZone: deps.defaultTimeZone, temporalUiUrl: deps.temporalUiUrl, sandboxDrives: deps.sandboxDrives, addSandboxReceipt: deps.addSandboxReceipt, syncTime: deps.settings.syncTime };
  let organizationOf: (c: Context) => string | null = () => null;
  let beforeCreate: ((c: Context) => Promise<(id: string) => Promise<void>>) | undefined;
  let sessionOrganization: ((c: Context) => Promise<string | null>) | undefined;
  // One counter per address for both callbacks: each request may make us call a token endpoint.
  const callbacks = requestLimit(deps.limits?.signInCallbacks ?? SIGN_IN_CALLBACKS, clientAddress);
  app.use('/auth/qonto/callback', callbacks);
  app.use('/auth/microsoft/callback', callbacks);
  if (deps.mode === 'apiKey' && adminAuth) {
    app.use('/auth/admin/login', failures);
    // `/api/integrations/*` matches `/api/integrations` itself too.
    app.use('/api/integrations/*', failures, adminAuth.require());
    const viewer = async (c: Context): Promise<Viewer | null> => ((await adminAuth.hasSession(c)) ? { name: 'ADMIN_TOKEN', role: 'admin', organizationId: null } : null);
    app.route('/', pageRoutes({ ...pages, viewer, signIn: { kind: 'adminToken', adminAuth }, signOut: (c) => adminAuth.endSession(c) }));
  } else if (deps.mode === 'oauth') {
    const sessions = new Sessions(deps.sessionKeys, deps.sealer, deps.store, secure);
    const { qontoOAuth } = deps;
    app.route('/auth/qonto', qontoLogin({ qontoOAuth, sessions, qontoApiUrl: deps.qontoApiUrl, stagingToken: deps.stagingToken, budget: deps.qontoBudget, secure }));
    app.use('/api/integrations/*', sessions.require());
    const sessionOf = (c: Context) => c.get('session' as never) as Session;
    organizationOf = (c) => sessionOf(c).organizationId;
    sessionOrganization = async (c) => (await sessions.read(c))?.organizationId ?? null;
    beforeCreate = async (c) => {
      const tokens = await sessions.takeTokens(c, sessionOf(c));
      if (!tokens) throw new ApiError(409, 'qonto_sign_in_needed', 'Each integration needs its own Qonto sign-in: sign in with Qonto again (GET /auth/qonto/login), then connect');
      return (id: string) => qontoOAuth.save(id, tokens);
    };
    const viewer = async (c: Context): Promise<Viewer | null> => {
      const session = await sessions.read(c);
      return session ? { name: session.name, role: session.role, organizationId: session.organizationId } : null;
    };
    app.route('/', pageRoutes({ ...pages, viewer, signIn: { kind: 'qonto' }, signOut: (c) => sessions.end(c) }));
  }
  app.route('/auth/microsoft/callback', microsoftCallback({ ...deps, organizationOf: sessionOrganization }));
  app.route('/api/integrations', integrationRoutes({ ...deps, organizationOf, beforeCreate }));
  return app;
}
