import { collectDefaultMetrics, Registry } from 'prom-client';

/** The one registry of this process: every series of this service is in it, `/metrics` serves it. */
export const registry = new Registry();

/** Our series' prefix (the product's name); the Temporal SDK's start with `temporal_`, Node's with `process_`/`nodejs_`. */
export const PREFIX = 'receipts_sync_';

// CPU, memory, event-loop lag and handles of the Node process (prom-client's standard set)...
collectDefaultMetrics({ register: registry });
// ...but for three gauges whose names end in `_total`, which `promtool check metrics` refuses (only
// counters may); their counts stay in nodejs_active_handles and nodejs_active_resources.
for (const name of ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total']) registry.removeSingleMetric(name);
