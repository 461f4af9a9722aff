import { basename, dirname, join } from 'node:path';
import type { Client } from '@temporalio/client';
import { reconfigureSignal, reconnectSignal, workflowIdFor } from '../workflows/messages.js';
import type { DriveListing } from './api/pages/sandbox-drive.js';
import { loadConfig, type Config } from './config.js';
import { logger } from './logger.js';
import type { Services } from './services.js';
import { startSimulators, type Simulators } from './simulators/index.js';
import { addDemoReceipt, type AddedReceipt } from './simulators/qonto/demo-receipt.js';
import { signInToQontoWithSimulator, signInWithSimulator } from './simulators/sign-in.js';

/** Qonto, Microsoft identity, Graph and its upload host, from SANDBOX_PORT_BASE on. */
export const sandboxPorts = (base: number) => ({ qonto: base, identity: base + 10, graph: base + 20, upload: base + 21 });

/** The demo organization: two accounts, about 100 receipts over three months, one large file. */
export const SANDBOX_DEMO = { seed: 42, accounts: 2, months: 3, receipts: 100, bigFile: { bytes: 24 * 1024 * 1024 } };

export interface Sandbox {
  config: Config;
  simulators: Simulators;
  /** After a restart the simulators start empty: signs the integrations in again and re-imports. */
  restoreIntegrations(services: Services, client: Client): Promise<void>;
  /** The simulated OneDrive, for the sandbox's drive page. */
  drives(): DriveListing[];
  /** "Add a receipt in Qonto": a new demo payment with its receipt, announced by Qonto's webhooks. */
  addReceipt(): AddedReceipt;
  close(): Promise<void>;
}

/**
 * The simulators with the demo organization on fixed local ports, and the configuration that points the
 * service at them in OAuth mode: a visitor signs in with Qonto and Microsoft on the simulators' pages
 * and goes through the real setup. Simulator state lives in memory.
 */
export async function startSandbox(config: Config): Promise<Sandbox> {
  const simulators = await startSimulators({
    ports: sandboxPorts(config.SANDBOX_PORT_BASE),
    storageDir: join(config.dataDir, 'sandbox-drive'),
    demo: SANDBOX_DEMO,
    // PUBLIC_URL is http://localhost here: the simulated Qonto may call it back over plain http.
    qontoWebhooks: { allowHttpCallbacks: true },
  });
  const sandboxConfig = loadConfig({ ...process.env, ...simulators.oauthEnv, SANDBOX: 'true' });

  /** Qonto keeps subscriptions; the restarted simulator does not: it gets the stored one back, same
   * id and secret, so events keep coming without the workflow subscribing again. */
  async function restoreSubscription(services: Services, integrationId: string, membershipId: string): Promise<void> {
    const row = await services.store.getWebhookSubscription(integrationId);
    if (row?.state !== 'active' || !row.subscriptionId || !row.sealedSecret) return;
    try {
      const secret = services.sealer.open(row.sealedSecret, `webhook-secret:${integrationId}`).toString('utf8');
      simulators.qonto.data.addWebhookSubscription({
        id: row.subscriptionId,
        callbackUrl: `${sandboxConfig.PUBLIC_URL}/webhooks/qonto`,
        types: ['v1/transactions', 'v1/consent-revocations'],
        secret,
        membershipId,
        clientId: sandboxConfig.QONTO_CLIENT_ID ?? null,
      });
    } catch (error) {
      logger.warn(`Sandbox: the webhook subscription of integration ${integrationId} could not be restored (${String(error)}); the daily run still syncs`);
    }
  }
  logger.info(`Sandbox: Qonto ${simulators.qonto.url}, Microsoft identity ${simulators.identity.url}, Graph ${simulators.graph.url}`);

  return {
    config: sandboxConfig,
    simulators,
    async restoreIntegrations(services, client) {
      const owner = simulators.demo?.membershipIds.owner;
      const { qontoOAuth } = services;
      for (const integration of await services.store.listIntegrations()) {
        const username = integration.microsoftAccount?.username;
        if (integration.status === 'revoked' || integration.status === 'connecting' || !username || !owner || !qontoOAuth) continue;
        await signInToQontoWithSimulator(qontoOAuth, integration.id, owner);
        const account = await signInWithSimulator(services.microsoftAuth, integration.id, username);
        await services.store.updateIntegration(integration.id, { microsoftAccount: account });
        await restoreSubscription(services, integration.id, owner);
        const handle = client.workflow.getHandle(workflowIdFor(integration.id));
        // The simulated drive started empty: import everything again, with the new sign-ins.
        await handle.signal(reconnectSignal).catch(() => {});
        if (integration.syncFrom) await handle.signal(reconfigureSignal, { syncFrom: integration.syncFrom }).catch(() => {});
        logger.info(`Sandbox: integration ${integration.id} signed in again; re-importing since ${integration.syncFrom}`);
      }
    },
    drives() {
      return simulators.directory
        .listUsers()
        .map((user) => {
          const drive = simulators.graph.drive(user.id);
          const folders = new Map<string, { name: string; size: number }[]>();
          for (const folder of drive.listFolders()) folders.set(folder.path, []);
          for (const file of drive.listFiles()) {
            const list = folders.get(dirname(file.path)) ?? [];
            list.push({ name: basename(file.path), size: file.size });
            folders.set(dirname(file.path), list);
          }
          const quota = drive.quota();
          return {
            user: user.username,
            used: quota.used,
            total: quota.total,
            folders: [...folders.entries()]
              .filter(([, files]) => files.length > 0)
              .sort(([a], [b]) => a.localeCompare(b))
              .map(([path, files]) => ({ path, files: files.sort((a, b) => a.name.localeCompare(b.name)) })),
          };
        })
        .filter((d) => d.folders.length > 0);
    },
    addReceipt: () => addDemoReceipt(simulators.qonto.data),
    close: () => simulators.close(),
  };
}
