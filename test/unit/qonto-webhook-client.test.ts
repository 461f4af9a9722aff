import { describe, expect, it } from 'vitest';
import { FatalError, NotFoundError, RetryableError } from '../../src/errors.js';
import { QontoClient } from '../../src/qonto/client.js';
import type { QontoSimulator } from '../../src/simulators/qonto/server.js';
import { KEY, useQontoSimulators } from '../support/qonto-sim.js';

const FAST_RETRY = { attempts: 5, baseDelayMs: 1, maxDelayMs: 5 };
const CALLBACK = 'https://receipts.example.com/webhooks/qonto';
const SECRET = 'k'.repeat(64);

const simulator = useQontoSimulators();

function oauthClient(sim: QontoSimulator, scopes = ['organization.read', 'webhook']): QontoClient {
  const member = sim.data.addMembership({ firstName: 'Camille', lastName: 'Martin', role: 'owner' });
  const token = sim.issueAccessToken(member.id, { scopes, clientId: 'app-1' });
  return new QontoClient({ baseUrl: sim.url, auth: { kind: 'oauth', getAccessToken: async () => token }, retry: FAST_RETRY });
}

const create = (qonto: QontoClient, description = 'receipts') =>
  qonto.createWebhookSubscription({ callbackUrl: CALLBACK, types: ['v1/transactions', 'v1/consent-revocations'], secret: SECRET, description });

describe('QontoClient: webhook subscriptions', () => {
  it('creates, lists and deletes a subscription, and keeps the secret out of what it hands back', async () => {
    const { sim } = await simulator();
    const qonto = oauthClient(sim);
    const created = await create(qonto);
    expect(created).toMatchObject({
      organization_id: sim.data.organization.id,
      callback_url: CALLBACK,
      types: ['v1/transactions', 'v1/consent-revocations'],
      description: 'receipts',
    });
    expect(created).not.toHaveProperty('secret');
    expect(sim.data.webhookSubscriptions().map((s) => [s.id, s.secret])).toEqual([[created.id, SECRET]]);
    const second = await create(qonto, 'another');
    expect((await qonto.listWebhookSubscriptions()).map((s) => s.id)).toEqual([created.id, second.id]);

    await qonto.deleteWebhookSubscription(created.id);
    expect((await qonto.listWebhookSubscriptions()).map((s) => s.id)).toEqual([second.id]);
    await expect(qonto.deleteWebhookSubscription(created.id)).rejects.toBeInstanceOf(NotFoundError);
  });

  it('reads every page of the list', async () => {
    const { sim } = await simulator();
    const qonto = oauthClient(sim);
    const ids: string[] = [];
    for (let i = 0; i < 102; i++) ids.push((await create(qonto, `s${i}`)).id);
    expect((await qonto.listWebhookSubscriptions()).map((s) => s.id)).toEqual(ids);
  });

  it('says 403 when the token lacks the webhook scope, or an API key may not manage subscriptions', async () => {
    const { sim } = await simulator();
    const refused = await create(oauthClient(sim, ['organization.read'])).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(FatalError);
    expect(refused).toMatchObject({ status: 403 });
    const apiKey = new QontoClient({ baseUrl: sim.url, auth: { kind: 'apiKey', ...KEY }, retry: FAST_RETRY });
    await expect(apiKey.listWebhookSubscriptions()).rejects.toMatchObject({ status: 403 });
    expect(sim.data.webhookSubscriptions()).toEqual([]);
  });

  it('sends the POST once: an answer that may have created it is not retried (the caller cleans up its own)', async () => {
    const { sim } = await simulator();
    const qonto = oauthClient(sim);
    sim.faults.add({ method: 'POST', path: '/v2/webhook_subscriptions' }, { kind: 'status', status: 503 });
    await expect(create(qonto)).rejects.toBeInstanceOf(RetryableError);
    expect(sim.requests.filter((r) => r.method === 'POST')).toHaveLength(1);
    // Reads and deletes are retried as every other request.
    sim.faults.add({ method: 'GET', path: '/v2/webhook_subscriptions' }, { kind: 'status', status: 503 });
    expect(await qonto.listWebhookSubscriptions()).toEqual([]);
  });

  it('reads one transaction with its attachments embedded', async () => {
    const { sim, account } = await simulator();
    const tx = sim.data.addTransaction({ bankAccountId: account.id, amount: 52.4, label: 'Shop' });
    sim.data.attachReceipt(tx.id, { fileName: 'receipt.pdf', contentType: 'application/pdf', size: 1000 });
    const qonto = new QontoClient({ baseUrl: sim.url, auth: { kind: 'apiKey', ...KEY }, retry: FAST_RETRY });
    const read = await qonto.getTransaction(tx.id, { includes: ['attachments'] });
    expect(read.id).toBe(tx.id);
    expect(read.attachments?.map((a) => a.id)).toEqual(tx.attachmentIds);
    expect((await qonto.getTransaction(tx.id)).attachments).toBeUndefined();
    await expect(qonto.getTransaction('nope')).rejects.toBeInstanceOf(NotFoundError);
  });
});
