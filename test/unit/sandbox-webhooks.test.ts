import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { startSandbox, type Sandbox } from '../../src/sandbox.js';
import { freePortBlock } from '../support/browser.js';

/** The sandbox's simulated Qonto: its callbacks may be plain http (PUBLIC_URL is http://localhost),
 * and "Add a receipt in Qonto" makes a payment whose receipt the API shows at once. */
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
});
