import { fileURLToPath } from 'node:url';
import { NativeConnection, Worker, type WorkflowBundle } from '@temporalio/worker';
import { createActivities, type ActivityDeps } from '../../activities/index.js';
import { loadWorkflowBundle } from './workflow-bundle.js';

export const WORKFLOWS_PATH = fileURLToPath(new URL('../../workflows/index.ts', import.meta.url));

/** The workflow bundle: built by webpack in a child process when the sources changed, else read from
 * disk (workflow-bundle.ts). Share it between the workers of a process. */
export function bundleWorkflows(): Promise<WorkflowBundle> {
  return loadWorkflowBundle(WORKFLOWS_PATH);
}

export interface WorkerOptions {
  connection: NativeConnection;
  namespace: string;
  taskQueue: string;
  deps: ActivityDeps;
  workflowBundle: WorkflowBundle;
  /** Upper bound of activities run at once by this worker (uploads are also bounded per batch). */
  maxConcurrentActivities?: number;
}

export function createWorker(opts: WorkerOptions): Promise<Worker> {
  return Worker.create({
    connection: opts.connection,
    namespace: opts.namespace,
    taskQueue: opts.taskQueue,
    workflowBundle: opts.workflowBundle,
    activities: createActivities(opts.deps),
    maxConcurrentActivityTaskExecutions: opts.maxConcurrentActivities ?? 8,
    // Let an in-flight upload finish (or reach a heartbeat) on a graceful stop.
    shutdownGraceTime: '10 seconds',
    // Heartbeats are how a cancellation (consent withdrawn) reaches a running upload: send them
    // promptly instead of the default 80% of the heartbeat timeout.
    maxHeartbeatThrottleInterval: '1 second',
  });
}
