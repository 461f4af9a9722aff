import { randomUUID } from 'node:crypto';
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import { OpenAPIHono } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { getCookie } from 'hono/cookie';
import { reconfigureSignal, revokeSignal, syncNowSignal, workflowIdFor } from '../../workflows/messages.js';
import type { IntegrationSettings } from '../../workflows/state.js';
import type { MicrosoftAuth } from '../auth/microsoft.js';
import type { Sealer } from '../auth/crypto.js';
import type { Integration, Store } from '../store/types.js';
import { startIntegration } from '../temporal/integrations.js';
import { ApiError } from './errors.js';
import { exportLogEntries, exportLogFileName, exportLogStream } from './export-log.js';
import {
  createIntegration,
  exportLog,
  finishIntegration,
  getIntegration,
  listIntegrations,
  reconfigureIntegration,
  revokeIntegration,
  syncIntegration,
} from './integration-routes.js';
import { localeOf } from './pages/i18n.js';
import { missingReceiptJson, missingReceiptsCsv, missingReceiptsRoute } from './missing-receipts.js';
import { readStatus } from './status.js';
import { validationHook } from './validate.js';
import { withdrawConsent } from './withdraw.js';

export interface IntegrationRoutesDeps {
  store: Store;
  sealer: Sealer;
  microsoftAuth: MicrosoftAuth;
  temporal: Client;
  taskQueue: string;
  settings: IntegrationSettings;
  /** Deletes every stored credential of an integration (and, unless `atQonto: false`, revokes the Qonto one where possible). */
  forgetTokens: (integrationId: string, opts?: { atQonto?: boolean }) => Promise<void>;
  /** OAuth mode: the caller's organization (integrations of others are invisible); null in API-key mode. */
  organizationOf: (c: Context) => string | null;
  /** OAuth mode: takes the Qonto tokens of the member who connects (or refuses), and returns how to
   * give them to the new integration. */
  beforeCreate?: (c: Context) => Promise<(integrationId: string) => Promise<void>>;
}

/** How long a Microsoft sign-in may take between Connect and the callback. */
export const SIGN_IN_TTL_MS = 10 * 60_000;

export function integrationRoutes(deps: IntegrationRoutesDeps) {
  const { store, temporal } = deps;
  const app = new OpenAPIHono({ defaultHook: validationHook });
  const handle = (id: string) => temporal.workflow.getHandle(workflowIdFor(id));

  async function load(c: Context, id: string): Promise<Integration> {
    const integration = await store.getIntegration(id);
    const organization = deps.organizationOf(c);
    if (!integration || (organization !== null && integration.organizationId !== organization)) {
      throw new ApiError(404, 'not_found', `No integration ${id}`);
    }
    return integration;
  }

  /** A withdrawn integration takes no more orders, even while its workflow has not ended yet. */
  async function loadActive(c: Context, id: string): Promise<Integration> {
    const integration = await load(c, id);
    if (integration.status === 'revoked') throw new ApiError(409, 'revoked', 'Consent was withdrawn: connect again to start a new integration');
    return integration;
  }

  const statusOf = (integration: Integration) => readStatus({ store, temporal }, integration);

  async function signal(id: string, send: () => Promise<void>): Promise<void> {
    try {
      await send();
    } catch (error) {
      if (error instanceof WorkflowNotFoundError) throw new ApiError(409, 'not_running', `Integration ${id} is not running: finish the setup first`);
      throw error;
    }
  }

  app.openapi(createIntegration, async (c) => {
    const giveTokens = await deps.beforeCreate?.(c);
    const id = randomUUID();
    await store.createIntegration({ id, organizationId: deps.organizationOf(c) });
    // The language the person reads the page in is the language of their alert mails; a request that
    // names none leaves it to the Qonto membership's locale.
    if (getCookie(c, 'lang') || c.req.header('accept-language')) await store.alerts.updateProfile(id, { contactLanguage: localeOf(c) });
    await giveTokens?.(id);
    const state = randomUUID();
    const { authorizationUrl, codeVerifier } = await deps.microsoftAuth.beginSignIn(state);
    await store.putSignIn(state, {
      integrationId: id,
      sealed: deps.sealer.seal(Buffer.from(codeVerifier), `sign-in:${state}`),
      expiresAt: Date.now() + SIGN_IN_TTL_MS,
    });
    return c.json({ id, authorizationUrl }, 201);
  });

  app.openapi(listIntegrations, async (c) => {
    const organization = deps.organizationOf(c);
    const all = (await store.listIntegrations()).filter((i) => organization === null || i.organizationId === organization);
    return c.json({ integrations: await Promise.all(all.map(statusOf)) }, 200);
  });

  app.openapi(getIntegration, async (c) => c.json(await statusOf(await load(c, c.req.valid('param').id)), 200));

  app.openapi(finishIntegration, async (c) => {
    const integration = await loadActive(c, c.req.valid('param').id);
    const body = c.req.valid('json');
    if (!integration.microsoftAccount) throw new ApiError(409, 'not_connected', 'Sign in with Microsoft first (the authorizationUrl from Connect)');
    const timeZone = body.timeZone ?? integration.timeZone;
    const started = await startIntegration(temporal, deps.taskQueue, {
      integrationId: integration.id,
      syncFrom: body.syncFrom,
      timeZone,
      probativeCopies: body.probativeCopies,
      settings: deps.settings,
    });
    const now = await store.getIntegration(integration.id);
    if (!now || now.status === 'revoked') {
      // Withdrawn while this request ran: the workflow just started must stop too.
      await started.signal(revokeSignal).catch(() => {});
      throw new ApiError(409, 'revoked', 'Consent was withdrawn meanwhile');
    }
    // Only the first Finish sets the start date; a repeat leaves the running workflow and its settings alone.
    if (now.status !== 'connecting') return c.json({ id: now.id, status: now.status }, 202);
    const updated = await store.updateIntegration(integration.id, { syncFrom: body.syncFrom, timeZone, probativeCopies: body.probativeCopies, status: 'backfilling' });
    return c.json({ id: updated.id, status: updated.status }, 202);
  });

  app.openapi(reconfigureIntegration, async (c) => {
    const integration = await loadActive(c, c.req.valid('param').id);
    const body = c.req.valid('json');
    await signal(integration.id, () => handle(integration.id).signal(reconfigureSignal, body));
    await store.updateIntegration(integration.id, {
      ...(body.syncFrom ? { syncFrom: body.syncFrom } : {}),
      ...(body.timeZone ? { timeZone: body.timeZone } : {}),
      ...(body.probativeCopies !== undefined ? { probativeCopies: body.probativeCopies } : {}),
    });
    return c.json({ id: integration.id, accepted: body }, 202);
  });

  app.openapi(syncIntegration, async (c) => {
    const integration = await loadActive(c, c.req.valid('param').id);
    await signal(integration.id, () => handle(integration.id).signal(syncNowSignal));
    return c.json({ id: integration.id, accepted: true as const }, 202);
  });

  app.openapi(missingReceiptsRoute, async (c) => {
    const integration = await load(c, c.req.valid('param').id);
    const missing = integration.syncFrom === null ? [] : await store.missingReceipts(integration.id, integration.syncFrom);
    c.header('cache-control', 'no-store');
    if (c.req.valid('query').format === 'csv') {
      const day = new Date().toISOString().slice(0, 10);
      return c.body(missingReceiptsCsv(missing), 200, {
        'content-type': 'text/csv; charset=utf-8',
        'content-disposition': `attachment; filename="missing-receipts-${day}.csv"`,
      });
    }
    return c.json({ missing: missing.map(missingReceiptJson) }, 200);
  });

  app.openapi(revokeIntegration, async (c) => {
    const integration = await load(c, c.req.valid('param').id);
    // Tokens go now, whether or not a worker is running; the workflow stops when it hears of it.
    const { workflowNotified } = await withdrawConsent(deps, integration.id, { reason: 'withdrawn_here', atQonto: true });
    return c.json({ id: integration.id, status: 'revoked' as const, workflowNotified }, 200);
  });

  app.openapi(exportLog, async (c) => {
    const integration = await load(c, c.req.valid('param').id);
    const { format, from, to } = c.req.valid('query');
    const range = { ...(from ? { from } : {}), ...(to ? { to } : {}) };
    // No start date yet (setup not finished): nothing is missing.
    const syncFrom = integration.syncFrom;
    const missing = syncFrom === null ? (async function* () {})() : store.missingLog(integration.id, syncFrom, range);
    const body = exportLogStream(exportLogEntries(store.exportLog(integration.id, range), missing), format);
    const headers: Record<string, string> = {
      'content-type': format === 'csv' ? 'text/csv; charset=utf-8' : 'application/json; charset=utf-8',
      'cache-control': 'no-store',
    };
    if (format === 'csv') headers['content-disposition'] = `attachment; filename="${exportLogFileName(integration.id, range, format)}"`;
    return new Response(body, { status: 200, headers });
  });

  return app;
}
