import { ApplicationFailure } from '@temporalio/activity';
import type { WebhookStatus } from '../src/store/types.js';
import type { ActivityDeps } from './deps.js';

export function webhookActivities(deps: ActivityDeps) {
  return {
    /** Subscribes the integration to Qonto's webhooks unless it is already, or says why it cannot
     * (docs/webhooks.md, Subscriptions); no request when it is subscribed. */
    async ensureWebhookSubscription(input: { integrationId: string }): Promise<WebhookStatus> {
      if (!deps.webhooks) throw ApplicationFailure.nonRetryable('This worker does not manage webhook subscriptions', 'WebhooksNotConfigured');
      return deps.webhooks.ensure(input.integrationId);
    },
  };
}
