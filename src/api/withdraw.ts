import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import { revokeSignal, workflowIdFor } from '../../workflows/messages.js';
import type { RevokedReason, Store } from '../store/types.js';

export interface WithdrawDeps {
  store: Store;
  temporal: Client;
  /** Deletes the stored credentials; `atQonto: false` skips asking Qonto (it withdrew the consent itself). */
  forgetTokens: (integrationId: string, opts?: { atQonto?: boolean }) => Promise<void>;
}

/**
 * Consent withdrawn, here (the revoke endpoint) or in Qonto (a consent-revocation event): the same
 * steps either way. The status goes first, so no token refresh in flight can store tokens again; then
 * the tokens; then the workflow is told. `workflowNotified`: true when told, null when it is not
 * running, false when Temporal could not be reached (the webhook receiver then answers 503
 * so that Qonto retries; the revoke endpoint says so, and the workflow fails for want of tokens).
 */
export async function withdrawConsent(deps: WithdrawDeps, integrationId: string, opts: { reason: RevokedReason; atQonto: boolean }): Promise<{ workflowNotified: boolean | null }> {
  await deps.store.updateIntegration(integrationId, { status: 'revoked', revokedReason: opts.reason });
  await deps.forgetTokens(integrationId, { atQonto: opts.atQonto });
  await deps.store.deleteTokenCaches(integrationId);
  return { workflowNotified: await signalRevoke(deps.temporal, integrationId) };
}

/**
 * Tells the integration's workflow to stop (idempotent: a second signal finds it stopping or gone).
 * True when told, null when it is not running, false when Temporal could not be reached.
 */
export function signalRevoke(temporal: Client, integrationId: string): Promise<boolean | null> {
  return temporal.workflow
    .getHandle(workflowIdFor(integrationId))
    .signal(revokeSignal)
    .then(() => true)
    .catch((error: unknown) => (error instanceof WorkflowNotFoundError ? null : false));
}
