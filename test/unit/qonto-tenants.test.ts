import { describe, expect, it } from 'vitest';
import { useQontoSimulators } from '../support/qonto-sim.js';

const simulator = useQontoSimulators();
const CLIENT = { clientId: 'fleet-client', clientSecret: 'fleet-secret' };
const REDIRECT = 'http://127.0.0.1:9/callback';

async function json(url: string, authorization: string): Promise<{ status: number; body: any }> {
  const res = await fetch(url, { headers: { authorization } });
  return { status: res.status, body: await res.json() };
}

describe('Qonto simulator: several organizations', () => {
  it('serves each OAuth caller its own organization, and downloads by attachment id', async () => {
    const { sim, account: primaryAccount } = await simulator();
    const other = sim.tenants.add({ slug: 'beta-sarl-1', name: 'Beta SARL' });
    const account = other.addBankAccount();
    const tx = other.addTransaction({ bankAccountId: account.id, amount: 12, label: 'Taxi' });
    const receipt = other.attachReceipt(tx.id, { fileName: 'taxi.pdf', contentType: 'application/pdf', size: 1_234 });
    const owner = other.addMembership({ firstName: 'Bea', lastName: 'Beta', role: 'owner' });
    const bearer = `Bearer ${sim.issueAccessToken(owner.id)}`;

    const org = await json(`${sim.url}/v2/organization`, bearer);
    expect(org.body.organization).toMatchObject({ id: other.organization.id, slug: 'beta-sarl-1' });
    expect(org.body.organization.bank_accounts.map((a: { id: string }) => a.id)).toEqual([account.id]);
    const txs = await json(`${sim.url}/v2/transactions?bank_account_id=${account.id}&includes[]=attachments`, bearer);
    expect(txs.body.transactions.map((t: { id: string }) => t.id)).toEqual([tx.id]);
    // Another organization's account is not found for this caller.
    expect((await json(`${sim.url}/v2/bank_accounts/${primaryAccount.id}`, bearer)).status).toBe(404);

    const download = await fetch(txs.body.transactions[0].attachments[0].url);
    expect(download.status).toBe(200);
    expect((await download.arrayBuffer()).byteLength).toBe(receipt.size);
    // The primary organization is what a single-tenant simulator served.
    const primaryOwner = sim.data.addMembership({ firstName: 'Pat', lastName: 'Primary', role: 'owner' });
    const primary = await json(`${sim.url}/v2/organization`, `Bearer ${sim.issueAccessToken(primaryOwner.id)}`);
    expect(primary.body.organization.id).toBe(sim.data.organization.id);
  });

  it('refuses (401) a token whose membership no organization has, instead of serving the primary one', async () => {
    const { sim } = await simulator();
    const gone = sim.data.addMembership({ firstName: 'Lou', lastName: 'Left', role: 'owner' });
    const bearer = `Bearer ${sim.issueAccessToken(gone.id)}`;
    sim.data.removeMembership(gone.id);
    const res = await json(`${sim.url}/v2/organization`, bearer);
    expect(res.status).toBe(401);
    expect(res.body.errors[0].code).toBe('unauthorized');
  });

  it("manages a caller's webhook subscriptions in its own organization", async () => {
    const { sim } = await simulator({ allowHttpCallbacks: true });
    const other = sim.tenants.add({ slug: 'delta-sa-3' });
    const owner = other.addMembership({ firstName: 'Dee', lastName: 'Delta', role: 'owner' });
    const authorization = `Bearer ${sim.issueAccessToken(owner.id, { scopes: ['organization.read', 'webhook'], clientId: 'app-1' })}`;
    const created = await fetch(`${sim.url}/v2/webhook_subscriptions`, {
      method: 'POST',
      headers: { authorization, 'content-type': 'application/json' },
      body: JSON.stringify({ callback_url: 'http://127.0.0.1:9/webhooks/qonto', types: ['v1/transactions'] }),
    });
    expect(created.status).toBe(201);
    const { id, organization_id } = (await created.json()) as { id: string; organization_id: string };
    expect(organization_id).toBe(other.organization.id);
    expect(other.webhookSubscriptions().map((s) => s.id)).toEqual([id]);
    expect(sim.data.webhookSubscriptions()).toEqual([]);
    const listed = await json(`${sim.url}/v2/webhook_subscriptions`, authorization);
    expect(listed.body.subscriptions.map((s: { id: string; organization_id: string }) => [s.id, s.organization_id])).toEqual([[id, other.organization.id]]);
    expect((await fetch(`${sim.url}/v2/webhook_subscriptions/${id}`, { method: 'DELETE', headers: { authorization } })).status).toBe(204);
    expect(other.webhookSubscriptions()).toEqual([]);
  });

  it('takes consent from a member of any organization through login_hint', async () => {
    const { sim } = await simulator({ oauthClients: [{ ...CLIENT, redirectUris: [REDIRECT] }] });
    const other = sim.tenants.add({ slug: 'gamma-sas-2' });
    const owner = other.addMembership({ firstName: 'Gil', lastName: 'Gamma', role: 'owner' });
    const authorize = new URL(`${sim.url}/oauth2/auth`);
    for (const [k, v] of Object.entries({ client_id: CLIENT.clientId, redirect_uri: REDIRECT, response_type: 'code', scope: 'organization.read offline_access', state: 's1', login_hint: owner.email })) {
      authorize.searchParams.set(k, v);
    }
    const back = await fetch(authorize, { redirect: 'manual' });
    const code = new URL(back.headers.get('location')!).searchParams.get('code');
    expect(code).toMatch(/^ory_ac_/);
    const token = await fetch(`${sim.url}/oauth2/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'authorization_code', code: code!, redirect_uri: REDIRECT, client_id: CLIENT.clientId, client_secret: CLIENT.clientSecret }),
    });
    expect(token.status).toBe(200);
    const { access_token } = (await token.json()) as { access_token: string };
    const org = await json(`${sim.url}/v2/organization`, `Bearer ${access_token}`);
    expect(org.body.organization.id).toBe(other.organization.id);
  });

  it('finds an API key organization from its login', async () => {
    const { sim } = await simulator();
    const other = sim.tenants.add({ slug: 'delta-sa-3' });
    sim.addApiKey({ login: 'delta', secret: 'delta-secret' }, other);
    expect((await json(`${sim.url}/v2/organization`, 'delta:delta-secret')).body.organization.id).toBe(other.organization.id);
  });

  it('counts every organization against one per-IP limit, and counts connections', async () => {
    const { sim } = await simulator({ rateLimit: { perTenSeconds: 3, perTenMinutes: 100 } });
    const members = [sim.data, sim.tenants.add({ slug: 'epsilon-4' })].map((d) => d.addMembership({ firstName: 'E', lastName: 'P', role: 'owner' }));
    const [a, b] = members.map((m) => `Bearer ${sim.issueAccessToken(m.id)}`) as [string, string];
    const statuses = [];
    for (const who of [a, b, a, b]) statuses.push((await json(`${sim.url}/v2/organization`, who)).status);
    expect(statuses).toEqual([200, 200, 200, 429]);
    expect(sim.rateLimited()).toBe(1);
    expect(sim.connections()).toBeGreaterThan(0);
    expect(sim.connections()).toBeLessThanOrEqual(4);
  });
});
