import { ApplicationFailure, Context } from '@temporalio/activity';
import type { WebhookStatus } from '../src/store/types.js';
import type { ActivityDeps } from './deps.js';

/** When an attempt stops its requests: at 80 % of its start-to-close timeout. It has no heartbeat, so
 * Temporal could not stop it; it stops itself before Temporal gives up on it and starts the retry,
 * which then does not run alongside it. */
export function subscribeDeadlineMs(startToCloseTimeoutMs: number): number {
  return Math.round(startToCloseTimeoutMs * 0.8);
}

export function webhookActivities(deps: ActivityDeps) {
  return {
    /** Subscribes the integration to Qonto's webhooks unless it is already, or says why it cannot
     * (docs/webhooks.md, Subscriptions); no request when it is subscribed. */
    async ensureWebhookSubscription(input: { integrationId: string }): Promise<WebhookStatus> {
      if (!deps.webhooks) throw ApplicationFailure.nonRetryable('This worker does not manage webhook subscriptions', 'WebhooksNotConfigured');
      const { info, cancellationSignal } = Context.current();
      const outOfTime = AbortSignal.timeout(subscribeDeadlineMs(info.startToCloseTimeoutMs));
      return deps.webhooks.ensure(input.integrationId, AbortSignal.any([cancellationSignal, outOfTime]));
    },
  };
}
