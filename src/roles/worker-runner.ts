import type { NativeConnection, Worker } from '@temporalio/worker';
import type { Config } from '../config.js';
import { logger } from '../logger.js';
import type { Services } from '../services.js';
import { connectWorker } from '../temporal/connect.js';
import { bundleWorkflows, createWorker } from '../temporal/worker.js';

export interface RunningWorker {
  worker: Worker;
  connection: NativeConnection;
  /** Resolves once the worker has shut down (its activities done or given up on); rejects if it failed. */
  running: Promise<void>;
  /** Stops polling, lets running activities finish within SHUTDOWN_GRACE_SECONDS, then cancels them. */
  shutdown(): Promise<void>;
}

/** Logged once the role is up (tests and operators wait for it). */
export function logPolling(config: Config): void {
  logger.info(`Worker polling task queue ${config.TEMPORAL_TASK_QUEUE} in namespace ${config.TEMPORAL_NAMESPACE}`);
}

/** The worker of ROLE=worker and ROLE=all: polls the task queue until shut down. */
export async function runWorker(config: Config, services: Services, address: string): Promise<RunningWorker> {
  const connection = await connectWorker(config.temporal, address);
  const worker = await createWorker({
    connection,
    namespace: config.TEMPORAL_NAMESPACE,
    taskQueue: config.TEMPORAL_TASK_QUEUE,
    deps: services.deps,
    workflowBundle: await bundleWorkflows(),
    dataConverter: services.dataConverter,
    shutdownGraceSeconds: config.SHUTDOWN_GRACE_SECONDS,
    maxCachedWorkflows: config.TEMPORAL_MAX_CACHED_WORKFLOWS,
  });
  const running = worker.run().finally(() => connection.close());
  return {
    worker,
    connection,
    running,
    async shutdown() {
      // Only a running worker can be shut down; one that already stopped (or failed) is done.
      if (worker.getState() === 'RUNNING') worker.shutdown();
      await running;
    },
  };
}
