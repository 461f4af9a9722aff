import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import type { Client } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { startSandbox, type Sandbox } from '../../src/sandbox.js';
import { createServices } from '../../src/services.js';
import { freePortBlock } from '../support/browser.js';

/** The sandbox's simulated Qonto: its callbacks may be plain http (PUBLIC_URL is http://localhost),
 * "Add a receipt in Qonto" makes a payment whose receipt the API shows at once, and a restart gives
 * the simulator back the subscriptions it forgot. */
let dataDir: string;
let sandbox: Sandbox;

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'sandbox-webhooks-'));
  const base = await freePortBlock([0, 10, 20, 21]);
  sandbox = await startSandbox(loadConfig({ SANDBOX: 'true', DATA_DIR: dataDir, SANDBOX_PORT_BASE: String(base), PUBLIC_URL: 'http://localhost:3000' }));
});

afterAll(async () => {
  await sandbox?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

describe('sandbox: Qonto webhooks', () => {
  it('lets an OAuth app subscribe the sandbox over plain http', async () => {
    const { qonto, demo } = sandbox.simulators;
    const token = qonto.issueAccessToken(demo!.membershipIds.owner, { scopes: ['organization.read', 'webhook'], clientId: 'sandbox-qonto-client' });
    const res = await fetch(`${qonto.url}/v2/webhook_subscriptions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ callback_url: 'http://localhost:3000/webhooks/qonto', types: ['v1/transactions', 'v1/consent-revocations'] }),
    });
    expect(res.status).toBe(201);
  });

  it('adds a receipt the API shows at once, on a payment of today', () => {
    const { data } = sandbox.simulators.qonto;
    const added = sandbox.addReceipt();
    const tx = data.transaction(added.transactionId)!;
    expect(tx.emittedAt.slice(0, 10)).toBe(new Date().toISOString().slice(0, 10));
    expect(data.visibleAttachmentIds(tx)).toEqual([added.attachmentId]);
    expect(added.fileName).toMatch(/^Ticket .+ \d{4}-\d{2}-\d{2}\.pdf$/);
  });

  it('gives the restarted simulator back an integration\'s subscription, with its id and secret', async () => {
    // The sandbox's own settings, with the store in this test's data directory.
    const services = await createServices(loadConfig({ ...sandbox.simulators.oauthEnv, SANDBOX: 'true', DATA_DIR: dataDir, PUBLIC_URL: sandbox.config.PUBLIC_URL }));
    try {
      const { store, sealer } = services;
      const id = randomUUID();
      await store.createIntegration({ id, status: 'idle' });
      await store.updateIntegration(id, { syncFrom: '2026-01-01', microsoftAccount: { username: sandbox.simulators.users.personal.username, homeAccountId: 'x', tenantId: 'y' } });
      const secret = 's'.repeat(64);
      await store.putWebhookSubscription(id, { state: 'active', subscriptionId: 'sub-restored', sealedSecret: sealer.seal(Buffer.from(secret), `webhook-secret:${id}`) });
      const client = { workflow: { getHandle: () => ({ signal: () => Promise.resolve() }) } } as unknown as Client;
      await sandbox.restoreIntegrations(services, client);

      const { data, webhooks } = sandbox.simulators.qonto;
      expect(data.webhookSubscription('sub-restored')).toMatchObject({
        callbackUrl: `${sandbox.config.PUBLIC_URL}/webhooks/qonto`,
        secret,
        membershipId: sandbox.simulators.demo!.membershipIds.owner,
        types: ['v1/transactions', 'v1/consent-revocations'],
      });
      const before = webhooks.events.length;
      sandbox.addReceipt();
      const restored = webhooks.events.slice(before).filter((e) => e.subscription_id === 'sub-restored');
      expect(restored.map((e) => e.data.event)).toEqual(['created', 'updated']);
      webhooks.stop();
    } finally {
      await services.close();
    }
  });
});
