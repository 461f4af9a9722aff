import type { Config } from '../config.js';
import type { Services } from '../services.js';
import type { MetricsOptions } from './endpoint.js';
import type { LastSuccessSource } from './last-success.js';

/**
 * Each integration's last successful run, for the last-success series of `/metrics`. The store keeps
 * no record of run ends yet: until it does, this reports no integration (the series read 0).
 */
export function lastSuccessSource(_services: Services): LastSuccessSource {
  return async () => [];
}

/** What `/metrics` of a role serves (every role: the api's, the worker's, all's). */
export function metricsOptions(config: Config, services: Services, temporalSdkUrl?: string): MetricsOptions {
  return {
    perIntegration: config.METRICS_PER_INTEGRATION,
    lastSuccess: lastSuccessSource(services),
    ...(temporalSdkUrl ? { temporalSdkUrl } : {}),
  };
}
