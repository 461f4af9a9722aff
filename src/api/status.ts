import type { Client } from '@temporalio/client';
import { statusQuery, workflowIdFor } from '../../workflows/messages.js';
import type { z } from '@hono/zod-openapi';
import type { Integration, Store } from '../store/types.js';
import type { integrationStatus } from './response-schemas.js';
import { alertsOf } from './alerts-status.js';

/** `GET /api/integrations/:id`, also what the dashboard shows. */
export type IntegrationStatusBody = z.infer<typeof integrationStatus>;

/** How long a status query may wait for a worker before the store's view is used instead. */
const QUERY_DEADLINE_MS = 2_000;

/** The workflow's own view when a worker answers, else what the store knows. */
export async function readStatus(deps: { store: Store; temporal: Client }, integration: Integration): Promise<IntegrationStatusBody> {
  const counts = await deps.store.counts(integration.id);
  const alerts = await alertsOf(deps.store, integration.id);
  // The store, not the workflow, is where the receiver records each event.
  const subscription = await deps.store.getWebhookSubscription(integration.id);
  const base: IntegrationStatusBody = {
    id: integration.id,
    status: integration.status,
    syncFrom: integration.syncFrom,
    timeZone: integration.timeZone,
    nextRunAt: null,
    lastRun: null,
    lastIncremental: null,
    counts: { exported: counts.exported, failed: counts.failed, pending: counts.pending },
    quota: null,
    lastError: null,
    signInEnded: null,
    microsoftAccount: integration.microsoftAccount?.username ?? null,
    // The user's choice as saved; a reconfiguration applies it at the run it starts.
    probativeCopies: integration.probativeCopies,
    phase: null,
    backfill: null,
    alerts,
    webhook: subscription && { state: subscription.state, reason: subscription.reason, lastEventAt: subscription.lastEventAt },
    revokedReason: integration.revokedReason,
  };
  if (integration.status === 'connecting' || integration.status === 'revoked') return base;
  try {
    const handle = deps.temporal.workflow.getHandle(workflowIdFor(integration.id));
    const view = await deps.temporal.connection.withDeadline(Date.now() + QUERY_DEADLINE_MS, () => handle.query(statusQuery));
    const { status, syncFrom, timeZone, nextRunAt, lastRun, lastIncremental, quota, lastError, signInEnded, phase, backfill } = view;
    return { ...base, status, syncFrom, timeZone, nextRunAt, lastRun, lastIncremental: lastIncremental ?? null, quota, lastError, signInEnded: status === 'reconnect_required' ? signInEnded : null, phase, backfill };
  } catch {
    return base;
  }
}
