import { ApplicationFailure } from '@temporalio/activity';
import { describe, expect, it } from 'vitest';
import type { ActivityDeps } from '../../activities/deps.js';
import { createActivities } from '../../activities/index.js';
import { FatalError, RetryableError } from '../../src/errors.js';
import type { Store } from '../../src/store/types.js';

const deps = (webhooks?: ActivityDeps['webhooks']): ActivityDeps => ({
  store: {} as Store,
  qonto: () => {
    throw new Error('not used');
  },
  onedrive: () => {
    throw new Error('not used');
  },
  forgetTokens: async () => undefined,
  ...(webhooks ? { webhooks } : {}),
});

describe('ensureWebhookSubscription activity', () => {
  it("hands back the subscription's status", async () => {
    const activities = createActivities(deps({ ensure: async () => ({ state: 'active', reason: null, lastEventAt: null }) }));
    expect(await activities.ensureWebhookSubscription({ integrationId: 'i1' })).toEqual({ state: 'active', reason: null, lastEventAt: null });
  });

  it('fails for good where retrying cannot help, and is retried where it can', async () => {
    const notConfigured = await createActivities(deps()).ensureWebhookSubscription({ integrationId: 'i1' }).catch((e: unknown) => e);
    expect(notConfigured).toBeInstanceOf(ApplicationFailure);
    expect(notConfigured).toMatchObject({ type: 'WebhooksNotConfigured', nonRetryable: true });

    const rejected = createActivities(deps({ ensure: async () => Promise.reject(new FatalError('Qonto POST /v2/webhook_subscriptions answered 422', { status: 422 })) }));
    expect(await rejected.ensureWebhookSubscription({ integrationId: 'i1' }).catch((e: unknown) => e)).toMatchObject({ type: 'Fatal', nonRetryable: true });

    const busy = createActivities(deps({ ensure: async () => Promise.reject(new RetryableError('Qonto answered 503', { status: 503 })) }));
    expect(await busy.ensureWebhookSubscription({ integrationId: 'i1' }).catch((e: unknown) => e)).toMatchObject({ type: 'Retryable', nonRetryable: false });
  });
});
