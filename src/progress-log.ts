import { logger } from './logger.js';
import type { Store } from './store/types.js';

const EVERY_MS = 5_000;

/**
 * Long work shows in the log: while an integration imports or syncs, one line every few seconds with
 * the receipts exported so far, only when the numbers moved. Reads the store, so it needs no worker.
 */
export function logProgress(store: Store, log: (line: string) => void = (line) => logger.info(line)): () => void {
  const last = new Map<string, string>();
  const timer = setInterval(() => {
    void (async () => {
      for (const integration of await store.listIntegrations()) {
        if (integration.status !== 'backfilling' && integration.status !== 'syncing') continue;
        const c = await store.counts(integration.id);
        const line = `${integration.status === 'backfilling' ? 'Backfill' : 'Sync'} of integration ${integration.id}: ${c.exported} of ${c.exported + c.pending + c.failed} receipts in OneDrive${c.failed ? ` (${c.failed} to retry)` : ''}`;
        if (last.get(integration.id) !== line) log(line);
        last.set(integration.id, line);
      }
    })().catch(() => {});
  }, EVERY_MS);
  timer.unref();
  return () => clearInterval(timer);
}
