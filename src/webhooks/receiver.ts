import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import { z, type OpenAPIHono } from '@hono/zod-openapi';
import { Hono, type Context } from 'hono';
import { transactionsChangedSignal, workflowIdFor } from '../../workflows/messages.js';
import { errorBody } from '../api/errors.js';
import { errorResponse } from '../api/response-schemas.js';
import { signalRevoke, withdrawConsent, type WithdrawDeps } from '../api/withdraw.js';
import type { Sealer } from '../auth/crypto.js';
import { logger } from '../logger.js';
import { observeWebhookDelivery, type WebhookOutcome } from '../metrics/webhooks.js';
import type { Store } from '../store/types.js';
import { parseDelivery, webhookDelivery, type WebhookDelivery } from './delivery-schema.js';
import { SignalForwarder, type ForwarderOptions } from './forward.js';
import { ExpiringLru } from './secret-cache.js';
import { parseSignatureHeader, verifyQontoSignature } from './signature.js';

/**
 * `POST /webhooks/qonto` (docs/webhooks.md). Qonto wants a 2xx within one second, so the request path
 * touches only the store and Temporal: the change goes to the integration's workflow as a signal, which
 * does the Qonto and Graph work later. A plain Hono handler, not an OpenAPI route: the signature is over
 * the raw bytes, which must be read before anything parses them.
 */

/** The Temporal part of a delivery gets this long; Qonto's own limit is 1 s. */
export const WEBHOOK_BUDGET_MS = 700;
/** Subscription secrets looked up in the store stay in process this long (one read per forged request at most). */
const SECRET_CACHE_MS = 60_000;
const SECRET_CACHE_ENTRIES = 1_000;
/** A subscription id the store does not know stays unknown this long: a flood of them costs a read each 5 s. */
const UNKNOWN_CACHE_MS = 5_000;
/** API-key mode: an organization's integrations are read again after this long, not once per delivery of a burst. */
const ORGANIZATION_CACHE_MS = 5_000;

export interface WebhookDeps extends WithdrawDeps {
  store: Store;
  sealer: Sealer;
  temporal: Client;
  mode: 'apiKey' | 'oauth';
  /** API-key mode: QONTO_WEBHOOK_SECRET (all verify). OAuth mode: each subscription's own, from the store. */
  apiKeySecrets: readonly string[];
  /** OAuth mode: our QONTO_CLIENT_ID; a consent revocation of another client is not ours. */
  qontoClientId: string | null;
  forwarder?: ForwarderOptions;
  /** Tests shorten or lengthen it. */
  budgetMs?: number;
}

/**
 * Runs `fn`'s Temporal calls under `deadline`, and gives up at the deadline whatever they are doing
 * (gRPC deadlines do not cover the client's first connection, nor its waits between retries). A call
 * given up may still land later; a signal twice is harmless, the workflow keys changes by transaction.
 */
async function withinBudget<T>(temporal: Client, deadline: number, fn: () => Promise<T>): Promise<T> {
  const abort = new AbortController();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      abort.abort();
      reject(new Error('Temporal did not answer within the webhook budget'));
    }, Math.max(0, deadline - Date.now()));
  });
  try {
    return await Promise.race([temporal.withAbortSignal(abort.signal, () => temporal.withDeadline(deadline, fn)), expired]);
  } finally {
    clearTimeout(timer);
  }
}

/** Where a verified delivery may go: its secrets, and the integrations it concerns once verified. */
interface Source {
  secrets: string[];
  /** The subscribed integrations; `withRevoked`: also the one of a revoked subscription (OAuth mode), so
   * that Qonto's retry of a consent revocation half handled still reaches its workflow. */
  integrations: (withRevoked: boolean) => Promise<string[]>;
  subscriptionId: string | null;
}

interface CachedSubscription {
  integrationId: string;
  secret: string;
  live: boolean;
}

/** The answers a delivery gets: `{status}` for 2xx. */
const answered = z.object({ status: z.enum(['accepted', 'duplicate', 'ignored']) });

export function webhookRoutes(deps: WebhookDeps): Hono {
  const app = new Hono();
  const budgetMs = deps.budgetMs ?? WEBHOOK_BUDGET_MS;
  const cache = new ExpiringLru<CachedSubscription>(SECRET_CACHE_ENTRIES, SECRET_CACHE_MS);
  const unknown = new ExpiringLru<true>(SECRET_CACHE_ENTRIES, UNKNOWN_CACHE_MS);
  const organizations = new ExpiringLru<string[]>(SECRET_CACHE_ENTRIES, ORGANIZATION_CACHE_MS);
  const forwarder = new SignalForwarder(
    (integrationId, changes, deadline) =>
      withinBudget(deps.temporal, deadline, () => deps.temporal.workflow.getHandle(workflowIdFor(integrationId)).signal(transactionsChangedSignal, { changes }))
        .then(
          () => 'signalled' as const,
          (error: unknown) => {
            if (error instanceof WorkflowNotFoundError) return 'not_running' as const;
            throw error;
          },
        ),
    deps.forwarder,
  );

  async function subscription(subscriptionId: string): Promise<CachedSubscription | null> {
    const cached = cache.get(subscriptionId);
    if (cached) return cached;
    if (unknown.get(subscriptionId)) return null;
    const row = await deps.store.webhookSecrets(subscriptionId);
    let secret: string | null = null;
    try {
      if (row) secret = deps.sealer.open(row.sealedSecret, `webhook-secret:${row.integrationId}`).toString('utf8');
    } catch {
      // sealed with a key no longer configured: it cannot authenticate anything
    }
    if (!row || secret === null) {
      unknown.set(subscriptionId, true);
      return null;
    }
    // A subscription being created may already deliver; a revoked one is a tombstone that still verifies.
    const entry = { integrationId: row.integrationId, secret, live: row.state === 'active' || row.state === 'creating' };
    cache.set(subscriptionId, entry);
    return entry;
  }

  async function sourceOf(delivery: WebhookDelivery): Promise<Source | null> {
    if (deps.mode === 'apiKey') {
      if (deps.apiKeySecrets.length === 0) return null;
      // The operator's subscription has no row of its own: the integrations' rows are matched by
      // organization, and so is their "last event" (a subscription id would match none of them).
      return { secrets: [...deps.apiKeySecrets], integrations: () => integrationsOf(delivery.organization_id), subscriptionId: null };
    }
    if (!delivery.subscription_id) return null;
    const found = await subscription(delivery.subscription_id);
    if (!found) return null;
    return { secrets: [found.secret], integrations: async (withRevoked) => (found.live || withRevoked ? [found.integrationId] : []), subscriptionId: delivery.subscription_id };
  }

  async function integrationsOf(organizationId: string): Promise<string[]> {
    const cached = organizations.get(organizationId);
    if (cached) return cached;
    const ids = await deps.store.integrationsOfOrganization(organizationId);
    organizations.set(organizationId, ids);
    return ids;
  }

  /**
   * A consent revocation: withdraws the integration, or when an earlier delivery of it already did
   * (its answer was a 503, or it ended after its budget), only tells the workflow again. False when
   * Temporal was not reached: Qonto must retry.
   */
  async function revoke(integrationId: string): Promise<boolean | null> {
    if ((await deps.store.getIntegration(integrationId))?.status === 'revoked') return signalRevoke(deps.temporal, integrationId);
    return (await withdrawConsent(deps, integrationId, { reason: 'withdrawn_in_qonto', atQonto: false })).workflowNotified;
  }

  const answer = (c: Context, outcome: WebhookOutcome, status: 200 | 202) => {
    observeWebhookDelivery(outcome);
    return c.json({ status: outcome as z.infer<typeof answered>['status'] }, status);
  };
  const refuse = (c: Context, outcome: WebhookOutcome, status: 400 | 401 | 415 | 503, message: string) => {
    observeWebhookDelivery(outcome);
    // Counted by the per-address failure limit (a guesser of signatures or a broken sender). Not an
    // unknown subscription: Qonto's genuine retries for one we deleted come from the address every
    // integration's deliveries share, and a lookup of one costs little (cached above).
    if ((status === 400 || status === 401) && outcome !== 'unknown_subscription') c.set('authFailed', true);
    return c.json(errorBody(outcome, message), status);
  };

  app.post('/qonto', async (c) => {
    const receivedAt = Date.now();
    const deadline = receivedAt + budgetMs;
    const mediaType = c.req.header('content-type')?.split(';')[0]?.trim().toLowerCase();
    if (mediaType !== 'application/json') return refuse(c, 'unsupported_media_type', 415, 'Deliveries are application/json');
    const raw = new Uint8Array(await c.req.arrayBuffer());
    const header = c.req.header('x-qonto-signature');
    if (!parseSignatureHeader(header)) return refuse(c, 'invalid_signature', 401, 'X-Qonto-Signature is missing or malformed');
    const parsed = parseDelivery(raw, new Date(receivedAt).toISOString());
    if (!parsed) return refuse(c, 'bad_request', 400, 'The body is not a Qonto webhook delivery');
    const { delivery, action } = parsed;

    const source = await sourceOf(delivery);
    // No secret to check it with: a 2xx would acknowledge a delivery nobody authenticated.
    if (!source) return refuse(c, 'unknown_subscription', 401, 'No subscription here can authenticate this delivery');
    const check = verifyQontoSignature({ header, body: raw, secrets: source.secrets, nowSec: Math.floor(receivedAt / 1000) });
    if (!check.ok) {
      return check.reason === 'stale'
        ? refuse(c, 'stale_signature', 401, 'The signature is more than 5 minutes away from our clock')
        : refuse(c, 'invalid_signature', 401, 'The signature does not match');
    }

    // Verified from here: whatever we do not act on gets a 2xx so that Qonto stops retrying it.
    if (action.kind === 'ignored') return answer(c, 'ignored', 200);
    if (action.kind === 'revocation' && action.clientId !== deps.qontoClientId) return answer(c, 'ignored', 200);
    const integrations = await source.integrations(action.kind === 'revocation');
    if (integrations.length === 0) return answer(c, 'ignored', 200);

    // Handed to Temporal first, recorded after: a crash in between leaves no record, so Qonto's retry
    // is handled again rather than taken for a duplicate. A repeat is signalled again too (harmless:
    // the workflow merges changes by transaction); the record only decides which answer says 'new'.
    try {
      if (action.kind === 'transaction') {
        const outcomes = await Promise.all(integrations.map((id) => forwarder.send(id, action.change, deadline)));
        // Not running (not finished, or withdrawn): its backfill or daily run covers the change.
        if (!outcomes.includes('signalled')) return answer(c, 'ignored', 200);
      } else {
        for (const id of integrations) {
          const notified = await withinBudget(deps.temporal, deadline, () => revoke(id));
          if (notified === false) throw new Error('Temporal did not take the revoke signal');
        }
        if (source.subscriptionId) cache.delete(source.subscriptionId);
      }
    } catch (error) {
      // Not durable: Qonto retries, and the retry is handled as new (nothing was recorded).
      logger.warn({ err: error, eventId: delivery.id }, 'a Qonto webhook delivery could not be handed to Temporal');
      return refuse(c, 'unavailable', 503, 'The delivery could not be taken now: retry later');
    }

    const recorded = await deps.store.recordWebhookEvent({
      id: delivery.id,
      subscriptionId: source.subscriptionId,
      organizationId: delivery.organization_id,
      type: delivery.type,
      receivedAt: new Date(receivedAt).toISOString(),
    });
    if (recorded === 'duplicate') return answer(c, 'duplicate', 200);
    return answer(c, 'accepted', 202);
  });

  return app;
}

/** The route in the OpenAPI document (it is not an OpenAPI route itself, see above). */
export function registerWebhookPath(registry: OpenAPIHono['openAPIRegistry']): void {
  registry.registerPath({
    method: 'post',
    path: '/webhooks/qonto',
    tags: ['webhooks'],
    summary: 'Qonto webhook deliveries (v1/transactions, v1/consent-revocations), authenticated by their HMAC signature',
    request: {
      headers: z.object({
        'x-qonto-signature': z.string().openapi({ description: '`t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw body>">`', example: 't=1704110400,v1=56aff06dc227db80d6568a5070f912c601c31f20451745d257cbc0b5dfa93805' }),
      }),
      body: { required: true, content: { 'application/json': { schema: webhookDelivery } } },
    },
    responses: {
      202: { description: 'Taken: the change is durable in the workflow (or the consent withdrawn)', content: { 'application/json': { schema: answered } } },
      200: { description: 'Verified, nothing to do: already seen (duplicate), or no running integration or type of ours (ignored)', content: { 'application/json': { schema: answered } } },
      400: errorResponse('Not JSON, or not a delivery', ['bad_request']),
      401: errorResponse('A missing, malformed, stale or wrong signature, or a subscription we have no secret for', ['invalid_signature', 'stale_signature', 'unknown_subscription']),
      413: errorResponse('The body is larger than a delivery can be', ['payload_too_large']),
      415: errorResponse('Not application/json', ['unsupported_media_type']),
      429: errorResponse('Too many refused deliveries from this address: retry after `Retry-After` seconds', ['too_many_requests']),
      503: errorResponse('Temporal did not take it in time, or refused it: Qonto retries, and the retry is not a duplicate', ['unavailable']),
    },
  });
}
