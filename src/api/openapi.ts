import { z, type OpenAPIHono } from '@hono/zod-openapi';
import { registerCodecPaths } from './codec-server.js';
import { CREDENTIALS } from './integration-routes.js';
import { readinessBody } from './readiness.js';
import { errorResponse } from './response-schemas.js';
import { callbackQuery, idParam } from './schemas.js';
import { registerWebhookPath } from '../webhooks/receiver.js';

/**
 * `/api/openapi.json`, generated: the JSON API's routes document themselves (integration-routes.ts);
 * the pages and sign-in routes, which answer HTML and redirects, are registered here with the same
 * zod schemas that validate them.
 */
export function serveOpenApi(app: OpenAPIHono, opts: { mode: 'apiKey' | 'oauth'; sandbox: boolean; sandboxReceipts?: boolean; codec: false | { open: boolean; namespace: string } }): void {
  const registry = app.openAPIRegistry;
  registry.registerComponent(
    'securitySchemes',
    CREDENTIALS,
    opts.mode === 'apiKey'
      ? { type: 'http', scheme: 'bearer', description: 'API-key mode: ADMIN_TOKEN (the pages use the admin_session cookie instead)' }
      : { type: 'apiKey', in: 'cookie', name: 'session', description: 'OAuth mode: the session cookie of "Sign in with Qonto"' },
  );
  const html = (description: string) => ({ description, content: { 'text/html': { schema: z.string() } } });
  const redirect = (status: 302 | 303, description: string) => ({ [status]: { description, headers: { location: { schema: { type: 'string' as const } } } } });
  const page = { tags: ['pages'] };
  const posted = {
    403: errorResponse('A request from another site', ['cross_origin'], { html: true }),
    413: errorResponse('The request body is too large', ['payload_too_large'], { html: true }),
  };
  const callback = (summary: string, forbidden: readonly [string, ...string[]] | null) => ({
    method: 'get' as const,
    tags: ['sign-in'],
    summary,
    request: { query: callbackQuery },
    responses: {
      ...redirect(302, 'Back to the setup page, with the outcome in the query string'),
      400: errorResponse('A missing, unknown, used or expired state', ['invalid_request', 'invalid_state'], { html: true }),
      ...(forbidden ? { 403: errorResponse('Not allowed to finish this sign-in', forbidden, { html: true }) } : {}),
      // Node's HTTP server answers it before the app sees the request (a long `code`, percent-encoded).
      431: { description: 'The request line and headers are larger than the server takes (16 KiB)' },
      429: errorResponse('Too many sign-in callbacks from this address: retry after `Retry-After` seconds', ['too_many_requests'], { html: true }),
    },
  });

  registry.registerPath({
    ...page,
    method: 'get',
    path: '/',
    summary: 'The setup steps and the dashboard; where the sign-ins land',
    request: { query: z.object({ lang: z.string().optional().openapi({ description: 'en or de switches the language (remembered in a cookie); another value is ignored' }) }) },
    responses: { 200: html('The page') },
  });
  registry.registerPath({
    ...page,
    method: 'get',
    path: '/integrations/{id}/panel',
    summary: "A dashboard's status panel (the HTML fragment the page refreshes)",
    request: { params: idParam },
    responses: {
      200: html('The panel'),
      400: errorResponse('A malformed integration id', ['invalid_request'], { html: true }),
      401: errorResponse('No page session', ['unauthenticated'], { html: true }),
      404: errorResponse('No such integration', ['not_found'], { html: true }),
    },
  });
  for (const [path, type, what] of [
    ['/assets/app.css', 'text/css', 'Page styles'],
    ['/assets/app.js', 'text/javascript', 'Page script (it calls this API)'],
  ] as const) {
    registry.registerPath({ ...page, method: 'get', path, summary: what, responses: { 200: { description: what, content: { [type]: { schema: z.string() } } } } });
  }
  if (opts.mode === 'apiKey') {
    registry.registerPath({
      ...page,
      method: 'post',
      path: '/auth/admin/login',
      summary: 'The pages sign in with the admin token',
      // Any form is answered with a redirect: a missing or wrong token lands on the page that says so.
      request: { body: { content: { 'application/x-www-form-urlencoded': { schema: z.object({ token: z.string().optional() }) } } } },
      responses: {
        ...redirect(303, 'To the setup page: with a session cookie when the token is right, else to say it is wrong'),
        ...posted,
        429: errorResponse('Too many wrong tokens from this address: retry after `Retry-After` seconds', ['too_many_requests'], { html: true }),
      },
    });
  }
  registry.registerPath({
    ...page,
    method: 'post',
    path: '/auth/logout',
    summary: 'Ends the page session',
    responses: { ...redirect(303, 'To the setup page'), ...posted },
  });
  if (opts.sandbox) {
    registry.registerPath({ ...page, method: 'get', path: '/sandbox/drive', summary: 'Sandbox only: the simulated OneDrive, listed', responses: { 200: html('The page') } });
    if (opts.sandboxReceipts) {
      registry.registerPath({
        ...page,
        method: 'post',
        path: '/sandbox/receipts',
        summary: 'Sandbox only: attaches a new receipt to a demo payment in the simulated Qonto',
        responses: { ...redirect(303, 'To the simulated OneDrive'), ...posted },
      });
    }
  }
  if (opts.mode === 'oauth') {
    registry.registerPath({ method: 'get', path: '/auth/qonto/login', tags: ['sign-in'], summary: 'Sign in with Qonto', responses: redirect(302, 'To Qonto') });
    const qontoCallback = callback('Finishes the Qonto sign-in (owners, admins and accountants only)', ['forbidden_role']);
    registry.registerPath({
      ...qontoCallback,
      path: '/auth/qonto/callback',
      responses: {
        ...qontoCallback.responses,
        503: {
          ...errorResponse('The Qonto rate budget has no slot for the sign-in within 5 s: sign in again after `Retry-After` seconds', ['qonto_busy'], { html: true }),
          headers: { 'retry-after': { schema: { type: 'integer' as const } } },
        },
      },
    });
  }
  registry.registerPath({
    ...callback('Finishes the Microsoft sign-in started by Connect', opts.mode === 'oauth' ? ['forbidden'] : null),
    path: '/auth/microsoft/callback',
  });
  registry.registerPath({
    method: 'get',
    path: '/healthz',
    summary: 'Liveness',
    responses: { 200: { description: 'Alive', content: { 'application/json': { schema: z.object({ status: z.literal('ok') }) } } } },
  });
  registry.registerPath({
    method: 'get',
    path: '/readyz',
    summary: 'Readiness: the store and Temporal answer, and a worker polls the task queue',
    responses: {
      200: { description: 'Ready', content: { 'application/json': { schema: readinessBody } } },
      503: { description: 'Not ready: the checks that are down say why', content: { 'application/json': { schema: readinessBody } } },
    },
  });
  registry.registerPath({
    method: 'get',
    path: '/metrics',
    summary: 'Prometheus metrics (text format 0.0.4): counts and ages, no personal data (docs/metrics.md)',
    responses: { 200: { description: 'Every series of this process', content: { 'text/plain; version=0.0.4; charset=utf-8': { schema: z.string() } } } },
  });
  registry.registerPath({
    method: 'get',
    path: '/api/openapi.json',
    summary: 'This document',
    responses: { 200: { description: 'OpenAPI 3.1', content: { 'application/json': { schema: z.record(z.string(), z.unknown()) } } } },
  });
  registerWebhookPath(registry);
  if (opts.codec) registerCodecPaths(registry, opts.codec);
  app.doc31('/api/openapi.json', { openapi: '3.1.0', info: { title: 'Qonto → OneDrive receipts', version: '0.1.0' } });
}
