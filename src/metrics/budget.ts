import { Counter } from 'prom-client';
import type { Service } from './http.js';
import { PREFIX, registry } from './registry.js';

const holds = new Counter({
  name: `${PREFIX}rate_budget_holds_total`,
  help: 'Holds of the fleet-wide rate budget this process wrote after a 429: with the Retry-After given (source=retry_after), or computed (source=computed)',
  labelNames: ['service', 'source'] as const,
  registers: [registry],
});

const refusals = new Counter({
  name: `${PREFIX}rate_budget_refusals_total`,
  help: 'Requests refused by the fleet-wide rate budget, unsent: their slot lay further away than the activity may wait',
  labelNames: ['service'] as const,
  registers: [registry],
});

export type HoldSource = 'retry_after' | 'computed';

export function observeBudgetHold(service: Service, source: HoldSource): void {
  holds.inc({ service, source });
}

export function observeBudgetRefusal(service: Service): void {
  refusals.inc({ service });
}
