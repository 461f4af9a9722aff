import { readFile } from 'node:fs/promises';
import type { DataConverter } from '@temporalio/common';
import { NativeConnection, Worker, type WorkflowBundle } from '@temporalio/worker';
import { createActivities, type ActivityDeps } from '../../activities/index.js';
import { logger } from '../logger.js';
import { workflowCodeSource } from './workflow-code-source.js';
import { loadWorkflowBundle } from './workflow-bundle.js';

/** The workflow bundle: prebuilt by `npm run build` for compiled code; from source, built by webpack in a
 * child process when the sources changed, else read from disk (workflow-bundle.ts). Share it between
 * the workers of a process. */
export async function bundleWorkflows(): Promise<WorkflowBundle> {
  const source = workflowCodeSource(import.meta.url);
  if (source.kind === 'sources') return loadWorkflowBundle(source.workflowsPath);
  const code = await readFile(source.bundlePath, 'utf8').catch((error: unknown) => {
    throw new Error(`the prebuilt workflow bundle ${source.bundlePath} cannot be read (run npm run build): ${String(error)}`);
  });
  logger.info({ path: source.bundlePath }, 'Workflow bundle: prebuilt, not bundling');
  return { code };
}

export interface WorkerOptions {
  connection: NativeConnection;
  namespace: string;
  taskQueue: string;
  deps: ActivityDeps;
  workflowBundle: WorkflowBundle;
  /** Encrypts payloads (data-converter.ts): the same as the clients'. */
  dataConverter: DataConverter;
  /** Upper bound of activities run at once by this worker (uploads are also bounded per batch). */
  maxConcurrentActivities?: number;
  /** Workflows kept in memory between their tasks (TEMPORAL_MAX_CACHED_WORKFLOWS; 0: none). Unset: the
   * SDK's default, which grows with the heap. */
  maxCachedWorkflows?: number;
  /** On shutdown, how long running activities may go on before they are cancelled (default 10). */
  shutdownGraceSeconds?: number;
  /** Activities added to the real ones or replacing them (tests' stubs). */
  activities?: Record<string, (...args: never[]) => Promise<unknown>>;
}

/** After the grace period, how long cancelled activities get to wind up before the worker gives up
 * on them (and the process exits). */
const SHUTDOWN_FORCE_AFTER_GRACE_SECONDS = 10;

export function createWorker(opts: WorkerOptions): Promise<Worker> {
  const grace = opts.shutdownGraceSeconds ?? 10;
  return Worker.create({
    connection: opts.connection,
    namespace: opts.namespace,
    taskQueue: opts.taskQueue,
    workflowBundle: opts.workflowBundle,
    dataConverter: opts.dataConverter,
    activities: { ...createActivities(opts.deps), ...opts.activities },
    maxConcurrentActivityTaskExecutions: opts.maxConcurrentActivities ?? 8,
    // An integration sleeps a day between short runs: an evicted one replays its ~70 events when it
    // wakes, instead of every sleeping integration staying in memory.
    ...(opts.maxCachedWorkflows !== undefined ? { maxCachedWorkflows: opts.maxCachedWorkflows } : {}),
    // Let an in-flight upload finish on a graceful stop; past the grace period it is cancelled, which
    // it sees at its next heartbeat.
    shutdownGraceTime: `${grace} seconds`,
    shutdownForceTime: `${grace + SHUTDOWN_FORCE_AFTER_GRACE_SECONDS} seconds`,
    // Heartbeats are how a cancellation (consent withdrawn) reaches a running upload: send them
    // promptly instead of the default 80% of the heartbeat timeout.
    maxHeartbeatThrottleInterval: '1 second',
  });
}
