import { ApplicationFailure } from '@temporalio/activity';
import { MockActivityEnvironment } from '@temporalio/testing';
import { describe, expect, it } from 'vitest';
import type { ActivityDeps } from '../../activities/deps.js';
import { createActivities } from '../../activities/index.js';
import { subscribeDeadlineMs } from '../../activities/webhooks.js';
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

/** Runs the activity as a worker would, with this start-to-close timeout. */
const ensure = (webhooks: ActivityDeps['webhooks'], startToCloseTimeoutMs = 60_000) => {
  const activities = createActivities(deps(webhooks));
  return new MockActivityEnvironment({ startToCloseTimeoutMs }).run((input: { integrationId: string }) => activities.ensureWebhookSubscription(input), { integrationId: 'i1' });
};

describe('ensureWebhookSubscription activity', () => {
  it("hands back the subscription's status", async () => {
    expect(await ensure({ ensure: async () => ({ state: 'active', reason: null, lastEventAt: null }) })).toEqual({ state: 'active', reason: null, lastEventAt: null });
  });

  it('ends its work before Temporal would time it out and start the retry alongside it', async () => {
    expect(subscribeDeadlineMs(60_000)).toBeLessThan(60_000);
    const ended = await ensure(
      {
        // Qonto does not answer: only the signal ends the attempt.
        ensure: (_id, signal) => new Promise((_resolve, reject) => signal!.addEventListener('abort', () => reject(signal!.reason as Error))),
      },
      200,
    ).catch((e: unknown) => e);
    expect(ended).toMatchObject({ name: 'TimeoutError' });
  });

  it('fails for good where retrying cannot help, and is retried where it can', async () => {
    const notConfigured = await ensure(undefined).catch((e: unknown) => e);
    expect(notConfigured).toBeInstanceOf(ApplicationFailure);
    expect(notConfigured).toMatchObject({ type: 'WebhooksNotConfigured', nonRetryable: true });

    const rejected = ensure({ ensure: async () => Promise.reject(new FatalError('Qonto POST /v2/webhook_subscriptions answered 422', { status: 422 })) });
    expect(await rejected.catch((e: unknown) => e)).toMatchObject({ type: 'Fatal', nonRetryable: true });

    const busy = ensure({ ensure: async () => Promise.reject(new RetryableError('Qonto answered 503', { status: 503 })) });
    expect(await busy.catch((e: unknown) => e)).toMatchObject({ type: 'Retryable', nonRetryable: false });
  });
});
