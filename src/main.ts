import { ConfigError, loadConfig } from './config.js';
import { logger } from './logger.js';
import { startRole } from './roles/index.js';
import type { RunningRole } from './roles/role.js';
import { stopOnSignals } from './roles/shutdown.js';
import { StartupError } from './roles/startup-error.js';
import { installTemporalLogging } from './temporal/runtime-logging.js';

/** `npm start`: what this process does is ROLE's choice (src/roles/): `all`, `api` or `worker`. */
async function main(): Promise<void> {
  const config = loadConfig();
  logger.level = config.LOG_LEVEL;
  installTemporalLogging(logger);
  logger.info(`Starting with ROLE=${config.ROLE}`);
  // Listening from the start: a signal during start-up (the embedded server already running) stops the
  // role once it is up, instead of killing the process and leaving that server behind.
  let role: RunningRole | undefined;
  let stopRequested = false;
  stopOnSignals(
    async () => {
      stopRequested = true;
      await role?.stop();
    },
    { graceMs: config.SHUTDOWN_GRACE_SECONDS * 1000, logger },
  );
  role = await startRole(config);
  if (stopRequested) await role.stop();
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
