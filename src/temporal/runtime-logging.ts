import { Runtime, type MetricsExporterConfig } from '@temporalio/worker';
import type pino from 'pino';
import { temporalLogger } from '../logger.js';

/**
 * Sends everything the Temporal SDK logs through our pino logger, so it is redacted like the rest:
 * the SDK's messages, activity and workflow `log` calls (the worker's default logger sink writes to
 * the Runtime's logger) and, forwarded from the native core, its warnings. Must run before the first
 * connection or test environment creates the Runtime. `metrics`: the SDK's own metrics exporter
 * (src/metrics/temporal-sdk.ts), which can only be chosen here, once per process.
 */
export function installTemporalLogging(base: pino.Logger, metrics?: MetricsExporterConfig): void {
  Runtime.install({
    logger: temporalLogger(base.child({ component: 'temporal' })),
    telemetryOptions: { logging: { filter: { core: 'WARN', other: 'ERROR' }, forward: {} }, ...(metrics ? { metrics } : {}) },
    // The process's own stop (src/roles/shutdown.ts) answers SIGTERM and SIGINT: it shuts the worker
    // down with the HTTP server, in order. The Runtime would otherwise shut workers down on its own.
    shutdownSignals: [],
  });
}
