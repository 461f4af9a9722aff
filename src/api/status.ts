import type { Client } from '@temporalio/client';
import { statusQuery, workflowIdFor } from '../../workflows/messages.js';
import type { IntegrationView } from '../../workflows/state.js';
import type { Integration, Store } from '../store/types.js';

/** `GET /api/integrations/:id`, also what the dashboard shows. */
export interface IntegrationStatusBody {
  id: string;
  status: Integration['status'];
  syncFrom: string | null;
  timeZone: string | null;
  nextRunAt: string | null;
  lastRun: IntegrationView['lastRun'];
  counts: { exported: number; failed: number; pending: number };
  quota: IntegrationView['quota'];
  lastError: string | null;
  /** While `reconnect_required`: whose sign-in ended and must be renewed (null when not known). */
  signInEnded: IntegrationView['signInEnded'];
  microsoftAccount: string | null;
  /** What the workflow is doing right now, in words (null when no worker answered). */
  phase: string | null;
  /** Progress of the first import (null when no worker answered). */
  backfill: IntegrationView['backfill'] | null;
}

/** How long a status query may wait for a worker before the store's view is used instead. */
const QUERY_DEADLINE_MS = 2_000;

/** The workflow's own view when a worker answers, else what the store knows. */
export async function readStatus(deps: { store: Store; temporal: Client }, integration: Integration): Promise<IntegrationStatusBody> {
  const counts = await deps.store.counts(integration.id);
  const base: IntegrationStatusBody = {
    id: integration.id,
    status: integration.status,
    syncFrom: integration.syncFrom,
    timeZone: integration.timeZone,
    nextRunAt: null,
    lastRun: null,
    counts: { exported: counts.exported, failed: counts.failed, pending: counts.pending },
    quota: null,
    lastError: null,
    signInEnded: null,
    microsoftAccount: integration.microsoftAccount?.username ?? null,
    phase: null,
    backfill: null,
  };
  if (integration.status === 'connecting' || integration.status === 'revoked') return base;
  try {
    const handle = deps.temporal.workflow.getHandle(workflowIdFor(integration.id));
    const view = await deps.temporal.connection.withDeadline(Date.now() + QUERY_DEADLINE_MS, () => handle.query(statusQuery));
    const { status, syncFrom, timeZone, nextRunAt, lastRun, quota, lastError, signInEnded, phase, backfill } = view;
    return { ...base, status, syncFrom, timeZone, nextRunAt, lastRun, quota, lastError, signInEnded: status === 'reconnect_required' ? signInEnded : null, phase, backfill };
  } catch {
    return base;
  }
}
