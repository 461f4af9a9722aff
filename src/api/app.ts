import { Hono, type Context } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import type { Logger } from 'pino';
import { csrf } from 'hono/csrf';
import type { QontoOAuth } from '../auth/qonto-oauth.js';
import { requireAdmin } from './admin-auth.js';
import { ApiError, notFound, onError } from './errors.js';
import { integrationRoutes, type IntegrationRoutesDeps } from './integrations.js';
import { landingPage } from './landing.js';
import { microsoftCallback } from './microsoft-callback.js';
import { openApiDocument } from './openapi.js';
import { qontoLogin } from './qonto-login.js';
import { requestLog } from './request-log.js';
import { Sessions, type Session } from './session.js';

type CommonDeps = Omit<IntegrationRoutesDeps, 'organizationOf' | 'beforeCreate'> & {
  publicUrl: string;
  /** Request logs (one line per request); silent when left out. */
  logger?: Logger;
};

/** API-key mode (one organization, `Bearer $ADMIN_TOKEN`) or OAuth mode ("Sign in with Qonto"). */
export type ApiDeps = CommonDeps &
  (
    | { mode: 'apiKey'; adminToken: string }
    | { mode: 'oauth'; qontoOAuth: QontoOAuth; sessionKey: Buffer; qontoApiUrl: string; stagingToken?: string }
  );

export const MAX_BODY_BYTES = 16 * 1024;

/** The HTTP API (DESIGN.md "Public interface"). */
export function createApp(deps: ApiDeps): Hono {
  const app = new Hono();
  app.onError(onError);
  app.notFound(notFound);
  if (deps.logger) app.use('*', requestLog(deps.logger));
  app.use(
    '*',
    bodyLimit({
      maxSize: MAX_BODY_BYTES,
      onError: () => {
        throw new ApiError(413, 'payload_too_large', `Request bodies are limited to ${MAX_BODY_BYTES} bytes`);
      },
    }),
  );
  app.get('/', landingPage);
  app.get('/healthz', (c) => c.json({ status: 'ok' }));
  app.get('/api/openapi.json', (c) => c.json(openApiDocument));

  let organizationOf: (c: Context) => string | null = () => null;
  let beforeCreate: ((c: Context) => Promise<(id: string) => Promise<void>>) | undefined;
  let sessionOrganization: ((c: Context) => Promise<string | null>) | undefined;
  if (deps.mode === 'apiKey') {
    app.use('/api/integrations', requireAdmin(deps.adminToken));
    app.use('/api/integrations/*', requireAdmin(deps.adminToken));
  } else {
    const secure = deps.publicUrl.startsWith('https://');
    const sessions = new Sessions(deps.sessionKey, deps.sealer, secure);
    const { qontoOAuth } = deps;
    // Session cookies are SameSite=Lax; this also refuses cross-site form posts by their Origin.
    app.use('*', csrf({ origin: new URL(deps.publicUrl).origin }));
    app.route('/auth/qonto', qontoLogin({ qontoOAuth, sessions, qontoApiUrl: deps.qontoApiUrl, stagingToken: deps.stagingToken, secure }));
    app.use('/api/integrations', sessions.require());
    app.use('/api/integrations/*', sessions.require());
    const sessionOf = (c: Context) => c.get('session' as never) as Session;
    organizationOf = (c) => sessionOf(c).organizationId;
    sessionOrganization = async (c) => (await sessions.read(c))?.organizationId ?? null;
    beforeCreate = async (c) => {
      const tokens = await sessions.takeTokens(c, sessionOf(c));
      if (!tokens) throw new ApiError(409, 'qonto_sign_in_needed', 'Each integration needs its own Qonto sign-in: sign in with Qonto again (GET /auth/qonto/login), then connect');
      return (id: string) => qontoOAuth.save(id, tokens);
    };
  }
  app.route('/auth/microsoft/callback', microsoftCallback({ ...deps, organizationOf: sessionOrganization }));
  app.route('/api/integrations', integrationRoutes({ ...deps, organizationOf, beforeCreate }));
  return app;
}
