import type { Client, WorkflowHandle } from '@temporalio/client';
import { statusQuery, workflowIdFor } from '../../workflows/messages.js';
import type { IntegrationView } from '../../workflows/state.js';

/** Polls the status query until `done` holds (the workflow's own observable state, not a sleep). */
export async function waitForStatus(
  client: Client,
  integrationId: string,
  done: (v: IntegrationView) => boolean,
  what: string,
  timeoutMs = 90_000,
): Promise<IntegrationView> {
  const handle = client.workflow.getHandle(workflowIdFor(integrationId));
  const deadline = Date.now() + timeoutMs;
  let last: IntegrationView | undefined;
  for (;;) {
    try {
      last = await handle.query(statusQuery);
      if (done(last)) return last;
    } catch (error) {
      // Between continue-as-new and the next run's first task a query can find no handler yet.
      if (Date.now() > deadline) throw error;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; last status: ${JSON.stringify(last)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export const idleAfterRun = (runNumber: number) => (v: IntegrationView) =>
  v.runNumber >= runNumber && v.lastRun !== null && v.status !== 'syncing' && v.status !== 'backfilling' && v.phase.startsWith('sleeping');

export function handleOf(client: Client, integrationId: string): WorkflowHandle {
  return client.workflow.getHandle(workflowIdFor(integrationId));
}
