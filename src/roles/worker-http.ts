import { Hono } from 'hono';
import type { Logger } from 'pino';
import { notFound, onError } from '../api/errors.js';
import { readinessHandler, type ReadinessChecks } from '../api/readiness.js';
import { requestLog } from '../api/request-log.js';
import { metricsHandler, type MetricsOptions } from '../metrics/endpoint.js';

/** What a ROLE=worker process serves on PORT: health and readiness for the orchestrator, metrics for
 * Prometheus, nothing else (no pages, no API: those are the api role's). */
export function workerHttp(checks: ReadinessChecks, logger?: Logger, metrics: MetricsOptions = { perIntegration: false }): Hono {
  const app = new Hono();
  app.onError(onError);
  app.notFound(notFound);
  if (logger) app.use('*', requestLog(logger));
  app.get('/healthz', (c) => c.json({ status: 'ok' }));
  app.get('/readyz', readinessHandler(checks, logger));
  app.get('/metrics', metricsHandler(metrics));
  return app;
}
