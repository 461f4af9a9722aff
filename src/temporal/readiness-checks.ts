import type { ConnectionLike } from '@temporalio/client';
import proto from '@temporalio/proto';
import type { NativeConnection, Worker } from '@temporalio/worker';
import { CHECK_TIMEOUT_MS, NotReady, type Check } from '../api/readiness.js';

/** The client's or the worker's connection: both reach the same WorkflowService. */
type Rpc = Pick<ConnectionLike | NativeConnection, 'workflowService' | 'withDeadline'>;

const deadline = () => Date.now() + CHECK_TIMEOUT_MS;

/** The server answers for our namespace (which also proves the credentials, TLS or API key, work). */
export function temporalAnswers(rpc: Rpc, namespace: string): Check {
  return async () => {
    await rpc.withDeadline(deadline(), () => rpc.workflowService.describeNamespace({ namespace }));
  };
}

/** Some worker polled the task queue recently (Temporal keeps pollers of the last few minutes). */
export function pollerSeen(rpc: Rpc, namespace: string, taskQueue: string): Check {
  return async () => {
    const answer = await rpc.withDeadline(deadline(), () =>
      rpc.workflowService.describeTaskQueue({
        namespace,
        taskQueue: { name: taskQueue, kind: proto.temporal.api.enums.v1.TaskQueueKind.TASK_QUEUE_KIND_NORMAL },
        taskQueueType: proto.temporal.api.enums.v1.TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
      }),
    );
    if ((answer.pollers ?? []).length === 0) throw new NotReady(`no worker polls the task queue ${taskQueue}`);
  };
}

/** This process's worker polls (not starting, draining or failed). */
export function workerRunning(worker: Pick<Worker, 'getState'>): Check {
  return async () => {
    const state = worker.getState();
    if (state !== 'RUNNING') throw new NotReady(`the worker is ${state.toLowerCase()}`);
  };
}
