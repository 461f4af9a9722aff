/**
 * Token refreshes with several processes on one store: each "process" has its own MicrosoftAuth or
 * QontoOAuth (its own in-process queue) and its own store on the shared database; only the store's
 * token lock stands between them. The simulators run strict (a refresh token presented twice is
 * refused at once), so any refresh race fails these tests with invalid_grant.
 */
import { randomBytes } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createSealer } from '../../src/auth/crypto.js';
import { MicrosoftAuth } from '../../src/auth/microsoft.js';
import { QontoOAuth } from '../../src/auth/qonto-oauth.js';
import { FatalError, ReconnectRequiredError, TokensRefusedError } from '../../src/errors.js';
import { OneDriveClient } from '../../src/onedrive/client.js';
import { SANDBOX_MICROSOFT_CLIENT, SANDBOX_QONTO_OAUTH_CLIENT, startSimulators, type Simulators } from '../../src/simulators/index.js';
import type { SimMembership } from '../../src/simulators/qonto/data.js';
import { signInToQontoWithSimulator, signInWithSimulator } from '../../src/simulators/sign-in.js';
import type { Store } from '../../src/store/types.js';
import { freshDatabaseUrl } from '../support/postgres.js';
import { editMicrosoftCache, expireMicrosoftAccessTokens, expireQontoAccessToken, sharedPostgres, sharedSqlite, storedQontoTokens, type SharedDatabase, type StoreHooks } from '../support/token-stores.js';

const PROCESSES = 4;
const MICROSOFT_REDIRECT = 'http://localhost:3000/auth/microsoft/callback';
const QONTO_REDIRECT = 'http://localhost:3000/auth/qonto/callback';

let sims: Simulators;
let owner: SimMembership;
const sealer = createSealer(randomBytes(32));
let database: SharedDatabase;
/** What the stores run before each token write (revocations meanwhile). */
let beforePutTokens: StoreHooks['beforePutTokens'];

/** A store as one more process opens it on the shared database. */
const processStore = (): Promise<Store> => database.open({ beforePutTokens: (...args) => beforePutTokens?.(...args) ?? Promise.resolve() });
const processStores = (n: number): Promise<Store[]> => Promise.all(Array.from({ length: n }, processStore));

const microsoftAuth = (store: Store): MicrosoftAuth =>
  new MicrosoftAuth({ ...SANDBOX_MICROSOFT_CLIENT, loginUrl: sims.identity.url, redirectUri: MICROSOFT_REDIRECT, store, sealer });

const qontoOAuth = (store: Store, keys = sealer): QontoOAuth =>
  new QontoOAuth({ oauthUrl: sims.qonto.url, ...SANDBOX_QONTO_OAUTH_CLIENT, redirectUri: QONTO_REDIRECT, store, sealer: keys });

const qontoTokenRequests = (): number => sims.qonto.requests.filter((r) => r.method === 'POST' && r.path.endsWith('/oauth2/token')).length;

async function refreshByHand(refreshToken: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`${sims.identity.url}/consumers/oauth2/v2.0/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      client_id: SANDBOX_MICROSOFT_CLIENT.clientId,
      client_secret: SANDBOX_MICROSOFT_CLIENT.clientSecret,
      grant_type: 'refresh_token',
      refresh_token: refreshToken,
      scope: 'User.Read offline_access',
    }),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

/** What the API's revocation does first: the integration is marked revoked (the token rows go later). */
const revoke = (store: Store, integrationId: string) => store.updateIntegration(integrationId, { status: 'revoked' });

/** How several processes share one database: each opens its own store on it. */
const databases: [string, () => Promise<SharedDatabase>][] = [
  ['Postgres, a store with its own pools per process', async () => sharedPostgres(await freshDatabaseUrl())],
  ['SQLite file, the token lock shared in memory', async () => sharedSqlite()],
];

describe.each(databases)('%s', (_name, createDatabase) => {
  beforeEach(async () => {
    sims = await startSimulators({ demo: false, refreshTokenReuseGraceSec: { microsoft: 0, qonto: 0 } });
    owner = sims.qonto.data.addMembership({ firstName: 'Alice', lastName: 'Martin', role: 'owner' });
    database = await createDatabase();
    beforePutTokens = undefined;
    await (await processStore()).createIntegration({ id: 'int-1' });
  });
  afterEach(async () => {
    await database.close();
    await sims.close();
  });

  describe('Microsoft tokens across processes', () => {
    it('N processes asking at once after expiry: one refresh, every caller gets the same working token', async () => {
      const auths = (await processStores(PROCESSES)).map(microsoftAuth);
      await signInWithSimulator(auths[0]!, 'int-1', sims.users.personal.username);
      await expireMicrosoftAccessTokens(database.stores[0]!, sealer, 'int-1');
      const before = sims.identity.tokenRequests;

      const results = await Promise.allSettled(auths.map((auth) => auth.getAccessToken('int-1')));

      expect(results.filter((r) => r.status === 'rejected')).toEqual([]);
      expect(sims.identity.tokenRequests - before).toBe(1);
      const tokens = new Set(results.map((r) => (r as PromiseFulfilledResult<string>).value));
      expect(tokens.size).toBe(1);
      expect(sims.directory.resolveAccessToken([...tokens][0]!)?.userId).toBe(sims.users.personal.id);
    });

    it('Graph refuses the access token early on every worker (401 storm): one refresh, every upload continues', async () => {
      const auths = (await processStores(PROCESSES)).map(microsoftAuth);
      await signInWithSimulator(auths[0]!, 'int-1', sims.users.personal.username);
      const clients = auths.map(
        (auth) =>
          new OneDriveClient({ graphUrl: sims.graph.url, getAccessToken: (opts) => auth.getAccessToken('int-1', opts), retry: { attempts: 1 } }),
      );
      await Promise.all(clients.map((client) => client.getDrive()));
      const control = `${new URL(sims.graph.url).origin}/__sim/drives/${sims.users.personal.id}/expire-access-tokens`;
      expect((await fetch(control, { method: 'POST' })).status).toBe(204);
      const before = sims.identity.tokenRequests;

      const results = await Promise.allSettled(clients.flatMap((client) => [client.getAppFolder(), client.getDrive()]));

      expect(results.filter((r) => r.status === 'rejected')).toEqual([]);
      expect(sims.identity.tokenRequests - before).toBe(1);
    });

    it('the strict identity simulator refuses a refresh token another instance already spent (invalid_grant, AADSTS70000)', async () => {
      const [first, second] = (await processStores(2)).map(microsoftAuth) as [MicrosoftAuth, MicrosoftAuth];
      await signInWithSimulator(first, 'int-1', sims.users.personal.username);
      const token = await first.getAccessToken('int-1');
      // A copy of the cache as a process without the lock would have read it before the refresh.
      const stale = (await database.stores[0]!.getTokenCache('int-1', 'microsoft'))!;
      const [spent] = Object.values((await editMicrosoftCache(database.stores[0]!, sealer, 'int-1', () => undefined)).RefreshToken).map((rt) => rt.secret);

      await first.getAccessToken('int-1', { rejected: token });
      const byHand = await refreshByHand(spent!);
      expect(byHand.status).toBe(400);
      expect(byHand.body).toMatchObject({ error: 'invalid_grant', error_codes: [70000] });
      expect(byHand.body.error_description).toMatch(/^AADSTS70000:/);

      await database.stores[0]!.putTokenCache('int-1', 'microsoft', stale);
      const error = await second.getAccessToken('int-1', { rejected: token }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ReconnectRequiredError);
      expect(error).toMatchObject({ code: 'invalid_grant' });
    });

    it('revoked in another process while a refresh is in flight: the call fails for good and no tokens are left behind', async () => {
      const [api, worker] = (await processStores(2)) as [Store, Store];
      const auth = microsoftAuth(worker);
      await signInWithSimulator(auth, 'int-1', sims.users.personal.username);
      await expireMicrosoftAccessTokens(worker, sealer, 'int-1');
      beforePutTokens = async (integrationId) => {
        await revoke(api, integrationId);
        await api.deleteTokenCaches(integrationId);
      };

      const error = await auth.getAccessToken('int-1').catch((e: unknown) => e);

      expect(error).toBeInstanceOf(TokensRefusedError);
      expect(error).toBeInstanceOf(FatalError);
      expect(await api.getTokenCache('int-1', 'microsoft')).toBeNull();
    });

    it('a refresh MSAL makes ahead of time (refresh_on passed) whose tokens the store refuses fails the call too', async () => {
      const store = await processStore();
      const auth = microsoftAuth(store);
      await signInWithSimulator(auth, 'int-1', sims.users.personal.username);
      const past = String(Math.floor(Date.now() / 1000) - 60);
      await editMicrosoftCache(store, sealer, 'int-1', (cache) => {
        for (const at of Object.values(cache.AccessToken)) at.refresh_on = past;
      });
      const before = sims.identity.tokenRequests;
      await revoke(store, 'int-1');

      // MSAL refreshes (and would swallow the store's refusal, handing out the old token).
      await expect(auth.getAccessToken('int-1')).rejects.toBeInstanceOf(TokensRefusedError);
      expect(sims.identity.tokenRequests - before).toBe(1);
    });

    it('a sign-in completing for an integration revoked meanwhile stores nothing', async () => {
      const store = await processStore();
      await revoke(store, 'int-1');
      await expect(signInWithSimulator(microsoftAuth(store), 'int-1', sims.users.personal.username)).rejects.toBeInstanceOf(TokensRefusedError);
      expect(await store.getTokenCache('int-1', 'microsoft')).toBeNull();
    });
  });

  describe('Qonto tokens across processes', () => {
    it('N processes asking at once after expiry: one refresh, every caller gets the same working token', async () => {
      const auths = (await processStores(PROCESSES)).map((store) => qontoOAuth(store));
      await signInToQontoWithSimulator(auths[0]!, 'int-1', owner.id);
      await expireQontoAccessToken(database.stores[0]!, sealer, 'int-1');
      const before = qontoTokenRequests();

      const results = await Promise.allSettled(auths.map((auth) => auth.getAccessToken('int-1')));

      expect(results.filter((r) => r.status === 'rejected')).toEqual([]);
      expect(qontoTokenRequests() - before).toBe(1);
      const tokens = new Set(results.map((r) => (r as PromiseFulfilledResult<string>).value));
      expect([...tokens]).toEqual([(await storedQontoTokens(database.stores[0]!, sealer, 'int-1'))!.accessToken]);
    });

    it('the strict Qonto simulator refuses a rotated refresh token presented again at once (invalid_grant)', async () => {
      const store = await processStore();
      const auth = qontoOAuth(store);
      await signInToQontoWithSimulator(auth, 'int-1', owner.id);
      const { refreshToken } = (await storedQontoTokens(store, sealer, 'int-1'))!;
      await expireQontoAccessToken(store, sealer, 'int-1');
      await auth.getAccessToken('int-1');

      const res = await fetch(`${sims.qonto.url}/oauth2/token`, {
        method: 'POST',
        body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: refreshToken, client_id: SANDBOX_QONTO_OAUTH_CLIENT.clientId, client_secret: SANDBOX_QONTO_OAUTH_CLIENT.clientSecret }),
      });
      expect(res.status).toBe(400);
      expect(await res.json()).toMatchObject({ error: 'invalid_grant' });
    });

    it('withdrawing consent after a key rotation still revokes the refresh token at Qonto (its re-sealing is refused)', async () => {
      const store = await processStore();
      const [oldKey, newKey] = [randomBytes(32), randomBytes(32)];
      await signInToQontoWithSimulator(qontoOAuth(store, createSealer([oldKey])), 'int-1', owner.id);
      const { refreshToken } = (await storedQontoTokens(store, createSealer([oldKey]), 'int-1'))!;
      await revoke(store, 'int-1');

      expect(await qontoOAuth(store, createSealer([newKey, oldKey])).revoke('int-1')).toBe(true);
      const res = await fetch(`${sims.qonto.url}/oauth2/token`, {
        method: 'POST',
        body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: refreshToken, client_id: SANDBOX_QONTO_OAUTH_CLIENT.clientId, client_secret: SANDBOX_QONTO_OAUTH_CLIENT.clientSecret }),
      });
      expect(await res.json()).toMatchObject({ error: 'invalid_grant' });
    });

    it('revoked in another process while a refresh is in flight: the call fails for good and no tokens are left behind', async () => {
      const [api, worker] = (await processStores(2)) as [Store, Store];
      const auth = qontoOAuth(worker);
      await signInToQontoWithSimulator(auth, 'int-1', owner.id);
      await expireQontoAccessToken(worker, sealer, 'int-1');
      beforePutTokens = async (integrationId) => {
        await revoke(api, integrationId);
        await api.deleteTokenCaches(integrationId);
      };

      const error = await auth.getAccessToken('int-1').catch((e: unknown) => e);

      expect(error).toBeInstanceOf(TokensRefusedError);
      expect(await api.getTokenCache('int-1', 'qonto')).toBeNull();
    });
  });
});
