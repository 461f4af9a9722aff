import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { serverExecutable } from './binaries.js';

export interface EmbeddedServer {
  address: string;
  uiUrl: string;
  stop(): Promise<void>;
}

/**
 * The Temporal CLI dev server, for one machine with no Temporal cluster: history in
 * `<dataDir>/temporal.sqlite` (survives restarts), UI on `uiPort`. Found through TEMPORAL_CLI_PATH,
 * PATH or Python's scripts folder; otherwise the SDK downloads it (needs internet).
 */
export async function startEmbeddedServer(opts: {
  dataDir: string;
  port?: number;
  uiPort: number;
  namespace: string;
  /** The codec server the UI asks to decode payloads (`<PUBLIC_URL>/codec`), when there is one. */
  codecEndpoint?: string;
}): Promise<EmbeddedServer> {
  mkdirSync(opts.dataDir, { recursive: true });
  const env = await TestWorkflowEnvironment.createLocal({
    server: {
      executable: serverExecutable('cli'),
      dbFilename: join(opts.dataDir, 'temporal.sqlite'),
      namespace: opts.namespace,
      port: opts.port ?? 7233,
      uiPort: opts.uiPort,
      log: { format: 'pretty', level: 'warn' },
      extraArgs: opts.codecEndpoint ? ['--ui-codec-endpoint', opts.codecEndpoint] : [],
    },
  });
  return {
    address: env.address,
    uiUrl: `http://localhost:${opts.uiPort}`,
    stop: () => env.teardown(),
  };
}
