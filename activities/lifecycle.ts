import type { ActivityDeps } from './deps.js';
import type { StatusInput } from './types.js';

export function lifecycleActivities(deps: ActivityDeps) {
  return {
    /** Mirrors the workflow's status into the store, so the API can answer while no worker runs. */
    async setStatus({ integrationId, status }: StatusInput): Promise<void> {
      await deps.store.createIntegration({ id: integrationId, status });
      await deps.store.updateIntegration(integrationId, { status });
    },

    /** Reconfiguration: every receipt from the start date comes back, deleted folders included. The
     * folder cache goes too: folders still in the drive are found again, deleted ones are re-created. */
    async resetForReimport(integrationId: string): Promise<number> {
      const revived = await deps.store.reviveAll(integrationId);
      await deps.store.forgetFoldersUnder(integrationId, '');
      return revived;
    },

    /** Consent withdrawn: delete every stored token. Files already exported stay in the drive. */
    async revokeConsent(integrationId: string): Promise<void> {
      await deps.forgetTokens(integrationId);
      await deps.store.deleteTokenCaches(integrationId);
      await deps.store.createIntegration({ id: integrationId, status: 'revoked' });
      await deps.store.updateIntegration(integrationId, { status: 'revoked' });
    },
  };
}
