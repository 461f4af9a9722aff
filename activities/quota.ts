import { observeQuota } from '../src/metrics/quota.js';
import { SHORT_ACTIVITY_LIMITS, type ActivityDeps } from './deps.js';
import type { QuotaCheck } from './types.js';

export function quotaActivities(deps: ActivityDeps) {
  return {
    /** The drive's free space against what waits to be exported. `full` when not even the next
     * receipt fits: the run then stops cleanly instead of hammering a full drive. */
    async checkQuota(integrationId: string): Promise<QuotaCheck> {
      const { quota } = await deps.onedrive(integrationId, SHORT_ACTIVITY_LIMITS).getDrive();
      observeQuota(integrationId, quota);
      const counts = await deps.store.counts(integrationId);
      const [next] = await deps.store.nextToExport(integrationId, -1, 1);
      const full = next !== undefined && (quota.state === 'exceeded' || quota.remaining < next.size);
      return {
        quota: { total: quota.total, used: quota.used, remaining: quota.remaining, deleted: quota.deleted, state: quota.state },
        counts,
        full,
      };
    },
  };
}
