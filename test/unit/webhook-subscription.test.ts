import { randomBytes } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createSealer, type Sealer } from '../../src/auth/crypto.js';
import { budgetRefusal, isBudgetRefusal } from '../../src/budget/rate-budget.js';
import { ReconnectRequiredError } from '../../src/errors.js';
import { QontoClient } from '../../src/qonto/client.js';
import type { QontoSimulator } from '../../src/simulators/qonto/server.js';
import { openSqliteStore } from '../../src/store/sqlite.js';
import type { Store } from '../../src/store/types.js';
import { webhookSecretAad } from '../../src/webhooks/secret.js';
import { WebhookSubscriptions, attemptTag, subscriptionDescription, type WebhookSettings } from '../../src/webhooks/subscription.js';
import { KEY, useQontoSimulators } from '../support/qonto-sim.js';

const FAST_RETRY = { attempts: 3, baseDelayMs: 1, maxDelayMs: 5 };
const PUBLIC_URL = 'https://receipts.example.com';
const CALLBACK = `${PUBLIC_URL}/webhooks/qonto`;
const OAUTH: WebhookSettings = { publicUrl: PUBLIC_URL, sandbox: false, qontoMode: 'oauth', webhookSecrets: [] };
const TYPES = ['v1/transactions', 'v1/consent-revocations'];

const simulator = useQontoSimulators();

describe('WebhookSubscriptions against the Qonto simulator', () => {
  let store: Store;
  let sealer: Sealer;
  let sim: QontoSimulator;
  /** The integration's Qonto access token, as its member consented (null: no tokens stored). */
  let token: string | null;
  let memberId: string;
  /** The fleet's Qonto budget refuses every request (stand-in: the token lookup throws its refusal). */
  let budgetBusy: boolean;
  /** The abort signals the Qonto clients were made with. */
  let signals: Array<AbortSignal | undefined>;

  beforeEach(async () => {
    store = openSqliteStore(':memory:');
    budgetBusy = false;
    signals = [];
    sealer = createSealer(randomBytes(32));
    ({ sim } = await simulator({ allowHttpCallbacks: true }));
    memberId = sim.data.addMembership({ firstName: 'Camille', lastName: 'Martin', role: 'owner' }).id;
    token = sim.issueAccessToken(memberId, { scopes: ['organization.read', 'webhook'], clientId: 'app-1' });
    await store.createIntegration({ id: 'i1', status: 'idle', organizationId: sim.data.organization.id });
  });
  afterEach(async () => {
    await store.close();
  });

  const subscriptions = (settings: Partial<WebhookSettings> = {}) =>
    new WebhookSubscriptions({
      store,
      sealer,
      settings: { ...OAUTH, ...settings },
      qonto: (_id, signal) =>
        (signals.push(signal), settings.qontoMode) === 'apiKey'
          ? new QontoClient({ baseUrl: sim.url, auth: { kind: 'apiKey', ...KEY }, retry: FAST_RETRY })
          : new QontoClient({
              baseUrl: sim.url,
              retry: FAST_RETRY,
              auth: {
                kind: 'oauth',
                getAccessToken: async () => {
                  if (budgetBusy) throw budgetRefusal('qonto', 1);
                  if (token === null) throw new ReconnectRequiredError('No Qonto account is connected', { code: 'no_tokens', provider: 'qonto' });
                  return token;
                },
              },
            }),
    });
  const apiRequests = () => sim.requests.filter((r) => r.path.startsWith('/v2/')).map((r) => `${r.method} ${r.path.replace(/\?.*/, '')}`);
  const unsealed = async (integrationId = 'i1') => {
    const row = await store.getWebhookSubscription(integrationId);
    return sealer.open(row!.sealedSecret!, webhookSecretAad(integrationId)).toString();
  };

  it('subscribes the organization with a sealed secret of its own, once: afterwards it costs no request', async () => {
    const status = await subscriptions().ensure('i1');
    expect(status).toEqual({ state: 'active', reason: null, lastEventAt: null });
    const [created, ...more] = sim.data.webhookSubscriptions();
    expect(more).toEqual([]);
    const row = await store.getWebhookSubscription('i1');
    // Named after the integration and this attempt.
    expect(created).toMatchObject({ callbackUrl: CALLBACK, types: TYPES, description: subscriptionDescription('i1', attemptTag(row!.sealedSecret!)) });
    expect(row).toMatchObject({ state: 'active', subscriptionId: created!.id, organizationId: sim.data.organization.id, membershipId: created!.membershipId });
    expect(await unsealed()).toBe(created!.secret);
    expect(created!.secret).toHaveLength(64);
    expect(await store.webhookSecrets(created!.id)).toMatchObject({ integrationId: 'i1', state: 'active' });
    expect(apiRequests()).toEqual(['GET /v2/webhook_subscriptions', 'POST /v2/webhook_subscriptions']);

    const before = sim.requests.length;
    expect(await subscriptions().ensure('i1')).toEqual(status);
    expect(sim.requests.length).toBe(before);
  });

  it('over plain http outside the sandbox: unavailable, no request; the sandbox subscribes over http', async () => {
    expect(await subscriptions({ publicUrl: 'http://receipts.example.com' }).ensure('i1')).toEqual({ state: 'unavailable', reason: 'insecure_public_url', lastEventAt: null });
    expect(apiRequests()).toEqual([]);
    expect(await subscriptions({ publicUrl: 'http://localhost:3000', sandbox: true }).ensure('i1')).toMatchObject({ state: 'active' });
    expect(sim.data.webhookSubscriptions().map((s) => s.callbackUrl)).toEqual(['http://localhost:3000/webhooks/qonto']);
  });

  it('a token without the webhook scope: unavailable (missing_scope), and tried again next time', async () => {
    const member = sim.data.addMembership({ firstName: 'Old', lastName: 'Consent', role: 'owner' });
    token = sim.issueAccessToken(member.id, { scopes: ['organization.read'], clientId: 'app-1' });
    expect(await subscriptions().ensure('i1')).toEqual({ state: 'unavailable', reason: 'missing_scope', lastEventAt: null });
    expect(sim.data.webhookSubscriptions()).toEqual([]);
    // Signed in again with the scope: the next full run subscribes.
    token = sim.issueAccessToken(member.id, { scopes: ['organization.read', 'webhook'], clientId: 'app-1' });
    expect(await subscriptions().ensure('i1')).toMatchObject({ state: 'active', reason: null });
  });

  it("after an attempt that was cut short, deletes this integration's stale subscriptions but no other integration's", async () => {
    const qonto = subscriptions();
    await store.createIntegration({ id: 'i2', status: 'idle' });
    await qonto.ensure('i2');
    // An earlier attempt for i1 subscribed, and its answer was lost: the row still says creating.
    await store.putWebhookSubscription('i1', { state: 'creating', sealedSecret: Buffer.from('lost') });
    const lost = sim.data.addWebhookSubscription({ callbackUrl: CALLBACK, types: TYPES, description: subscriptionDescription('i1'), membershipId: memberId, clientId: 'app-1' });
    const i2 = (await store.getWebhookSubscription('i2'))!.subscriptionId;

    expect(await qonto.ensure('i1')).toMatchObject({ state: 'active' });
    const ids = sim.data.webhookSubscriptions().map((s) => s.id);
    expect(ids).not.toContain(lost.id);
    expect(ids).toContain(i2);
    expect(ids).toContain((await store.getWebhookSubscription('i1'))!.subscriptionId);
    expect(ids).toHaveLength(2);
  });

  it('API-key mode: with QONTO_WEBHOOK_SECRET, records the organization (one request, once); without it, no secret', async () => {
    expect(await subscriptions({ qontoMode: 'apiKey' }).ensure('i1')).toEqual({ state: 'unavailable', reason: 'no_secret', lastEventAt: null });
    expect(apiRequests()).toEqual([]);
    const manual = subscriptions({ qontoMode: 'apiKey', webhookSecrets: ['m'.repeat(40)], publicUrl: 'http://localhost:3000' });
    expect(await manual.ensure('i1')).toEqual({ state: 'manual', reason: null, lastEventAt: null });
    expect(await store.getWebhookSubscription('i1')).toMatchObject({ state: 'manual', organizationId: sim.data.organization.id, subscriptionId: null });
    expect(await store.integrationsOfOrganization(sim.data.organization.id)).toEqual(['i1']);
    await manual.ensure('i1');
    expect(apiRequests()).toEqual(['GET /v2/organization']);
    expect(sim.data.webhookSubscriptions()).toEqual([]);
  });

  it('revoked while it subscribed: the revoked row stays, and the subscription just made is deleted again', async () => {
    const racing = new WebhookSubscriptions({
      store,
      sealer,
      settings: OAUTH,
      qonto: () => {
        const client = new QontoClient({ baseUrl: sim.url, retry: FAST_RETRY, auth: { kind: 'oauth', getAccessToken: async () => token! } });
        const create = client.createWebhookSubscription.bind(client);
        client.createWebhookSubscription = async (input) => {
          const created = await create(input);
          // The user withdraws consent while Qonto's answer is on its way.
          await store.putWebhookSubscription('i1', { state: 'revoked' });
          return created;
        };
        return client;
      },
    });
    expect(await racing.ensure('i1')).toMatchObject({ state: 'revoked' });
    expect(await store.getWebhookSubscription('i1')).toMatchObject({ state: 'revoked', subscriptionId: null });
    expect(sim.data.webhookSubscriptions()).toEqual([]);
  });

  it('does nothing for a revoked integration', async () => {
    await store.updateIntegration('i1', { status: 'revoked' });
    expect(await subscriptions().ensure('i1')).toEqual({ state: 'revoked', reason: null, lastEventAt: null });
    expect(apiRequests()).toEqual([]);
    expect(await store.getWebhookSubscription('i1')).toBeNull();
  });

  it('unsubscribes at Qonto, tolerating a subscription already gone and tokens already gone; the revoked row keeps its secret', async () => {
    const qonto = subscriptions();
    await qonto.ensure('i1');
    const { subscriptionId } = (await store.getWebhookSubscription('i1'))!;
    const secret = await unsealed();
    await qonto.unsubscribe('i1');
    expect(sim.data.webhookSubscriptions()).toEqual([]);
    await qonto.markRevoked('i1');
    expect(await store.getWebhookSubscription('i1')).toMatchObject({ state: 'revoked', subscriptionId });
    expect(await unsealed()).toBe(secret);
    expect(await store.webhookSecrets(subscriptionId!)).toMatchObject({ integrationId: 'i1', state: 'revoked' });

    // Already gone at Qonto (404), or no tokens left: nothing thrown.
    await store.createIntegration({ id: 'i2', status: 'idle' });
    await qonto.ensure('i2');
    sim.data.deleteWebhookSubscription((await store.getWebhookSubscription('i2'))!.subscriptionId!);
    await expect(qonto.unsubscribe('i2')).resolves.toBeUndefined();
    await store.createIntegration({ id: 'i3', status: 'idle' });
    await qonto.ensure('i3');
    token = null;
    await expect(qonto.unsubscribe('i3')).resolves.toBeUndefined();
    expect(sim.data.webhookSubscriptions()).toHaveLength(1);
  });

  it("unsubscribing gives up on a refusal of the fleet's budget (the activity retries it): the subscription stays known, never silently left at Qonto", async () => {
    const qonto = subscriptions();
    await qonto.ensure('i1');
    budgetBusy = true;
    const refused = await qonto.unsubscribe('i1').then(() => null, (error: unknown) => error);
    expect(isBudgetRefusal(refused)).toBe(true);
    expect(sim.data.webhookSubscriptions()).toHaveLength(1);
    // The retry, once the budget has room, deletes it.
    budgetBusy = false;
    await qonto.unsubscribe('i1');
    expect(sim.data.webhookSubscriptions()).toEqual([]);
  });

  it("unsubscribing makes its Qonto requests under the caller's abort signal (an attempt out of time stops)", async () => {
    const qonto = subscriptions();
    await qonto.ensure('i1');
    const attempt = new AbortController();
    await qonto.unsubscribe('i1', attempt.signal);
    expect(signals.at(-1)).toBe(attempt.signal);
  });

  it("API-key mode never deletes the operator's subscription", async () => {
    const operators = sim.data.addWebhookSubscription({ callbackUrl: CALLBACK, types: TYPES });
    const manual = subscriptions({ qontoMode: 'apiKey', webhookSecrets: ['m'.repeat(40)] });
    await manual.ensure('i1');
    await manual.unsubscribe('i1');
    await manual.markRevoked('i1');
    expect(sim.data.webhookSubscriptions().map((s) => s.id)).toEqual([operators.id]);
    expect((await store.getWebhookSubscription('i1'))?.state).toBe('revoked');
    expect(await store.integrationsOfOrganization(sim.data.organization.id)).toEqual([]);
  });
});
