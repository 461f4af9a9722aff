import type { Client } from '@temporalio/client';
import { Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import type { IntegrationSettings } from '../../workflows/state.js';
import type { Sealer } from '../auth/crypto.js';
import type { MicrosoftAuth } from '../auth/microsoft.js';
import type { Store } from '../store/types.js';
import { requireAdmin } from './admin-auth.js';
import { ApiError, notFound, onError } from './errors.js';
import { integrationRoutes } from './integrations.js';
import { landingPage } from './landing.js';
import { microsoftCallback } from './microsoft-callback.js';
import { openApiDocument } from './openapi.js';

export interface ApiDeps {
  store: Store;
  sealer: Sealer;
  microsoftAuth: MicrosoftAuth;
  temporal: Client;
  taskQueue: string;
  settings: IntegrationSettings;
  adminToken: string;
}

export const MAX_BODY_BYTES = 16 * 1024;

/** The HTTP API (DESIGN.md "Public interface"), API-key mode: callers use `Bearer $ADMIN_TOKEN`. */
export function createApp(deps: ApiDeps): Hono {
  const app = new Hono();
  app.onError(onError);
  app.notFound(notFound);
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
  app.route('/auth/microsoft/callback', microsoftCallback(deps));
  app.use('/api/integrations', requireAdmin(deps.adminToken));
  app.use('/api/integrations/*', requireAdmin(deps.adminToken));
  app.route('/api/integrations', integrationRoutes(deps));
  return app;
}
