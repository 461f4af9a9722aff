import type { Client } from '@temporalio/client';
import { ConfigError, type Config } from '../config.js';
import { metricsOptions } from '../metrics/options.js';
import type { Services } from '../services.js';
import { settingsFrom } from '../temporal/integrations.js';
import { pollerSeen, temporalAnswers } from '../temporal/readiness-checks.js';
import type { ApiDeps } from './app.js';
import { ADMIN_FAILURES, SIGN_IN_CALLBACKS, WEBHOOK_FAILURES } from './rate-limit.js';
import type { DriveListing } from './pages/sandbox-drive.js';
import type { ReadinessChecks } from './readiness.js';

/** Readiness of a process that serves the API: its store, its Temporal server, and a worker somewhere
 * polling the task queue (in this process with ROLE=all, in others with ROLE=api). */
export function apiReadiness(config: Config, services: Services, temporal: Client): ReadinessChecks {
  return {
    store: () => services.store.ping(),
    temporal: temporalAnswers(temporal.connection, config.TEMPORAL_NAMESPACE),
    worker: pollerSeen(temporal.connection, config.TEMPORAL_NAMESPACE, config.TEMPORAL_TASK_QUEUE),
  };
}

/** What the API needs, from the configuration and the services, in the configured mode. */
export function apiDeps(
  config: Config,
  services: Services,
  temporal: Client,
  extras: {
    temporalUiUrl?: string | null;
    sandboxDrives?: () => DriveListing[];
    addSandboxReceipt?: () => void;
    openCodec?: boolean;
    temporalSdkMetricsUrl?: string;
  } = {},
): ApiDeps {
  const temporalUiUrl = config.TEMPORAL_UI_URL ?? extras.temporalUiUrl ?? null;
  // The codec server decodes every integration's payloads: ADMIN_TOKEN opens it, so it is on when one is
  // set (required in API-key mode, optional in OAuth mode, where a member's session is not enough), and
  // in a sandbox with nothing real in it (openCodecInSandbox) it answers without credentials too.
  const open = extras.openCodec === true;
  const codec =
    config.ADMIN_TOKEN || open
      ? {
          codec: services.payloadCodec,
          ...(config.ADMIN_TOKEN ? { adminToken: config.ADMIN_TOKEN } : {}),
          open,
          allowedOrigins: [config.PUBLIC_URL, ...(temporalUiUrl ? [temporalUiUrl] : [])],
        }
      : undefined;
  const common = {
    store: services.store,
    sealer: services.sealer,
    microsoftAuth: services.microsoftAuth,
    temporal,
    taskQueue: config.TEMPORAL_TASK_QUEUE,
    settings: settingsFrom(config),
    forgetTokens: services.deps.forgetTokens,
    publicUrl: config.PUBLIC_URL,
    readiness: apiReadiness(config, services, temporal),
    metrics: metricsOptions(config, services, extras.temporalSdkMetricsUrl),
    trustedProxies: config.TRUST_PROXY,
    limits: {
      adminFailures: { ...ADMIN_FAILURES, limit: config.AUTH_FAILURE_LIMIT },
      signInCallbacks: { ...SIGN_IN_CALLBACKS, limit: config.SIGN_IN_CALLBACK_LIMIT },
      // A refused delivery is a failed authentication too; a webhook sender gets ten times the room.
      webhookFailures: { ...WEBHOOK_FAILURES, limit: (WEBHOOK_FAILURES.limit / ADMIN_FAILURES.limit) * config.AUTH_FAILURE_LIMIT },
    },
    webhooks: { apiKeySecrets: config.webhookSecrets, qontoClientId: config.QONTO_CLIENT_ID ?? null },
    sessionKeys: services.sessionKeys,
    namespace: config.TEMPORAL_NAMESPACE,
    defaultTimeZone: config.DEFAULT_TIME_ZONE,
    temporalUiUrl,
    ...(codec ? { codec } : {}),
    ...(extras.sandboxDrives ? { sandboxDrives: extras.sandboxDrives } : {}),
    ...(extras.addSandboxReceipt ? { addSandboxReceipt: extras.addSandboxReceipt } : {}),
  };
  if (services.qontoOAuth) {
    return { ...common, mode: 'oauth', qontoOAuth: services.qontoOAuth, qontoApiUrl: config.QONTO_API_URL, stagingToken: config.QONTO_STAGING_TOKEN, qontoBudget: services.qontoBudget };
  }
  if (!config.ADMIN_TOKEN) throw new ConfigError(['ADMIN_TOKEN is required in API-key mode: API callers present it as a bearer token']);
  return { ...common, mode: 'apiKey', adminToken: config.ADMIN_TOKEN };
}
