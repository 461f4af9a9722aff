import { loadConfig } from './config.js';
import { logger } from './logger.js';
import { freeLoopbackPort, sdkMetricsExporter, sdkMetricsUrl } from './metrics/temporal-sdk.js';
import { exitCodeFor } from './roles/exit-code.js';
import { startRole } from './roles/index.js';
import type { RunningRole } from './roles/role.js';
import { stopOnSignals } from './roles/shutdown.js';
import { StartupError } from './roles/startup-error.js';
import { StoreConnectError } from './store/connect-failure.js';
import { installTemporalLogging } from './temporal/runtime-logging.js';

/** `npm start`: what this process does is ROLE's choice (src/roles/): `all`, `api` or `worker`. */
async function main(): Promise<void> {
  const config = loadConfig();
  logger.level = config.LOG_LEVEL;
  for (const warning of config.warnings) logger.warn(warning);
  // A process with a worker exports the SDK's worker metrics; its /metrics appends them.
  const sdkMetricsPort = config.ROLE === 'api' ? undefined : (config.TEMPORAL_METRICS_PORT ?? (await freeLoopbackPort()));
  try {
    installTemporalLogging(logger, sdkMetricsPort === undefined ? undefined : sdkMetricsExporter(sdkMetricsPort));
  } catch (error) {
    if (sdkMetricsPort === undefined) throw error;
    throw new StartupError(`The Temporal SDK's metrics exporter cannot listen on 127.0.0.1:${sdkMetricsPort} (TEMPORAL_METRICS_PORT): ${error instanceof Error ? error.message : String(error)}`);
  }
  logger.info(`Starting with ROLE=${config.ROLE}`);
  // Listening from the start: a signal during start-up (the embedded server already running) stops the
  // role once it is up, instead of killing the process and leaving that server behind.
  const started: { role?: RunningRole; stopRequested?: boolean } = {};
  stopOnSignals(
    async () => {
      started.stopRequested = true;
      await started.role?.stop();
    },
    { graceMs: config.SHUTDOWN_GRACE_SECONDS * 1000, logger },
  );
  const role = await startRole(config, { temporalSdkMetricsUrl: sdkMetricsPort === undefined ? undefined : sdkMetricsUrl(sdkMetricsPort) });
  started.role = role;
  if (started.stopRequested) await role.stop();
  await role.finished;
}

main().then(
  () => {
    logger.info('Stopped');
    // Whatever handle a library left open (a pool, a timer), the stop is complete.
    process.exit(0);
  },
  (error: unknown) => {
    const code = exitCodeFor(error);
    // Said in words: what the operator must fix, and a store server not reachable (its cause in the message).
    if (code === 2 || error instanceof StoreConnectError) logger.fatal((error as Error).message);
    else logger.fatal({ err: error }, 'stopped by an unexpected error');
    process.exit(code);
  },
);
