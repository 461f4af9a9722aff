import { afterEach } from 'vitest';
import type { SimBankAccount } from '../../src/simulators/qonto/data.js';
import { startQontoSimulator, type QontoSimulator, type QontoSimulatorOptions } from '../../src/simulators/qonto/server.js';

export const KEY = { login: 'acme-sas-4242', secret: '0123456789abcdef0123456789abcdef' };

/** A fresh Qonto simulator (API key `KEY`, one bank account) per call, closed after each test. */
export function useQontoSimulators(): (opts?: QontoSimulatorOptions) => Promise<{ sim: QontoSimulator; account: SimBankAccount }> {
  let sims: QontoSimulator[] = [];
  afterEach(async () => {
    await Promise.all(sims.map((s) => s.close()));
    sims = [];
  });
  return async (opts = {}) => {
    const sim = await startQontoSimulator({ apiKeys: [KEY], ...opts });
    sims.push(sim);
    return { sim, account: sim.data.addBankAccount() };
  };
}
