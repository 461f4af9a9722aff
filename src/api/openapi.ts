import { codecServerPaths } from './codec-server.js';

/** The OpenAPI 3.1 description of the public HTTP interface (DESIGN.md), served at /api/openapi.json. */
const error = { $ref: '#/components/schemas/Error' };
const json = (schema: unknown) => ({ content: { 'application/json': { schema } } });
const errors = {
  '400': { description: 'Invalid request', ...json(error) },
  '401': { description: 'No credentials', ...json(error) },
  '403': { description: 'Not allowed', ...json(error) },
  '404': { description: 'Unknown integration', ...json(error) },
};
const id = { name: 'id', in: 'path', required: true, schema: { type: 'string' } };
const admin = [{ adminToken: [] }];

export const openApiDocument = {
  openapi: '3.1.0',
  info: { title: 'Qonto → OneDrive receipts', version: '0.1.0' },
  components: {
    securitySchemes: { adminToken: { type: 'http', scheme: 'bearer', description: 'ADMIN_TOKEN (API-key mode)' } },
    schemas: {
      Error: {
        type: 'object',
        required: ['error'],
        properties: { error: { type: 'object', required: ['code', 'message'], properties: { code: { type: 'string' }, message: { type: 'string' }, details: {} } } },
      },
      Settings: {
        type: 'object',
        additionalProperties: false,
        properties: { syncFrom: { type: 'string', format: 'date' }, timeZone: { type: 'string', example: 'Europe/Paris' } },
      },
      Status: {
        type: 'object',
        properties: {
          id: { type: 'string' },
          status: { enum: ['connecting', 'backfilling', 'idle', 'syncing', 'quota_exceeded', 'reconnect_required', 'revoked', 'failed'] },
          syncFrom: { type: ['string', 'null'] },
          timeZone: { type: ['string', 'null'] },
          nextRunAt: { type: ['string', 'null'], format: 'date-time' },
          lastRun: { type: ['object', 'null'] },
          counts: { type: 'object', properties: { exported: { type: 'integer' }, failed: { type: 'integer' }, pending: { type: 'integer' } } },
          quota: { type: ['object', 'null'] },
          lastError: { type: ['string', 'null'] },
          microsoftAccount: { type: ['string', 'null'] },
          phase: { type: ['string', 'null'], description: 'What the workflow is doing, in words' },
          backfill: { type: ['object', 'null'], properties: { done: { type: 'boolean' }, exported: { type: 'integer' }, pending: { type: 'integer' } } },
        },
      },
    },
  },
  paths: {
    '/': { get: { summary: 'The setup steps and the dashboard (HTML; ?lang=en|de switches the language); where the sign-ins land', responses: { '200': { description: 'HTML page' } } } },
    '/integrations/{id}/panel': { get: { summary: "A dashboard's status panel (HTML fragment the page refreshes)", parameters: [id], responses: { '200': { description: 'HTML fragment' }, ...errors } } },
    '/assets/app.css': { get: { summary: 'Page styles', responses: { '200': { description: 'CSS' } } } },
    '/assets/app.js': { get: { summary: 'Page script (calls this API)', responses: { '200': { description: 'JavaScript' } } } },
    '/auth/admin/login': { post: { summary: 'API-key mode: pages sign in with the admin token (form field token)', responses: { '303': { description: 'To the setup page, with a session cookie when the token is right' } } } },
    '/auth/logout': { post: { summary: 'Ends the page session', responses: { '303': { description: 'To the setup page' } } } },
    '/sandbox/drive': { get: { summary: 'Sandbox only: the simulated OneDrive, listed (HTML)', responses: { '200': { description: 'HTML page' } } } },
    '/auth/qonto/login': { get: { summary: 'OAuth mode: Sign in with Qonto', responses: { '302': { description: 'To Qonto' } } } },
    '/auth/qonto/callback': {
      get: {
        summary: 'OAuth mode: finishes the Qonto sign-in (owners, admins, accountants only)',
        parameters: ['code', 'state', 'error', 'error_description'].map((name) => ({ name, in: 'query', required: name === 'state', schema: { type: 'string' } })),
        responses: { '302': { description: 'Signed in: to the setup page' }, '400': { description: 'Unknown or used state', ...json(error) }, '403': { description: 'Role not allowed', ...json(error) } },
      },
    },
    '/healthz': { get: { summary: 'Liveness', responses: { '200': { description: 'Alive' } } } },
    '/api/openapi.json': { get: { summary: 'This document', responses: { '200': { description: 'OpenAPI document' } } } },
    '/api/integrations': {
      post: { summary: 'Connect: a pending integration and the Microsoft sign-in URL', security: admin, responses: { '201': { description: 'Created', ...json({ type: 'object', properties: { id: { type: 'string' }, authorizationUrl: { type: 'string' } } }) }, ...errors } },
      get: { summary: 'All integrations', security: admin, responses: { '200': { description: 'List', ...json({ type: 'object', properties: { integrations: { type: 'array', items: { $ref: '#/components/schemas/Status' } } } }) }, ...errors } },
    },
    '/api/integrations/{id}': {
      get: { summary: 'Status', security: admin, parameters: [id], responses: { '200': { description: 'Status', ...json({ $ref: '#/components/schemas/Status' }) }, ...errors } },
      patch: { summary: 'Reconfigure: re-imports from the start date', security: admin, parameters: [id], requestBody: { required: true, ...json({ $ref: '#/components/schemas/Settings' }) }, responses: { '202': { description: 'Accepted' }, ...errors } },
    },
    '/api/integrations/{id}/finish': {
      post: { summary: 'Finish: starts the sync (idempotent)', security: admin, parameters: [id], requestBody: { required: true, ...json({ allOf: [{ $ref: '#/components/schemas/Settings' }], required: ['syncFrom'] }) }, responses: { '202': { description: 'Started' }, ...errors } },
    },
    '/api/integrations/{id}/sync': { post: { summary: 'Sync now', security: admin, parameters: [id], responses: { '202': { description: 'Accepted' }, ...errors } } },
    '/api/integrations/{id}/revoke': { post: { summary: 'Withdraw consent: stop, delete tokens; files stay', security: admin, parameters: [id], responses: { '200': { description: 'Revoked' }, ...errors } } },
    '/auth/microsoft/callback': {
      get: {
        summary: 'Finishes the Microsoft sign-in, then redirects to the setup page',
        parameters: ['code', 'state', 'error', 'error_description'].map((name) => ({ name, in: 'query', required: name === 'state', schema: { type: 'string' } })),
        responses: { '302': { description: 'Back to the setup page' }, '400': { description: 'Unknown or used state', ...json(error) } },
      },
    },
    ...codecServerPaths,
  },
} as const;
