import type { Client, WorkflowHandle } from '@temporalio/client';
import { statusQuery, workflowIdFor } from '../../workflows/messages.js';
import type { IntegrationView } from '../../workflows/state.js';

export interface WaitOptions {
  /**
   * Query only while the workflow has no task or activity in flight (read from its history). Needed
   * on the Java time-skipping test server: a query that arrives while the workflow task that
   * continues as new is being processed leaves an empty buffered update behind, so the server
   * schedules one more workflow task on the closed run. That task takes a time-skipping lock which
   * nothing ever releases (the worker's completion is refused: "workflow execution already
   * completed"), and every later `env.sleep()` then waits in real time: a day-long skip hangs.
   * Between tasks the server answers a query without touching its task state machine.
   */
  betweenTasks?: boolean;
}

/** Polls the status query until `done` holds (the workflow's own observable state, not a sleep). */
export async function waitForStatus(
  client: Client,
  integrationId: string,
  done: (v: IntegrationView) => boolean,
  what: string,
  timeoutMs = 90_000,
  opts: WaitOptions = {},
): Promise<IntegrationView> {
  const handle = client.workflow.getHandle(workflowIdFor(integrationId));
  const deadline = Date.now() + timeoutMs;
  let last: IntegrationView | undefined;
  for (;;) {
    try {
      if (!opts.betweenTasks || isBetweenTasks((await handle.fetchHistory()).events ?? [])) {
        // A deadline per query: a query racing a continue-as-new can fail or hang.
        last = await client.connection.withDeadline(Date.now() + 3_000, () => handle.query(statusQuery));
        if (done(last)) return last;
      }
    } catch (error) {
      // Between continue-as-new and the next run's first task a query can fail or time out.
      if (Date.now() > deadline) throw error;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; last status: ${JSON.stringify(last)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

type HistoryEvent = NonNullable<Awaited<ReturnType<WorkflowHandle['fetchHistory']>>['events']>[number];

/**
 * True when a run's history shows no workflow task scheduled or started and no activity under way:
 * nothing can start a workflow task until a timer fires or a message arrives. A run that completed
 * counts (the server answers its queries from the history alone); one that continued as new does not
 * (its successor's first task is on its way).
 */
export function isBetweenTasks(events: HistoryEvent[]): boolean {
  let taskOpen = false;
  const activities = new Set<string>();
  for (const e of events) {
    if (e.workflowTaskScheduledEventAttributes) taskOpen = true;
    if (e.workflowTaskCompletedEventAttributes || e.workflowTaskFailedEventAttributes || e.workflowTaskTimedOutEventAttributes) taskOpen = false;
    if (e.activityTaskScheduledEventAttributes) activities.add(String(e.eventId));
    const closed =
      e.activityTaskCompletedEventAttributes ??
      e.activityTaskFailedEventAttributes ??
      e.activityTaskTimedOutEventAttributes ??
      e.activityTaskCanceledEventAttributes;
    if (closed) activities.delete(String(closed.scheduledEventId));
  }
  const last = events.at(-1);
  if (last?.workflowExecutionContinuedAsNewEventAttributes) return false;
  const closedRun = Boolean(
    last?.workflowExecutionCompletedEventAttributes ??
      last?.workflowExecutionTerminatedEventAttributes ??
      last?.workflowExecutionFailedEventAttributes,
  );
  return closedRun || (!taskOpen && activities.size === 0);
}

export function handleOf(client: Client, integrationId: string): WorkflowHandle {
  return client.workflow.getHandle(workflowIdFor(integrationId));
}
