import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_QONTO_SCOPES } from '../../src/auth/qonto-oauth.js';
import { startHarness, type Harness } from '../support/harness.js';

/** Consent withdrawn (services.ts forgetTokens): the integration's webhook subscription goes at Qonto
 * first (with its tokens), then the tokens; the row stays, revoked, with its secret. */
describe('forgetTokens and the webhook subscription', () => {
  let h: Harness;
  beforeAll(async () => {
    // The sandbox setting lets the simulated Qonto subscribe an http://localhost PUBLIC_URL.
    h = await startHarness({ qontoMode: 'oauth', qontoWebhooks: { allowHttpCallbacks: true }, extraEnv: { SANDBOX: 'true' } });
  });
  afterAll(async () => {
    await h?.close();
  });

  /** An idle integration whose member consented with the webhook scope, subscribed. */
  async function subscribed(id: string): Promise<string> {
    const member = h.sims.qonto.data.addMembership({ firstName: 'Camille', lastName: id, role: 'owner' });
    await h.services.store.createIntegration({ id, status: 'idle', organizationId: h.sims.qonto.data.organization.id });
    const accessToken = h.sims.qonto.issueAccessToken(member.id, { scopes: DEFAULT_QONTO_SCOPES, clientId: h.config.QONTO_CLIENT_ID! });
    await h.services.qontoOAuth!.save(id, { accessToken, refreshToken: `rt-${id}`, expiresAt: Date.now() + 3_600_000, scopes: DEFAULT_QONTO_SCOPES });
    expect(await h.services.deps.webhooks!.ensure(id)).toMatchObject({ state: 'active' });
    return (await h.services.store.getWebhookSubscription(id))!.subscriptionId!;
  }
  const atQonto = () => h.sims.qonto.data.webhookSubscriptions().map((s) => s.id);
  const revokes = () => h.sims.qonto.requests.filter((r) => r.path === '/oauth2/revoke').length;

  it('withdrawn here: deletes the subscription at Qonto before revoking the tokens; the row is revoked and keeps its secret', async () => {
    const subscriptionId = await subscribed('here');
    const { sealedSecret } = (await h.services.store.getWebhookSubscription('here'))!;
    const before = revokes();
    await h.services.deps.forgetTokens('here');
    expect(atQonto()).not.toContain(subscriptionId);
    expect(revokes()).toBe(before + 1);
    expect(await h.services.store.getWebhookSubscription('here')).toMatchObject({ state: 'revoked', subscriptionId, sealedSecret });
    expect(await h.services.store.webhookSecrets(subscriptionId)).toMatchObject({ integrationId: 'here', state: 'revoked' });
  });

  it('withdrawn in Qonto (atQonto false): no request to Qonto, the row is revoked all the same', async () => {
    const subscriptionId = await subscribed('there');
    const requests = h.sims.qonto.requests.length;
    await h.services.deps.forgetTokens('there', { atQonto: false });
    expect(h.sims.qonto.requests.length).toBe(requests);
    expect(atQonto()).toContain(subscriptionId);
    expect((await h.services.store.getWebhookSubscription('there'))?.state).toBe('revoked');
  });

  it('a subscription already gone at Qonto, or tokens already gone, do not stop the withdrawal', async () => {
    const gone = await subscribed('gone');
    h.sims.qonto.data.deleteWebhookSubscription(gone);
    await expect(h.services.deps.forgetTokens('gone')).resolves.toBeUndefined();
    expect((await h.services.store.getWebhookSubscription('gone'))?.state).toBe('revoked');

    const orphan = await subscribed('no-tokens');
    await h.services.store.deleteTokenCaches('no-tokens');
    await expect(h.services.deps.forgetTokens('no-tokens')).resolves.toBeUndefined();
    expect((await h.services.store.getWebhookSubscription('no-tokens'))?.state).toBe('revoked');
    // Left to Qonto, which ends it with the consent; its deliveries still verify against the tombstone.
    expect(atQonto()).toContain(orphan);
  });
});
