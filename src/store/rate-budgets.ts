import type { Kysely } from 'kysely';
import type { Database, Dialect } from './schema.js';
import type { Store } from './types.js';

/** The fleet-wide rate budgets (docs/rate-budget.md): one row per service. */
export function rateBudgetStatements(_db: Kysely<Database>, _dialect: Dialect): Pick<Store, 'reserveRate' | 'holdRate' | 'rateHold' | 'clearRateHolds'> {
  const notYet = async (): Promise<never> => {
    throw new Error('not yet');
  };
  return { reserveRate: notYet, holdRate: notYet, rateHold: notYet, clearRateHolds: notYet };
}
