import { ConfigError, loadConfig } from './config.js';
import { logger } from './logger.js';
import { startRole } from './roles/index.js';
import { stopOnSignals } from './roles/shutdown.js';
import { StartupError } from './roles/startup-error.js';
import { installTemporalLogging } from './temporal/runtime-logging.js';

/** `npm start`: what this process does is ROLE's choice (src/roles/): `all`, `api` or `worker`. */
async function main(): Promise<void> {
  const config = loadConfig();
  logger.level = config.LOG_LEVEL;
  installTemporalLogging(logger);
  logger.info(`Starting with ROLE=${config.ROLE}`);
  const role = await startRole(config);
  stopOnSignals(() => role.stop(), { graceMs: config.SHUTDOWN_GRACE_SECONDS * 1000, logger });
  await role.finished;
}

main().then(
  () => {
    logger.info('Stopped');
    // Whatever handle a library left open (a pool, a timer), the stop is complete.
    process.exit(0);
  },
  (error: unknown) => {
    if (error instanceof ConfigError || error instanceof StartupError) {
      logger.fatal(error.message);
      process.exit(2);
    }
    logger.fatal({ err: error }, 'stopped by an unexpected error');
    process.exit(1);
  },
);
