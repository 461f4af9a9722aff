/**
 * Each integration's Qonto webhook subscription (docs/webhooks.md, Subscriptions). OAuth mode: the
 * integration subscribes its organization with the connecting member's tokens and a secret of its
 * own, kept sealed. API-key mode: the operator registered the subscription in Qonto by hand and set
 * its secret as QONTO_WEBHOOK_SECRET; here only the organization it is for is recorded. Where it
 * cannot subscribe the row says why, and the daily run alone keeps the drive up to date.
 */
import { createHash } from 'node:crypto';
import type { Sealer } from '../auth/crypto.js';
import { isBudgetRefusal } from '../budget/rate-budget.js';
import { FatalError, NotFoundError, SyncError } from '../errors.js';
import { logger } from '../logger.js';
import type { QontoClient } from '../qonto/client.js';
import type { WebhookSubscription, WebhookType } from '../qonto/schemas.js';
import type { Store, WebhookStatus, WebhookSubscriptionRow, WebhookUnavailableReason } from '../store/types.js';
import { generateWebhookSecret, webhookSecretAad } from './secret.js';

/** Where Qonto delivers, below PUBLIC_URL. */
export const WEBHOOK_PATH = '/webhooks/qonto';
export const SUBSCRIBED_TYPES: WebhookType[] = ['v1/transactions', 'v1/consent-revocations'];

export interface WebhookSettings {
  publicUrl: string;
  /** The sandbox allows an http:// PUBLIC_URL (its simulated Qonto delivers to it). */
  sandbox: boolean;
  qontoMode: 'apiKey' | 'oauth' | 'none';
  /** QONTO_WEBHOOK_SECRET (API-key mode). */
  webhookSecrets: string[];
}

/** What subscribing means under these settings, decided before any request. */
export type SubscriptionPlan = { kind: 'subscribe' } | { kind: 'manual' } | { kind: 'unavailable'; reason: WebhookUnavailableReason };

export function subscriptionPlan(settings: WebhookSettings): SubscriptionPlan {
  // API-key mode: Qonto checked the callback when the operator registered it; the secret says it was.
  if (settings.qontoMode === 'apiKey') return settings.webhookSecrets.length > 0 ? { kind: 'manual' } : { kind: 'unavailable', reason: 'no_secret' };
  // Qonto delivers to https only (the sandbox's simulated Qonto delivers to http too).
  if (!settings.sandbox && !settings.publicUrl.startsWith('https://')) return { kind: 'unavailable', reason: 'insecure_public_url' };
  return { kind: 'subscribe' };
}

/** A 403 from Qonto: the member's token lacks the `webhook` scope (signed in before it was asked for). */
export function isRefusal(error: unknown): boolean {
  return error instanceof FatalError && error.status === 403;
}

export function webhookCallbackUrl(publicUrl: string): string {
  return `${publicUrl}${WEBHOOK_PATH}`;
}

/** Names the integration a subscription belongs to: stale ones of this integration are recognised by
 * it, and other integrations' subscriptions to the same callback (same member) are left alone. The
 * attempt that made it (`attemptTag`) follows, so that attempt finds it when Qonto's answer is lost,
 * and an overlapping attempt knows it from its own. */
export function subscriptionDescription(integrationId: string, attempt?: string): string {
  const base = `qonto-onedrive-sync integration ${integrationId}`;
  return attempt === undefined ? base : `${base} attempt ${attempt}`;
}

/** Whether a subscription's description names this integration (with any attempt, or none: made
 * before attempts were named). */
export function ownsDescription(integrationId: string, description: string | null | undefined): boolean {
  const base = subscriptionDescription(integrationId);
  return description === base || (description?.startsWith(`${base} attempt `) ?? false);
}

/** Names a subscription attempt after its sealed secret, which is new for every attempt (random
 * secret and nonce) and is what the row holds while the attempt is in force. A digest: the
 * description Qonto keeps tells nothing of the secret. */
export function attemptTag(sealedSecret: Buffer): string {
  return createHash('sha256').update(sealedSecret).digest('base64url').slice(0, 16);
}

/** A failed POST that Qonto may have carried out all the same: no answer, or not a 4xx one. */
function mayHaveCreated(error: unknown): boolean {
  const status = error instanceof SyncError ? error.status : undefined;
  return status === undefined || status < 400 || status >= 500;
}

export function webhookStatusOf(row: Pick<WebhookSubscriptionRow, 'state' | 'reason' | 'lastEventAt'>): WebhookStatus {
  return { state: row.state, reason: row.reason, lastEventAt: row.lastEventAt };
}

export interface WebhookSubscriptionsDeps {
  store: Store;
  sealer: Sealer;
  /** A client with the integration's credentials; `signal` aborts its requests. */
  qonto: (integrationId: string, signal?: AbortSignal) => QontoClient;
  settings: WebhookSettings;
}

export class WebhookSubscriptions {
  private readonly callbackUrl: string;

  constructor(private readonly deps: WebhookSubscriptionsDeps) {
    this.callbackUrl = webhookCallbackUrl(deps.settings.publicUrl);
  }

  /**
   * Subscribes the integration unless it is already (no request then). Idempotent: an attempt that
   * crashed or lost Qonto's answer leaves a `creating` row, and the next one deletes what it may have
   * created before it subscribes again. Attempts may overlap (one that Temporal timed out can still
   * be running while its retry starts): the row names the attempt in force, by its sealed secret, and
   * only that attempt may make it `active`. `signal` ends the attempt's requests (out of time).
   */
  async ensure(integrationId: string, signal?: AbortSignal): Promise<WebhookStatus> {
    const { store, sealer, settings } = this.deps;
    const row = await store.getWebhookSubscription(integrationId);
    if (row && (row.state === 'active' || row.state === 'manual' || row.state === 'revoked')) return webhookStatusOf(row);
    const integration = await store.getIntegration(integrationId);
    if (!integration) throw new FatalError(`Integration ${integrationId} does not exist`);
    if (integration.status === 'revoked') return { state: 'revoked', reason: null, lastEventAt: row?.lastEventAt ?? null };

    const plan = subscriptionPlan(settings);
    if (plan.kind === 'unavailable') return this.record(integrationId, { state: 'unavailable', reason: plan.reason });
    const qonto = this.deps.qonto(integrationId, signal);
    if (plan.kind === 'manual') {
      const organization = await qonto.getOrganization();
      return this.record(integrationId, { state: 'manual', reason: null, organizationId: organization.id });
    }

    const secret = generateWebhookSecret();
    // Sealed and stored before Qonto knows it: whatever happens next, no delivery goes unverifiable.
    const sealedSecret = sealer.seal(Buffer.from(secret), webhookSecretAad(integrationId));
    const description = subscriptionDescription(integrationId, attemptTag(sealedSecret));
    await store.putWebhookSubscription(integrationId, { state: 'creating', reason: null, subscriptionId: null, sealedSecret });
    try {
      await this.deleteStale(qonto, integrationId);
      const created = await this.create(qonto, { callbackUrl: this.callbackUrl, types: SUBSCRIBED_TYPES, secret, description });
      const activated = await store.activateWebhookSubscription(integrationId, sealedSecret, {
        subscriptionId: created.id,
        organizationId: created.organization_id ?? integration.organizationId,
        membershipId: created.membership_id ?? null,
      });
      // Revoked meanwhile, or a later attempt took the row over: the subscription just made goes again.
      if (!activated) {
        await this.deleteQuietly(qonto, integrationId, created.id).catch((error: unknown) => {
          logger.warn({ err: error, integrationId }, 'the Qonto webhook subscription of a superseded attempt could not be deleted');
        });
      }
      const after = await store.getWebhookSubscription(integrationId);
      return webhookStatusOf(after!);
    } catch (error) {
      if (isRefusal(error)) return this.record(integrationId, { state: 'unavailable', reason: 'missing_scope' });
      throw error;
    }
  }

  /**
   * Consent withdrawn here: deletes the integration's subscription at Qonto, with its tokens (so before
   * they are revoked). Never fails: a subscription Qonto no longer knows, tokens already gone or a
   * network failure are logged, and Qonto stops delivering once the consent is revoked anyway. But
   * a refusal of the fleet's Qonto budget, or `signal` ending the attempt, is thrown: nothing was
   * tried, and the revocation's retry deletes the subscription before the tokens go.
   * API-key mode: the subscription is the operator's, and stays.
   */
  async unsubscribe(integrationId: string, signal?: AbortSignal): Promise<void> {
    if (this.deps.settings.qontoMode === 'apiKey') return;
    const row = await this.deps.store.getWebhookSubscription(integrationId);
    if (!row || (row.state !== 'active' && row.state !== 'creating')) return;
    try {
      const qonto = this.deps.qonto(integrationId, signal);
      if (row.state === 'active' && row.subscriptionId !== null) await this.deleteQuietly(qonto, integrationId, row.subscriptionId);
      // An attempt under way or interrupted may have subscribed without recording the id.
      else await this.deleteOwn(qonto, integrationId);
    } catch (error) {
      if (isBudgetRefusal(error) || signal?.aborted) throw error;
      logger.warn({ err: error, integrationId }, 'the Qonto webhook subscription could not be deleted');
    }
  }

  /** Marks the integration's subscription revoked; its sealed secret stays, so Qonto's late retries
   * still verify (and are then ignored). */
  async markRevoked(integrationId: string): Promise<void> {
    if ((await this.deps.store.getWebhookSubscription(integrationId)) === null) return;
    await this.deps.store.putWebhookSubscription(integrationId, { state: 'revoked' });
  }

  private async record(integrationId: string, row: Partial<WebhookSubscriptionRow> & Pick<WebhookSubscriptionRow, 'state' | 'reason'>): Promise<WebhookStatus> {
    await this.deps.store.putWebhookSubscription(integrationId, row);
    const stored = await this.deps.store.getWebhookSubscription(integrationId);
    return webhookStatusOf(stored ?? { ...row, lastEventAt: null });
  }

  /**
   * The POST is sent once (a second one would make a second subscription). When its answer is lost on
   * the way, Qonto may have made it all the same: it is looked up at once by the attempt's own
   * description, so its deliveries verify from now on rather than after the next full run.
   */
  private async create(qonto: QontoClient, input: Parameters<QontoClient['createWebhookSubscription']>[0]): Promise<WebhookSubscription> {
    try {
      return await qonto.createWebhookSubscription(input);
    } catch (error) {
      // An answer came (4xx): nothing was made.
      if (!mayHaveCreated(error)) throw error;
      const found = await qonto.listWebhookSubscriptions().then(
        (all) => all.find((s) => s.callback_url === input.callbackUrl && s.description === input.description),
        () => undefined,
      );
      if (found === undefined) throw error;
      logger.info({ subscriptionId: found.id }, "Qonto's answer to the webhook subscription was lost; found it by its description");
      return found;
    }
  }

  /**
   * Deletes the subscriptions to our callback that this integration made earlier, except the one of
   * the attempt the row names now. The row is read after the listing: a subscription in the listing
   * was made after its attempt wrote the row, so a row naming another attempt means it is stale.
   */
  private async deleteStale(qonto: QontoClient, integrationId: string): Promise<void> {
    const listed = (await qonto.listWebhookSubscriptions()).filter((s) => s.callback_url === this.callbackUrl && ownsDescription(integrationId, s.description));
    if (listed.length === 0) return;
    const sealed = (await this.deps.store.getWebhookSubscription(integrationId))?.sealedSecret;
    const current = sealed ? subscriptionDescription(integrationId, attemptTag(sealed)) : null;
    for (const s of listed) if (s.description !== current) await this.deleteQuietly(qonto, integrationId, s.id);
  }

  /** Deletes the subscriptions to our callback that this integration made (consent withdrawn). */
  private async deleteOwn(qonto: QontoClient, integrationId: string): Promise<void> {
    for (const s of await qonto.listWebhookSubscriptions()) {
      if (s.callback_url === this.callbackUrl && ownsDescription(integrationId, s.description)) await this.deleteQuietly(qonto, integrationId, s.id);
    }
  }

  private async deleteQuietly(qonto: QontoClient, integrationId: string, subscriptionId: string): Promise<void> {
    try {
      await qonto.deleteWebhookSubscription(subscriptionId);
    } catch (error) {
      if (!(error instanceof NotFoundError)) throw error;
      logger.info({ integrationId, subscriptionId }, 'the Qonto webhook subscription was already gone');
    }
  }
}
