import type { Client } from '@temporalio/client';
import { createApp } from '../api/app.js';
import { apiDeps } from '../api/deps.js';
import type { Config } from '../config.js';
import { logger } from '../logger.js';
import { logProgress } from '../progress-log.js';
import { createServices, type Services } from '../services.js';
import { connectClient } from '../temporal/connect.js';
import { pruneWebhookEventsHourly } from '../webhooks/prune.js';
import { serveHttp, type HttpServer } from './http.js';
import { once, type RunningRole } from './role.js';

/** The pages and the API on PORT, for ROLE=api and ROLE=all. */
export async function serveApi(config: Config, services: Services, client: Client, extras: Parameters<typeof apiDeps>[3] = {}): Promise<HttpServer> {
  const http = await serveHttp(createApp({ ...apiDeps(config, services, client, extras), logger }), config.PORT);
  logger.info(`Listening on port ${http.port}: open ${config.PUBLIC_URL}`);
  return http;
}

/** ROLE=api: HTTP only, a Temporal client of TEMPORAL_ADDRESS, no task polling. On SIGTERM it stops
 * accepting connections and answers the requests in flight. */
export async function startApiRole(config: Config): Promise<RunningRole> {
  const services = await createServices(config);
  const client = await connectClient(config.temporal, config.TEMPORAL_ADDRESS!, services.dataConverter);
  const http = await serveApi(config, services, client);
  // Progress of every integration, read from the store: once per deployment's API rather than in
  // every worker (each would log all integrations, whichever it works on).
  const stopProgress = logProgress(services.store);
  // The API receives Qonto's webhook deliveries: it forgets their ids once no retry can come.
  const stopPruning = pruneWebhookEventsHourly(services.store, logger);
  const stop = once(async () => {
    stopProgress();
    stopPruning();
    await http.close(config.SHUTDOWN_GRACE_SECONDS * 1000);
    await client.connection.close();
    await services.close();
  });
  // Nothing in this role ends by itself: it has finished when a stop has (and as that stop did).
  let settle!: (stopping: Promise<void>) => void;
  const finished = new Promise<void>((resolve) => (settle = resolve));
  return {
    stop() {
      const stopping = stop();
      settle(stopping);
      return stopping;
    },
    finished,
  };
}
