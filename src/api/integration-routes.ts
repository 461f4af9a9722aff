import { createRoute } from '@hono/zod-openapi';
import { z } from '@hono/zod-openapi';
import { created, errorResponse, exportLogBody, finished, integrationList, integrationStatus, reconfigureAccepted, revoked, syncAccepted } from './response-schemas.js';
import { exportLogQuery, finishBody, idParam, reconfigureBody } from './schemas.js';

/** The routes of `/api/integrations`: what they take and everything they can answer. The handlers are
 * in integrations.ts; the OpenAPI document is generated from these. */

/** The security scheme every route below requires (registered per mode in openapi.ts). */
export const CREDENTIALS = 'credentials';

const json = <T>(description: string, schema: T) => ({ description, content: { 'application/json': { schema } } });

/** What any signed-in route can answer before it runs. */
const guarded = {
  401: errorResponse('No credentials (API-key mode: no bearer token; OAuth mode: no session)', ['unauthenticated']),
  403: errorResponse('A wrong admin token, a Qonto role that may not manage the integration, or a request from another site', [
    'forbidden',
    'forbidden_role',
    'cross_origin',
  ]),
  429: errorResponse('Too many failed sign-ins from this address: retry after `Retry-After` seconds', ['too_many_requests']),
} as const;

export const oneIntegration = {
  ...guarded,
  400: errorResponse('A malformed integration id', ['invalid_request']),
  404: errorResponse('No such integration (or one of another organization)', ['not_found']),
} as const;

const posting = {
  413: errorResponse('The request body is too large', ['payload_too_large']),
} as const;

const withBody = {
  ...posting,
  400: errorResponse('An invalid id or body (every problem in details), or malformed JSON', ['invalid_request', 'bad_request']),
  415: errorResponse('The body is not JSON', ['unsupported_media_type']),
} as const;

const common = { tags: ['integrations'], security: [{ [CREDENTIALS]: [] }] };
const params = { params: idParam };
const jsonBody = <T>(schema: T) => ({ required: true, content: { 'application/json': { schema } } });

export const createIntegration = createRoute({
  ...common,
  method: 'post',
  path: '/',
  summary: 'Connect: a pending integration and the Microsoft sign-in URL',
  responses: {
    201: json('Created: open authorizationUrl in a browser to sign in with Microsoft', created),
    ...guarded,
    ...posting,
    409: errorResponse('OAuth mode: this Qonto sign-in already went to an integration; sign in with Qonto again', ['qonto_sign_in_needed']),
  },
});

export const listIntegrations = createRoute({
  ...common,
  method: 'get',
  path: '/',
  summary: 'All integrations (in OAuth mode, those of the signed-in organization)',
  responses: { 200: json('The integrations and their status', integrationList), ...guarded },
});

export const getIntegration = createRoute({
  ...common,
  method: 'get',
  path: '/{id}',
  summary: 'Status, counts, quota and next run',
  request: params,
  responses: { 200: json('Status', integrationStatus), ...oneIntegration },
});

export const finishIntegration = createRoute({
  ...common,
  method: 'post',
  path: '/{id}/finish',
  summary: 'Finish: starts the sync (idempotent: a repeat leaves the running one alone)',
  request: { ...params, body: jsonBody(finishBody) },
  responses: {
    202: json('Started', finished),
    ...oneIntegration,
    ...withBody,
    409: errorResponse('Not signed in with Microsoft yet, or consent was withdrawn', ['not_connected', 'revoked']),
  },
});

export const reconfigureIntegration = createRoute({
  ...common,
  method: 'patch',
  path: '/{id}',
  summary: 'Reconfigure (start date, zone, probative copies): re-imports everything from the start date',
  request: { ...params, body: jsonBody(reconfigureBody) },
  responses: {
    202: json('Accepted: the workflow re-imports from the new settings', reconfigureAccepted),
    ...oneIntegration,
    ...withBody,
    409: errorResponse('Not started yet (finish the setup first), or consent was withdrawn', ['not_running', 'revoked']),
  },
});

export const syncIntegration = createRoute({
  ...common,
  method: 'post',
  path: '/{id}/sync',
  summary: 'Sync now',
  request: params,
  responses: {
    202: json('Accepted: a run starts now', syncAccepted),
    ...oneIntegration,
    ...posting,
    409: errorResponse('Not started yet (finish the setup first), or consent was withdrawn', ['not_running', 'revoked']),
  },
});

export const revokeIntegration = createRoute({
  ...common,
  method: 'post',
  path: '/{id}/revoke',
  summary: 'Withdraw consent: stops syncing and deletes the tokens; files stay in OneDrive',
  request: params,
  responses: { 200: json('Revoked', revoked), ...oneIntegration, ...posting },
});

export const exportLog = createRoute({
  ...common,
  method: 'get',
  path: '/{id}/export-log',
  summary: 'The export log: every receipt file (and probative copy) with its path, size and hashes, the copies not made and the transactions still missing a receipt, streamed (docs/export-log.md)',
  request: { ...params, query: exportLogQuery },
  responses: {
    200: {
      description: 'The log, written as it is read: CSV (a download, header row first) or JSON. A `from` after `to` is an empty log (CSV: the header row only), not an error',
      content: { 'text/csv': { schema: z.string() }, 'application/json': { schema: exportLogBody } },
    },
    ...oneIntegration,
    400: errorResponse('A malformed integration id, a format other than csv or json, or a from or to that is not a calendar date YYYY-MM-DD', ['invalid_request']),
  },
});
