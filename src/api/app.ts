import { Hono, type Context } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import type { Logger } from 'pino';
import type { QontoOAuth } from '../auth/qonto-oauth.js';
import { AdminAuth } from './admin-auth.js';
import { ApiError, notFound, onError } from './errors.js';
import { htmlErrors } from './html-errors.js';
import { integrationRoutes, type IntegrationRoutesDeps } from './integrations.js';
import { microsoftCallback } from './microsoft-callback.js';
import { openApiDocument } from './openapi.js';
import { pageRoutes, type PagesDeps, type Viewer } from './pages/routes.js';
import { qontoLogin } from './qonto-login.js';
import { requestLog } from './request-log.js';
import { sameOrigin } from './same-origin.js';
import { Sessions, type Session } from './session.js';

type CommonDeps = Omit<IntegrationRoutesDeps, 'organizationOf' | 'beforeCreate'> &
  Pick<PagesDeps, 'namespace' | 'defaultTimeZone' | 'temporalUiUrl' | 'sandboxDrives'> & {
    publicUrl: string;
    /** Sign session cookies (pages in both modes): the first signs, all verify. */
    sessionKeys: Buffer[];
    /** Request logs (one line per request); silent when left out. */
    logger?: Logger;
    /** `/codec/encode|decode` for the Temporal UI and CLI (codec-server.ts); off when left out. */
    codecServer?: Hono;
  };

/** API-key mode (one organization, `Bearer $ADMIN_TOKEN`) or OAuth mode ("Sign in with Qonto"). */
export type ApiDeps = CommonDeps &
  ({ mode: 'apiKey'; adminToken: string } | { mode: 'oauth'; qontoOAuth: QontoOAuth; qontoApiUrl: string; stagingToken?: string });

export const MAX_BODY_BYTES = 16 * 1024;

/** The HTTP API (DESIGN.md "Public interface") and the pages. */
export function createApp(deps: ApiDeps): Hono {
  const app = new Hono();
  const errors = htmlErrors(onError, notFound);
  app.onError(errors.onError);
  app.notFound(errors.notFound);
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
  if (deps.codecServer) app.route('/codec', deps.codecServer); // before sameOrigin: it admits the Temporal UI's origin itself
  // Session cookies are SameSite=Lax; this also refuses posts from other origins (other local ports included).
  app.use('*', sameOrigin(deps.publicUrl));
  app.get('/healthz', (c) => c.json({ status: 'ok' }));
  app.get('/api/openapi.json', (c) => c.json(openApiDocument));

  const secure = deps.publicUrl.startsWith('https://');
  const pages = { store: deps.store, temporal: deps.temporal, namespace: deps.namespace, defaultTimeZone: deps.defaultTimeZone, temporalUiUrl: deps.temporalUiUrl, sandboxDrives: deps.sandboxDrives };
  let organizationOf: (c: Context) => string | null = () => null;
  let beforeCreate: ((c: Context) => Promise<(id: string) => Promise<void>>) | undefined;
  let sessionOrganization: ((c: Context) => Promise<string | null>) | undefined;
  if (deps.mode === 'apiKey') {
    const adminAuth = new AdminAuth(deps.adminToken, deps.sessionKeys, secure);
    app.use('/api/integrations', adminAuth.require());
    app.use('/api/integrations/*', adminAuth.require());
    const viewer = async (c: Context): Promise<Viewer | null> => ((await adminAuth.hasSession(c)) ? { name: 'ADMIN_TOKEN', role: 'admin', organizationId: null } : null);
    app.route('/', pageRoutes({ ...pages, viewer, signIn: { kind: 'adminToken', adminAuth }, signOut: (c) => adminAuth.endSession(c) }));
  } else {
    const sessions = new Sessions(deps.sessionKeys, deps.sealer, secure);
    const { qontoOAuth } = deps;
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
