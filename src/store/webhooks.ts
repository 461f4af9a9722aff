import type { Kysely, Updateable } from 'kysely';
import type { Database } from './schema.js';
import type { Store, WebhookState, WebhookSubscriptionRow, WebhookUnavailableReason } from './types.js';
import { now } from './rows.js';

type Row = Database['webhook_subscriptions'];

const COLUMNS = {
  subscriptionId: 'subscription_id',
  organizationId: 'organization_id',
  membershipId: 'membership_id',
  sealedSecret: 'sealed_secret',
  state: 'state',
  reason: 'reason',
  lastEventAt: 'last_event_at',
} as const satisfies Record<keyof Omit<WebhookSubscriptionRow, 'integrationId' | 'updatedAt'>, keyof Row>;

function toSubscription(row: Row): WebhookSubscriptionRow {
  return {
    integrationId: row.integration_id,
    subscriptionId: row.subscription_id,
    organizationId: row.organization_id,
    membershipId: row.membership_id,
    sealedSecret: row.sealed_secret,
    state: row.state as WebhookState,
    reason: row.reason as WebhookUnavailableReason | null,
    lastEventAt: row.last_event_at,
    updatedAt: row.updated_at,
  };
}

/** `lastEventAt` moves only when the stored value is older than this: it tells a person whether
 * events arrive, and a burst then writes the row once, not once per event. */
export const LAST_EVENT_PRECISION_MS = 10_000;

/**
 * The `webhook_events` key: Qonto does not say whether an event id is per event or per delivery, so
 * the same id delivered to two subscriptions (two integrations of one organization) is two events.
 * API-key mode records no subscription: the operator's subscriptions all reach the same integrations.
 */
export function webhookEventKey(subscriptionId: string | null, eventId: string): string {
  return `${subscriptionId ?? ''}:${eventId}`;
}

/** Subscriptions whose events go to their integration's workflow. */
const SUBSCRIBED: WebhookState[] = ['active', 'manual'];

/**
 * The webhook tables (docs/webhooks.md): each integration's subscription, and the delivered events.
 * What must hold across API processes is decided in the database: an event is new for exactly one
 * delivery (its primary key), and a revoked subscription stays revoked.
 */
export function webhookStatements(
  db: Kysely<Database>,
): Pick<
  Store,
  | 'putWebhookSubscription'
  | 'getWebhookSubscription'
  | 'webhookSecrets'
  | 'integrationsOfOrganization'
  | 'recordWebhookEvent'
  | 'pruneWebhookEvents'
  | 'activateWebhookSubscription'
> {
  return {
    async putWebhookSubscription(integrationId, row) {
      const set: Updateable<Row> = { updated_at: now() };
      for (const [key, column] of Object.entries(COLUMNS)) {
        const value = row[key as keyof typeof COLUMNS];
        if (value !== undefined) Object.assign(set, { [column]: value });
      }
      if (row.state === undefined) {
        await db
          .updateTable('webhook_subscriptions')
          .set(set)
          .where('integration_id', '=', integrationId)
          .where('state', '<>', 'revoked')
          .execute();
        return;
      }
      await db
        .insertInto('webhook_subscriptions')
        .values({ ...set, integration_id: integrationId, state: row.state, updated_at: set.updated_at as string })
        .onConflict((oc) => oc.column('integration_id').doUpdateSet(set).where('webhook_subscriptions.state', '<>', 'revoked'))
        .execute();
    },
    async getWebhookSubscription(integrationId) {
      const row = await db.selectFrom('webhook_subscriptions').selectAll().where('integration_id', '=', integrationId).executeTakeFirst();
      return row ? toSubscription(row) : null;
    },
    async webhookSecrets(subscriptionId) {
      const row = await db
        .selectFrom('webhook_subscriptions')
        .select(['integration_id', 'sealed_secret', 'state'])
        .where('subscription_id', '=', subscriptionId)
        .where('sealed_secret', 'is not', null)
        .executeTakeFirst();
      return row ? { integrationId: row.integration_id, sealedSecret: row.sealed_secret!, state: row.state as WebhookState } : null;
    },
    async integrationsOfOrganization(organizationId) {
      const rows = await db
        .selectFrom('webhook_subscriptions as w')
        .innerJoin('integrations as i', 'i.id', 'w.integration_id')
        .select('i.id')
        .where('w.organization_id', '=', organizationId)
        .where('w.state', 'in', SUBSCRIBED)
        .where('i.status', '<>', 'revoked')
        .orderBy('i.id')
        .execute();
      return rows.map((r) => r.id);
    },
    async recordWebhookEvent({ id, subscriptionId, organizationId, type, receivedAt }) {
      // The primary key decides, in one statement, whichever process delivers first. Two statements,
      // no transaction: SQLite's writers on one file would wait on a lock held across an await.
      const result = await db
        .insertInto('webhook_events')
        .values({ id: webhookEventKey(subscriptionId, id), subscription_id: subscriptionId, organization_id: organizationId, type, received_at: receivedAt })
        .onConflict((oc) => oc.column('id').doNothing())
        .executeTakeFirst();
      if (Number(result.numInsertedOrUpdatedRows ?? 0n) === 0) return 'duplicate';
      // Every event of a burst names the same row: the condition is in the WHERE, so a row already
      // recent is neither written nor locked (Postgres locks only the rows an UPDATE matches). Deliveries
      // arrive in any order, and an older one never moves the time back.
      const before = new Date(Date.parse(receivedAt) - LAST_EVENT_PRECISION_MS).toISOString();
      await db
        .updateTable('webhook_subscriptions')
        .set({ last_event_at: receivedAt })
        .$call((q) => (subscriptionId !== null ? q.where('subscription_id', '=', subscriptionId) : q.where('organization_id', '=', organizationId)))
        .where((eb) => eb.or([eb('last_event_at', 'is', null), eb('last_event_at', '<', before)]))
        .execute();
      return 'new';
    },
    async pruneWebhookEvents(before) {
      const result = await db.deleteFrom('webhook_events').where('received_at', '<', before).executeTakeFirst();
      return Number(result.numDeletedRows);
    },
    async activateWebhookSubscription(integrationId, sealedSecret, { subscriptionId, organizationId, membershipId }) {
      // One statement decides: an attempt that lost the row to a later one (or to a revocation)
      // changes nothing, even when the two run in different processes.
      const result = await db
        .updateTable('webhook_subscriptions')
        .set({ state: 'active', reason: null, subscription_id: subscriptionId, organization_id: organizationId, membership_id: membershipId, updated_at: now() })
        .where('integration_id', '=', integrationId)
        .where('state', '=', 'creating')
        .where('sealed_secret', '=', sealedSecret)
        .executeTakeFirst();
      return Number(result.numUpdatedRows) > 0;
    },
  };
}
