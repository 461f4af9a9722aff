import { join } from 'node:path';
import type { Client } from '@temporalio/client';
import { reconfigureSignal, reconnectSignal, workflowIdFor } from '../workflows/messages.js';
import { loadConfig, type Config } from './config.js';
import type { Services } from './services.js';
import { startSimulators, type Simulators } from './simulators/index.js';
import { signInWithSimulator } from './simulators/sign-in.js';
import { settingsFrom, startIntegration } from './temporal/integrations.js';

export const SANDBOX_PORTS = { qonto: 4010, identity: 4020, graph: 4030, upload: 4031 };
const DEMO_INTEGRATION = 'demo';

export interface Sandbox {
  config: Config;
  simulators: Simulators;
  /** Makes sure the demo integration exists, is signed in and has its workflow running. */
  ensureDemoIntegration(services: Services, client: Client): Promise<void>;
  close(): Promise<void>;
}

/**
 * The simulators with the demo organization on fixed local ports, and the configuration that points the
 * service at them. Simulator state lives in memory: after a restart the demo user signs in again and the
 * integration is reconfigured, which imports everything into the new, empty drive.
 */
export async function startSandbox(config: Config): Promise<Sandbox> {
  const simulators = await startSimulators({
    ports: SANDBOX_PORTS,
    storageDir: join(config.dataDir, 'sandbox-drive'),
    demo: { seed: 42, accounts: 2, months: 3, receipts: 60 },
  });
  const sandboxConfig = loadConfig({ ...process.env, ...simulators.env, ADMIN_TOKEN: config.ADMIN_TOKEN ?? 'sandbox', SANDBOX: 'true' });
  console.log(`Sandbox: Qonto ${simulators.qonto.url}, Microsoft identity ${simulators.identity.url}, Graph ${simulators.graph.url}`);
  if (!config.ADMIN_TOKEN) console.log('Sandbox: API admin token is "sandbox" (Authorization: Bearer sandbox)');

  return {
    config: sandboxConfig,
    simulators,
    async ensureDemoIntegration(services, client) {
      const { store, microsoftAuth } = services;
      const existing = await store.getIntegration(DEMO_INTEGRATION);
      if (existing?.status === 'revoked') return;
      await store.createIntegration({ id: DEMO_INTEGRATION });
      const account = await signInWithSimulator(microsoftAuth, DEMO_INTEGRATION, simulators.users.personal.username);
      const syncFrom = existing?.syncFrom ?? firstDayMonthsAgo(3);
      await store.updateIntegration(DEMO_INTEGRATION, { microsoftAccount: account, syncFrom });
      await startIntegration(client, sandboxConfig.TEMPORAL_TASK_QUEUE, {
        integrationId: DEMO_INTEGRATION,
        syncFrom,
        timeZone: existing?.timeZone ?? null,
        settings: settingsFrom(sandboxConfig),
      });
      if (existing) {
        // The simulated drive and directory started empty: import everything again, with the new sign-in.
        const handle = client.workflow.getHandle(workflowIdFor(DEMO_INTEGRATION));
        await handle.signal(reconnectSignal);
        await handle.signal(reconfigureSignal, { syncFrom });
      }
      console.log(`Sandbox: demo integration "${DEMO_INTEGRATION}" syncing receipts since ${syncFrom} for ${account.username}`);
    },
    close: () => simulators.close(),
  };
}

function firstDayMonthsAgo(months: number): string {
  const now = new Date();
  return new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - months + 1, 1)).toISOString().slice(0, 10);
}
