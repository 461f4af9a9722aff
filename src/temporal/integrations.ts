import type { Client, WorkflowHandleWithFirstExecutionRunId } from '@temporalio/client';
import type { integrationWorkflow } from '../../workflows/integration.js';
import { workflowIdFor } from '../../workflows/messages.js';
import type { IntegrationInput, IntegrationSettings } from '../../workflows/state.js';
import type { Config } from '../config.js';

export const DEFAULT_BATCH_SIZE = 500;

export function settingsFrom(config: Pick<Config, 'SYNC_TIME' | 'DEFAULT_TIME_ZONE' | 'SYNC_SPREAD_MINUTES'>): IntegrationSettings {
  return { syncTime: config.SYNC_TIME, defaultTimeZone: config.DEFAULT_TIME_ZONE, syncSpreadMinutes: config.SYNC_SPREAD_MINUTES, batchSize: DEFAULT_BATCH_SIZE };
}

/**
 * Starts the integration's workflow, or returns the one already running (Finish is idempotent).
 * A completed one (consent revoked) may be started again by a new Connect.
 */
export async function startIntegration(
  client: Client,
  taskQueue: string,
  input: Omit<IntegrationInput, 'carried'>,
): Promise<WorkflowHandleWithFirstExecutionRunId<typeof integrationWorkflow>> {
  return client.workflow.start<typeof integrationWorkflow>('integrationWorkflow', {
    workflowId: workflowIdFor(input.integrationId),
    taskQueue,
    args: [input],
    workflowIdConflictPolicy: 'USE_EXISTING',
    staticSummary: `Receipts of integration ${input.integrationId} to OneDrive`,
  });
}
