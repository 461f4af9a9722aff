import type { Config } from '../config.js';
import type { Services } from '../services.js';
import type { MetricsOptions } from './endpoint.js';
import type { LastSuccessSource } from './last-success.js';

/** Each integration's last successful run (recorded by the workflow's runEnded activity), for the
 * last-success series of `/metrics`: read from the store, so every role reports the same values. */
export function lastSuccessSource(services: Services): LastSuccessSource {
  return () => services.store.alerts.lastSuccesses();
}

/** What `/metrics` of a role serves (every role: the api's, the worker's, all's). */
export function metricsOptions(config: Config, services: Services, temporalSdkUrl?: string): MetricsOptions {
  return {
    perIntegration: config.METRICS_PER_INTEGRATION,
    lastSuccess: lastSuccessSource(services),
    ...(temporalSdkUrl ? { temporalSdkUrl } : {}),
  };
}
