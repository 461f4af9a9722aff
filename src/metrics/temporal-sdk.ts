import { createServer } from 'node:net';
import type { MetricsExporterConfig } from '@temporalio/worker';

/**
 * The Temporal SDK's own worker metrics (task slots, poll and schedule-to-start latencies, sticky
 * cache…), from its Prometheus exporter on a loopback port, which `/metrics` reads and appends: one
 * scrape target per process. Names as Prometheus wants them (`_total` counters, seconds), which
 * `promtool check metrics` requires.
 */
export function sdkMetricsExporter(port: number): MetricsExporterConfig {
  return {
    prometheus: { bindAddress: `127.0.0.1:${port}`, countersTotalSuffix: true, unitSuffix: true, useSecondsForDurations: true },
  };
}

export function sdkMetricsUrl(port: number): string {
  return `http://127.0.0.1:${port}/metrics`;
}

/** A loopback port free right now, for the SDK's exporter when TEMPORAL_METRICS_PORT is not set (the
 * exporter cannot say which port it got from port 0). */
export function freeLoopbackPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}
