import type { Logger } from 'pino';
import type { Store } from '../store/types.js';

/** Event ids are kept this long to recognise Qonto's retries, which go on "for a few days". */
export const WEBHOOK_EVENT_RETENTION_DAYS = 7;
export const WEBHOOK_PRUNE_INTERVAL_MS = 60 * 60_000;

/**
 * Deletes the webhook event ids older than the retention, now and then every hour, in the process that
 * receives them (the API). The timer does not keep the process alive; the returned function stops it.
 */
export function pruneWebhookEventsHourly(store: Pick<Store, 'pruneWebhookEvents'>, log: Pick<Logger, 'info' | 'warn'>, now: () => number = Date.now): () => void {
  const prune = () => {
    const before = new Date(now() - WEBHOOK_EVENT_RETENTION_DAYS * 86_400_000).toISOString();
    store.pruneWebhookEvents(before).then(
      (deleted) => {
        if (deleted > 0) log.info(`Forgot ${deleted} Qonto webhook event ids older than ${WEBHOOK_EVENT_RETENTION_DAYS} days`);
      },
      (error: unknown) => log.warn({ err: error }, 'pruning the Qonto webhook event ids failed; the next hour tries again'),
    );
  };
  prune();
  const timer = setInterval(prune, WEBHOOK_PRUNE_INTERVAL_MS);
  timer.unref();
  return () => clearInterval(timer);
}
