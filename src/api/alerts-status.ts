import type { AlertCondition } from '../alerts/conditions.js';
import { HISTORY_LENGTH } from '../alerts/service.js';
import type { AlertRecord } from '../store/alert-store.js';
import type { Store } from '../store/types.js';

export interface AlertItem {
  condition: AlertCondition;
  startedAt: string;
  resolvedAt: string | null;
}

const item = (r: AlertRecord): AlertItem => ({ condition: r.condition as AlertCondition, startedAt: r.startedAt, resolvedAt: r.resolvedAt });

/** The `alerts` of the status: what is under way, and the latest occurrences. */
export async function alertsOf(store: Store, integrationId: string): Promise<{ active: AlertItem[]; history: AlertItem[] }> {
  const [active, history] = await Promise.all([store.alerts.active(integrationId), store.alerts.history(integrationId, HISTORY_LENGTH)]);
  return { active: active.map(item), history: history.map(item) };
}
