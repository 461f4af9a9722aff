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
      // A deadline per query: on the test server a query racing a continue-as-new can hang.
      last = await client.connection.withDeadline(Date.now() + 3_000, () => handle.query(statusQuery));
      if (done(last)) return last;
    } catch (error) {
      // Between continue-as-new and the next run's first task a query can fail or time out.
      if (Date.now() > deadline) throw error;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; last status: ${JSON.stringify(last)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export function handleOf(client: Client, integrationId: string): WorkflowHandle {
  return client.workflow.getHandle(workflowIdFor(integrationId));
}
