import type { Config } from '../config.js';
import { NotReady, type ReadinessChecks } from '../api/readiness.js';
import { logger } from '../logger.js';
import { metricsOptions } from '../metrics/options.js';
import { createServices } from '../services.js';
import { temporalAnswers, workerRunning } from '../temporal/readiness-checks.js';
import { serveHttp } from './http.js';
import { once, type RoleOptions, type RunningRole } from './role.js';
import { logPolling, runWorker, type RunningWorker } from './worker-runner.js';
import { workerHttp } from './worker-http.js';

/**
 * ROLE=worker: polls the task queue of TEMPORAL_ADDRESS; on PORT only /healthz, /readyz and /metrics.
 * The health answers from the start (loading the workflow bundle takes a while); readiness once the
 * worker runs. On SIGTERM the worker stops polling and its activities get SHUTDOWN_GRACE_SECONDS.
 */
export async function startWorkerRole(config: Config, options: RoleOptions = {}): Promise<RunningRole> {
  const services = await createServices(config);
  // Filled in once the worker runs; the probes answer before.
  const started: { worker?: RunningWorker } = {};
  const notYet = () => Promise.reject(new NotReady('the worker is starting'));
  const notConnected = () => Promise.reject(new NotReady('not connected yet'));
  const checks: ReadinessChecks = {
    store: () => services.store.ping(),
    temporal: () => (started.worker ? temporalAnswers(started.worker.connection, config.TEMPORAL_NAMESPACE)() : notConnected()),
    worker: () => (started.worker ? workerRunning(started.worker.worker)() : notYet()),
  };
  const http = await serveHttp(workerHttp(checks, logger, metricsOptions(config, services, options.temporalSdkMetricsUrl)), config.PORT);
  logger.info(`Health, readiness and metrics on port ${http.port} (/healthz, /readyz, /metrics)`);
  const worker = await runWorker(config, services, config.TEMPORAL_ADDRESS!);
  started.worker = worker;
  logPolling(config);
  const stop = once(async () => {
    try {
      await worker.shutdown();
    } finally {
      // Probes are answered (not ready) until the worker is down; nothing is in flight on them.
      await http.close(0);
      await services.close();
    }
  });
  return {
    stop,
    // Ends with the worker: after a stop, or when it failed.
    finished: worker.running.then(stop, async (error: unknown) => {
      await stop().catch(() => {});
      throw error;
    }),
  };
}
