import type { Config } from '../config.js';
import { logger } from '../logger.js';
import { logProgress } from '../progress-log.js';
import { startSandbox } from '../sandbox.js';
import { openCodecInSandbox } from '../sandbox-codec.js';
import { createServices } from '../services.js';
import { connectClient } from '../temporal/connect.js';
import { pruneWebhookEventsHourly } from '../webhooks/prune.js';
import { serveApi } from './api.js';
import { startEmbedded } from './embedded.js';
import { once, type RoleOptions, type RunningRole } from './role.js';
import { logPolling, runWorker } from './worker-runner.js';

/**
 * ROLE=all (`npm start`): the API and the worker in one process, against TEMPORAL_ADDRESS or an
 * embedded Temporal dev server with its database in DATA_DIR and the UI on TEMPORAL_UI_PORT. With
 * SANDBOX on, the Qonto and Microsoft simulators run in-process with a demo organization.
 */
export async function startAllRole(operatorConfig: Config, options: RoleOptions = {}): Promise<RunningRole> {
  // Decided on the operator's own settings, before the sandbox's replace the Qonto and Microsoft ones.
  const openCodec = openCodecInSandbox(operatorConfig);
  const sandbox = operatorConfig.sandbox ? await startSandbox(operatorConfig) : null;
  const config = sandbox?.config ?? operatorConfig;
  const embedded = config.TEMPORAL_ADDRESS ? null : await startEmbedded(config, openCodec);
  const address = config.TEMPORAL_ADDRESS ?? embedded!.address;

  const services = await createServices(config);
  const worker = await runWorker(config, services, address);
  const client = await connectClient(config.temporal, address, services.dataConverter);
  if (sandbox) await sandbox.restoreIntegrations(services, client);
  const extras = { temporalUiUrl: embedded?.uiUrl ?? null, openCodec, temporalSdkMetricsUrl: options.temporalSdkMetricsUrl, ...(sandbox ? { sandboxDrives: () => sandbox.drives(), addSandboxReceipt: () => void sandbox.addReceipt() } : {}) };
  const http = await serveApi(config, services, client, extras);
  const stopProgress = logProgress(services.store);
  // The API receives Qonto's webhook deliveries: it forgets their ids once no retry can come.
  const stopPruning = pruneWebhookEventsHourly(services.store, logger);
  if (sandbox) logger.info("Sandbox: sign in on the simulators' pages, no account needed");
  if (embedded) logger.info(`Inspect the workflows in the Temporal UI: ${embedded.uiUrl}`);
  if (sandbox) logger.info(`Browse the simulated OneDrive: ${config.PUBLIC_URL}/sandbox/drive`);
  logPolling(config);

  const stop = once(async () => {
    stopProgress();
    stopPruning();
    try {
      // Both at once: the requests in flight and the running activities share the grace period.
      await Promise.all([http.close(config.SHUTDOWN_GRACE_SECONDS * 1000), worker.shutdown()]);
    } finally {
      await client.connection.close();
      await services.close();
      await sandbox?.close();
      await embedded?.stop();
    }
  });
  return {
    stop,
    finished: worker.running.then(stop, async (error: unknown) => {
      await stop().catch(() => {});
      throw error;
    }),
  };
}
