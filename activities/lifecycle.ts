import { Context } from '@temporalio/activity';
import { logger } from '../src/logger.js';
import { observeRunEnded, type RunEnded } from '../src/metrics/runs.js';
import type { ActivityDeps } from './deps.js';
import { subscribeDeadlineMs } from './webhooks.js';
import type { StatusInput } from './types.js';

export function lifecycleActivities(deps: ActivityDeps) {
  return {
    /** Mirrors the workflow's status into the store, so the API can answer while no worker runs. */
    async setStatus({ integrationId, status }: StatusInput): Promise<void> {
      await deps.store.createIntegration({ id: integrationId, status });
      // Consent withdrawn through the API is final, whatever a run still reports: the store keeps a
      // revoked status in the same statement (no read-then-write against a revoke elsewhere).
      await deps.store.updateIntegration(integrationId, { status });
    },

    /** Reconfiguration: every receipt from the start date comes back, deleted folders included (the
     * drive check that runs first has already forgotten the ids of deleted folders). */
    async resetForReimport(integrationId: string): Promise<number> {
      return deps.store.reviveAll(integrationId);
    },

    /** Consent withdrawn: delete every stored token. Files already exported stay in the drive.
     * `cutRun`: the run the withdrawal cut short, if one was under way; it is counted among the runs
     * that ended (outcome `revoked`), once, by the first attempt. */
    async revokeConsent(integrationId: string, cutRun?: RunEnded): Promise<void> {
      // No heartbeat: Temporal cannot stop an attempt it timed out, so the attempt stops its own
      // Qonto requests before then, and its retry does not run beside it.
      const { info, cancellationSignal } = Context.current();
      if (cutRun !== undefined && info.attempt === 1) observeRunEnded(cutRun);
      const outOfTime = AbortSignal.timeout(subscribeDeadlineMs(info.startToCloseTimeoutMs));
      await deps.forgetTokens(integrationId, { signal: AbortSignal.any([cancellationSignal, outOfTime]) });
      await deps.store.deleteTokenCaches(integrationId);
      await deps.store.createIntegration({ id: integrationId, status: 'revoked' });
      await deps.store.updateIntegration(integrationId, { status: 'revoked' });
      // The tokens are gone whatever the mail does: an SMTP server that is down must not hold the
      // revocation's retries (the dashboard shows the withdrawal either way).
      await deps.alerts?.consentWithdrawn(integrationId, new Date().toISOString()).catch((error: unknown) => {
        logger.warn({ err: error }, 'the consent-withdrawn alert could not be sent');
      });
    },
  };
}
