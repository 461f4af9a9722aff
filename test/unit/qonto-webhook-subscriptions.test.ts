import { describe, expect, it } from 'vitest';
import { KEY, useQontoSimulators } from '../support/qonto-sim.js';
import type { QontoSimulator } from '../../src/simulators/qonto/server.js';

const API_KEY = { authorization: `${KEY.login}:${KEY.secret}` };
const simulator = useQontoSimulators();

async function call(sim: QontoSimulator, method: string, path: string, headers: Record<string, string>, body?: unknown) {
  const res = await fetch(`${sim.url}${path}`, {
    method,
    headers: { ...headers, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text === '' ? null : JSON.parse(text) };
}

function bearer(sim: QontoSimulator, scopes = ['organization.read', 'webhook']): Record<string, string> {
  const member = sim.data.addMembership({ firstName: 'Camille', lastName: 'Martin', role: 'owner' });
  return { authorization: `Bearer ${sim.issueAccessToken(member.id, { scopes, clientId: 'app-1' })}` };
}

const NEW = { callback_url: 'https://receipts.example.com/webhooks/qonto', types: ['v1/transactions', 'v1/consent-revocations'] };

describe('Qonto simulator: webhook subscriptions', () => {
  it('creates, lists, reads, replaces and deletes a subscription with an OAuth token that has the webhook scope', async () => {
    const { sim } = await simulator();
    const auth = bearer(sim);
    const created = await call(sim, 'POST', '/v2/webhook_subscriptions', auth, { ...NEW, description: 'receipts' });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      organization_id: sim.data.organization.id,
      callback_url: NEW.callback_url,
      types: NEW.types,
      description: 'receipts',
    });
    expect(created.body.secret).toHaveLength(64);
    const id = created.body.id as string;

    const listed = await call(sim, 'GET', '/v2/webhook_subscriptions', auth);
    expect(listed.status).toBe(200);
    expect(listed.body.subscriptions.map((s: { id: string }) => s.id)).toEqual([id]);
    expect(listed.body.meta).toMatchObject({ current_page: 1, total_count: 1 });
    expect((await call(sim, 'GET', `/v2/webhook_subscriptions/${id}`, auth)).body).toEqual(created.body);

    // PUT replaces: callback_url is required again.
    expect((await call(sim, 'PUT', `/v2/webhook_subscriptions/${id}`, auth, { types: ['v1/transactions'] })).status).toBe(422);
    const secret = 's'.repeat(40);
    const replaced = await call(sim, 'PUT', `/v2/webhook_subscriptions/${id}`, auth, { callback_url: 'https://other.example.com/hook', secret });
    expect(replaced.status).toBe(200);
    expect(replaced.body).toMatchObject({ id, callback_url: 'https://other.example.com/hook', types: NEW.types, secret });

    expect((await call(sim, 'DELETE', `/v2/webhook_subscriptions/${id}`, auth)).status).toBe(204);
    expect((await call(sim, 'GET', `/v2/webhook_subscriptions/${id}`, auth)).status).toBe(404);
    expect((await call(sim, 'DELETE', `/v2/webhook_subscriptions/${id}`, auth)).status).toBe(404);
    expect(sim.data.webhookSubscriptions()).toEqual([]);
  });

  it('keeps the secret the request gives, within 32 to 128 characters', async () => {
    const { sim } = await simulator();
    const auth = bearer(sim);
    for (const bad of ['x'.repeat(31), 'x'.repeat(129), 42]) {
      const res = await call(sim, 'POST', '/v2/webhook_subscriptions', auth, { ...NEW, secret: bad });
      expect(res.status).toBe(422);
      expect(res.body.errors[0].source).toEqual({ pointer: '/secret' });
    }
    const ok = await call(sim, 'POST', '/v2/webhook_subscriptions', auth, { ...NEW, secret: 'x'.repeat(32) });
    expect(ok.body.secret).toBe('x'.repeat(32));
  });

  it('refuses http callbacks unless allowHttpCallbacks, and unknown types or a missing body', async () => {
    const { sim } = await simulator();
    const auth = bearer(sim);
    const http = { ...NEW, callback_url: 'http://localhost:3000/webhooks/qonto' };
    const refused = await call(sim, 'POST', '/v2/webhook_subscriptions', auth, http);
    expect(refused.status).toBe(422);
    expect(refused.body.errors[0].source).toEqual({ pointer: '/callback_url' });
    expect((await call(sim, 'POST', '/v2/webhook_subscriptions', auth, { ...NEW, types: ['v1/everything'] })).status).toBe(422);
    expect((await call(sim, 'POST', '/v2/webhook_subscriptions', auth, { ...NEW, types: [] })).status).toBe(422);
    expect((await call(sim, 'POST', '/v2/webhook_subscriptions', auth, '{not json')).status).toBe(400);
    expect((await call(sim, 'POST', '/v2/webhook_subscriptions', auth, [NEW])).status).toBe(422);

    const { sim: lenient } = await simulator({ allowHttpCallbacks: true });
    expect((await call(lenient, 'POST', '/v2/webhook_subscriptions', bearer(lenient), http)).status).toBe(201);
  });

  it('needs the webhook scope; API keys get 403 unless webhooksForApiKeys', async () => {
    const { sim } = await simulator();
    const noScope = bearer(sim, ['organization.read']);
    expect((await call(sim, 'POST', '/v2/webhook_subscriptions', noScope, NEW)).status).toBe(403);
    expect((await call(sim, 'GET', '/v2/webhook_subscriptions', noScope)).status).toBe(403);
    expect((await call(sim, 'POST', '/v2/webhook_subscriptions', API_KEY, NEW)).status).toBe(403);
    expect(sim.data.webhookSubscriptions()).toEqual([]);

    const { sim: permitted } = await simulator({ webhooksForApiKeys: true });
    const created = await call(permitted, 'POST', '/v2/webhook_subscriptions', API_KEY, NEW);
    expect(created.status).toBe(201);
    expect(created.body.membership_id).toBeNull();
  });

  it("shows an OAuth app its own subscriptions only, and an API key the operator's", async () => {
    const { sim } = await simulator({ webhooksForApiKeys: true });
    const manual = sim.data.addWebhookSubscription({ callbackUrl: 'https://receipts.example.com/webhooks/qonto', types: ['v1/transactions'] });
    const auth = bearer(sim);
    const mine = await call(sim, 'POST', '/v2/webhook_subscriptions', auth, NEW);
    expect((await call(sim, 'GET', '/v2/webhook_subscriptions', auth)).body.subscriptions.map((s: { id: string }) => s.id)).toEqual([mine.body.id]);
    expect((await call(sim, 'GET', `/v2/webhook_subscriptions/${manual.id}`, auth)).status).toBe(404);
    expect((await call(sim, 'GET', '/v2/webhook_subscriptions', API_KEY)).body.subscriptions.map((s: { id: string }) => s.id)).toEqual([manual.id]);
  });
});

describe('Qonto simulator: attachments still being processed', () => {
  it('hides an attachment from listings, GETs and attachment_ids until visibleAfterMs has passed', async () => {
    let now = Date.parse('2026-12-01T10:00:00.000Z');
    const { sim, account } = await simulator({ now: () => now });
    const tx = sim.data.addTransaction({ bankAccountId: account.id, amount: 12, label: 'Café' });
    const shown = sim.data.attachReceipt(tx.id, { fileName: 'a.pdf', contentType: 'application/pdf', size: 10 });
    const hidden = sim.data.attachReceipt(tx.id, { fileName: 'b.pdf', contentType: 'application/pdf', size: 10, visibleAfterMs: 20_000 });

    const views = async () => {
      const one = await call(sim, 'GET', `/v2/transactions/${tx.id}?includes[]=attachments`, API_KEY);
      const list = await call(sim, 'GET', `/v2/transactions?bank_account_id=${account.id}&includes[]=attachments`, API_KEY);
      const attachments = await call(sim, 'GET', `/v2/transactions/${tx.id}/attachments`, API_KEY);
      return {
        one: [one.body.transaction.attachment_ids, one.body.transaction.attachments.map((a: { id: string }) => a.id)],
        list: list.body.transactions[0].attachment_ids,
        attachments: attachments.body.attachments.map((a: { id: string }) => a.id),
        hidden: (await call(sim, 'GET', `/v2/attachments/${hidden.id}`, API_KEY)).status,
      };
    };
    expect(await views()).toEqual({ one: [[shown.id], [shown.id]], list: [shown.id], attachments: [shown.id], hidden: 404 });
    now += 20_000;
    expect(await views()).toEqual({
      one: [[shown.id, hidden.id], [shown.id, hidden.id]],
      list: [shown.id, hidden.id],
      attachments: [shown.id, hidden.id],
      hidden: 200,
    });
  });
});
