import { describe, expect, it } from 'vitest';
import type { ActivityDeps } from '../../activities/deps.js';
import { lifecycleActivities } from '../../activities/lifecycle.js';
import { openSqliteStore } from '../../src/store/sqlite.js';

describe('setStatus', () => {
  it('mirrors the status, creating the integration if needed, and never undoes a revoke', async () => {
    const store = openSqliteStore(':memory:');
    try {
      const activities = lifecycleActivities({ store } as ActivityDeps);
      await activities.setStatus({ integrationId: 'i1', status: 'backfilling' });
      expect((await store.getIntegration('i1'))?.status).toBe('backfilling');
      await activities.setStatus({ integrationId: 'i1', status: 'idle' });
      expect((await store.getIntegration('i1'))?.status).toBe('idle');
      await store.updateIntegration('i1', { status: 'revoked' });
      await activities.setStatus({ integrationId: 'i1', status: 'syncing' });
      expect((await store.getIntegration('i1'))?.status).toBe('revoked');
    } finally {
      await store.close();
    }
  });
});
