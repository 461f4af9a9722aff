import { fileURLToPath } from 'node:url';
import { NativeConnection, Worker, bundleWorkflowCode, type WorkflowBundle } from '@temporalio/worker';
import { createActivities, type ActivityDeps } from '../../activities/index.js';

export const WORKFLOWS_PATH = fileURLToPath(new URL('../../workflows/index.ts', import.meta.url));

/** Bundling runs webpack (seconds): do it once per process and share the bundle between workers. */
export function bundleWorkflows(): Promise<WorkflowBundle> {
  return bundleWorkflowCode({ workflowsPath: WORKFLOWS_PATH, logger: quietBundlerLogger });
}

export interface WorkerOptions {
  connection: NativeConnection;
  namespace: string;
  taskQueue: string;
  deps: ActivityDeps;
  workflowBundle: WorkflowBundle;
  /** Upper bound of activities run at once by this worker (uploads are also bounded per batch). */
  maxConcurrentActivities?: number;
  /** Workflows kept in memory between tasks (0 disables sticky execution). */
  maxCachedWorkflows?: number;
}

export function createWorker(opts: WorkerOptions): Promise<Worker> {
  return Worker.create({
    connection: opts.connection,
    namespace: opts.namespace,
    taskQueue: opts.taskQueue,
    workflowBundle: opts.workflowBundle,
    activities: createActivities(opts.deps),
    maxConcurrentActivityTaskExecutions: opts.maxConcurrentActivities ?? 8,
    maxCachedWorkflows: opts.maxCachedWorkflows,
    // Let an in-flight upload finish (or reach a heartbeat) on a graceful stop.
    shutdownGraceTime: '10 seconds',
    // Heartbeats are how a cancellation (consent withdrawn) reaches a running upload: send them
    // promptly instead of the default 80% of the heartbeat timeout.
    maxHeartbeatThrottleInterval: '1 second',
  });
}

const quietBundlerLogger = {
  trace: () => {},
  debug: () => {},
  info: () => {},
  warn: (message: string, meta?: unknown) => console.warn(message, meta ?? ''),
  error: (message: string, meta?: unknown) => console.error(message, meta ?? ''),
  log: () => {},
};
