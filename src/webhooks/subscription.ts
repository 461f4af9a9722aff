/**
 * Each integration's Qonto webhook subscription (docs/webhooks.md, Subscriptions). OAuth mode: the
 * integration subscribes its organization with the connecting member's tokens and a secret of its
 * own, kept sealed. API-key mode: the operator registered the subscription in Qonto by hand and set
 * its secret as QONTO_WEBHOOK_SECRET; here only the organization it is for is recorded. Where it
 * cannot subscribe the row says why, and the daily run alone keeps the drive up to date.
 */
import type { Sealer } from '../auth/crypto.js';
import { FatalError, NotFoundError } from '../errors.js';
import { logger } from '../logger.js';
import type { QontoClient } from '../qonto/client.js';
import type { WebhookType } from '../qonto/schemas.js';
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
 * it, and other integrations' subscriptions to the same callback (same member) are left alone. */
export function subscriptionDescription(integrationId: string): string {
  return `qonto-onedrive-sync integration ${integrationId}`;
}

export function webhookStatusOf(row: Pick<WebhookSubscriptionRow, 'state' | 'reason' | 'lastEventAt'>): WebhookStatus {
  return { state: row.state, reason: row.reason, lastEventAt: row.lastEventAt };
}

export interface WebhookSubscriptionsDeps {
  store: Store;
  sealer: Sealer;
  /** A client with the integration's credentials. */
  qonto: (integrationId: string) => QontoClient;
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
   * created before it subscribes again.
   */
  async ensure(integrationId: string): Promise<WebhookStatus> {
    const { store, sealer, settings } = this.deps;
    const row = await store.getWebhookSubscription(integrationId);
    if (row && (row.state === 'active' || row.state === 'manual' || row.state === 'revoked')) return webhookStatusOf(row);
    const integration = await store.getIntegration(integrationId);
    if (!integration) throw new FatalError(`Integration ${integrationId} does not exist`);
    if (integration.status === 'revoked') return { state: 'revoked', reason: null, lastEventAt: row?.lastEventAt ?? null };

    const plan = subscriptionPlan(settings);
    if (plan.kind === 'unavailable') return this.record(integrationId, { state: 'unavailable', reason: plan.reason });
    const qonto = this.deps.qonto(integrationId);
    if (plan.kind === 'manual') {
      const organization = await qonto.getOrganization();
      return this.record(integrationId, { state: 'manual', reason: null, organizationId: organization.id });
    }

    const secret = generateWebhookSecret();
    // Sealed and stored before Qonto knows it: whatever happens next, no delivery goes unverifiable.
    const sealedSecret = sealer.seal(Buffer.from(secret), webhookSecretAad(integrationId));
    await store.putWebhookSubscription(integrationId, { state: 'creating', reason: null, subscriptionId: null, sealedSecret });
    try {
      await this.deleteOwn(qonto, integrationId);
      const created = await qonto.createWebhookSubscription({
        callbackUrl: this.callbackUrl,
        types: SUBSCRIBED_TYPES,
        secret,
        description: subscriptionDescription(integrationId),
      });
      await store.putWebhookSubscription(integrationId, {
        state: 'active',
        subscriptionId: created.id,
        organizationId: created.organization_id ?? integration.organizationId,
        membershipId: created.membership_id ?? null,
      });
      const after = await store.getWebhookSubscription(integrationId);
      // Revoked meanwhile (the revoked row is kept as it was): the subscription just made goes again.
      if (after?.state === 'revoked') {
        await this.deleteQuietly(qonto, integrationId, created.id).catch((error: unknown) => {
          logger.warn({ err: error, integrationId }, 'the Qonto webhook subscription of a revoked integration could not be deleted');
        });
      }
      return webhookStatusOf(after!);
    } catch (error) {
      if (isRefusal(error)) return this.record(integrationId, { state: 'unavailable', reason: 'missing_scope' });
      throw error;
    }
  }

  /**
   * Consent withdrawn here: deletes the integration's subscription at Qonto, with its tokens (so before
   * they are revoked). Never fails: a subscription Qonto no longer knows, tokens already gone or a
   * network failure are logged, and Qonto stops delivering once the consent is revoked anyway.
   * API-key mode: the subscription is the operator's, and stays.
   */
  async unsubscribe(integrationId: string): Promise<void> {
    if (this.deps.settings.qontoMode === 'apiKey') return;
    const row = await this.deps.store.getWebhookSubscription(integrationId);
    if (!row || (row.state !== 'active' && row.state !== 'creating')) return;
    try {
      const qonto = this.deps.qonto(integrationId);
      if (row.state === 'active' && row.subscriptionId !== null) await this.deleteQuietly(qonto, integrationId, row.subscriptionId);
      // An attempt under way or interrupted may have subscribed without recording the id.
      else await this.deleteOwn(qonto, integrationId);
    } catch (error) {
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

  /** Deletes the subscriptions to our callback that this integration made earlier. */
  private async deleteOwn(qonto: QontoClient, integrationId: string): Promise<void> {
    const description = subscriptionDescription(integrationId);
    for (const s of await qonto.listWebhookSubscriptions()) {
      if (s.callback_url === this.callbackUrl && s.description === description) await this.deleteQuietly(qonto, integrationId, s.id);
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
