import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createSealer, type Sealer } from '../../src/auth/crypto.js';
import { CONSUMER_TENANT_ID, MicrosoftAuth, WorkOrSchoolAccountError } from '../../src/auth/microsoft.js';
import { rewriteLoginUrl } from '../../src/auth/msal-network.js';
import { microsoftCacheAad } from '../../src/auth/token-cache.js';
import { FatalError, ReconnectRequiredError, RetryableError } from '../../src/errors.js';
import { MicrosoftDirectory, type SimUser } from '../../src/simulators/identity/directory.js';
import { startIdentitySimulator, type IdentitySimulator } from '../../src/simulators/identity/server.js';
import { openSqliteStore } from '../../src/store/sqlite.js';
import type { Store } from '../../src/store/types.js';
import { editMicrosoftCache, expireMicrosoftAccessTokens } from '../support/token-stores.js';

const CLIENT_ID = '5d2c0e2a-1111-4222-8333-944455556666';
const CLIENT_SECRET = 'sim-secret';
const REDIRECT_URI = 'http://localhost:3000/auth/microsoft/callback';

describe('rewriteLoginUrl', () => {
  it('sends the real login host to the configured base URL and leaves everything else alone', () => {
    const real = 'https://login.microsoftonline.com/consumers/oauth2/v2.0/token?client-request-id=1';
    expect(rewriteLoginUrl(real, 'http://127.0.0.1:4000')).toBe('http://127.0.0.1:4000/consumers/oauth2/v2.0/token?client-request-id=1');
    expect(rewriteLoginUrl(real, 'http://127.0.0.1:4000/idp/')).toBe('http://127.0.0.1:4000/idp/consumers/oauth2/v2.0/token?client-request-id=1');
    expect(rewriteLoginUrl(real, 'https://login.microsoftonline.com')).toBe(real);
    expect(rewriteLoginUrl('https://login.microsoftonline.com.evil.example/x', 'http://127.0.0.1:4000')).toBe('https://login.microsoftonline.com.evil.example/x');
    expect(rewriteLoginUrl('https://graph.microsoft.com/v1.0/me', 'http://127.0.0.1:4000')).toBe('https://graph.microsoft.com/v1.0/me');
  });
});

describe('MicrosoftAuth (msal-node against the identity simulator)', () => {
  let directory: MicrosoftDirectory;
  let sim: IdentitySimulator;
  let dbFile: string;
  let store: Store;
  let sealer: Sealer;
  let alice: SimUser;

  const newAuth = (over: Partial<ConstructorParameters<typeof MicrosoftAuth>[0]> = {}) =>
    new MicrosoftAuth({ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, loginUrl: sim.url, redirectUri: REDIRECT_URI, store, sealer, ...over });

  beforeEach(async () => {
    directory = new MicrosoftDirectory();
    alice = directory.addUser({ username: 'alice@outlook.com', name: 'Alice' });
    directory.addUser({ username: 'bob@contoso.com', kind: 'work' });
    sim = await startIdentitySimulator({ directory, clients: [{ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, redirectUris: [REDIRECT_URI] }] });
    dbFile = join(mkdtempSync(join(tmpdir(), 'msauth-')), 'store.sqlite');
    store = openSqliteStore(dbFile);
    for (const id of ['int-1', 'int-2']) await store.createIntegration({ id });
    sealer = createSealer(randomBytes(32));
  });
  afterEach(async () => {
    await store.close();
    await sim.close();
  });

  /** What the browser does: open the authorize URL as `username`, come back with the code. */
  async function browserSignIn(authorizationUrl: string, username: string): Promise<{ code: string; state: string | null }> {
    const url = new URL(authorizationUrl);
    url.searchParams.set('login_hint', username);
    const res = await fetch(url, { redirect: 'manual' });
    expect(res.status).toBe(302);
    const back = new URL(res.headers.get('location') ?? '');
    expect(`${back.origin}${back.pathname}`).toBe(REDIRECT_URI);
    return { code: back.searchParams.get('code') ?? '', state: back.searchParams.get('state') };
  }

  async function connect(auth: MicrosoftAuth, integrationId: string, username = 'alice@outlook.com') {
    const { authorizationUrl, codeVerifier } = await auth.beginSignIn(`state-${integrationId}`);
    const { code, state } = await browserSignIn(authorizationUrl, username);
    expect(state).toBe(`state-${integrationId}`);
    return auth.completeSignIn(integrationId, { code, codeVerifier });
  }

  /** The refresh token inside the stored (sealed) cache. */
  async function storedRefreshToken(integrationId: string): Promise<string> {
    const sealed = await store.getTokenCache(integrationId, 'microsoft');
    expect(sealed).not.toBeNull();
    const cache = JSON.parse(sealer.open(sealed ?? Buffer.alloc(0), microsoftCacheAad(integrationId)).toString('utf8')) as {
      RefreshToken: Record<string, { secret: string }>;
    };
    const secrets = Object.values(cache.RefreshToken).map((rt) => rt.secret);
    expect(secrets).toHaveLength(1);
    return secrets[0] ?? '';
  }

  async function refreshByHand(refreshToken: string): Promise<{ status: number; body: Record<string, unknown> }> {
    const res = await fetch(`${sim.url}/consumers/oauth2/v2.0/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ client_id: CLIENT_ID, client_secret: CLIENT_SECRET, grant_type: 'refresh_token', refresh_token: refreshToken, scope: 'User.Read offline_access' }),
    });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  }

  it('signs in, serves tokens from the sealed cache, rotates on refresh, survives a restart, and turns revocation into ReconnectRequired', async () => {
    const auth = newAuth();
    const { authorizationUrl, codeVerifier } = await auth.beginSignIn('st-42');
    const url = new URL(authorizationUrl);
    expect(`${url.origin}${url.pathname}`).toBe(`${sim.url}/consumers/oauth2/v2.0/authorize`);
    expect(url.searchParams.get('code_challenge_method')).toBe('S256');
    expect(url.searchParams.get('client_id')).toBe(CLIENT_ID);
    expect(url.searchParams.get('scope')).toBe('Files.ReadWrite.AppFolder User.Read openid profile offline_access');

    const { code } = await browserSignIn(authorizationUrl, 'alice@outlook.com');
    const account = await auth.completeSignIn('int-1', { code, codeVerifier });
    expect(account).toEqual({ homeAccountId: `${alice.id}.${CONSUMER_TENANT_ID}`, tenantId: CONSUMER_TENANT_ID, username: 'alice@outlook.com' });

    // At rest: sealed, bound to the integration, no refresh token in clear.
    const rt1 = await storedRefreshToken('int-1');
    const sealed = (await store.getTokenCache('int-1', 'microsoft')) ?? Buffer.alloc(0);
    expect(sealed.includes(Buffer.from(rt1))).toBe(false);
    expect(sealed.includes(Buffer.from('RefreshToken'))).toBe(false);
    expect(() => sealer.open(sealed, microsoftCacheAad('int-2'))).toThrow();

    const token = await auth.getAccessToken('int-1');
    expect(directory.resolveAccessToken(token)?.userId).toBe(alice.id);
    const requests = sim.tokenRequests;
    expect(await auth.getAccessToken('int-1')).toBe(token);
    expect(sim.tokenRequests).toBe(requests);

    // Graph refused `token` (401): a refresh, since the stored token is still that one.
    const refreshed = await auth.getAccessToken('int-1', { rejected: token });
    expect(sim.tokenRequests).toBe(requests + 1);
    expect(refreshed).not.toBe(token);
    expect(directory.resolveAccessToken(refreshed)?.userId).toBe(alice.id);
    const rt2 = await storedRefreshToken('int-1');
    expect(rt2).not.toBe(rt1);
    expect((await refreshByHand(rt1)).body.error).toBe('invalid_grant');

    // A fresh process on the same store carries on, with the newest refresh token.
    await store.close();
    store = openSqliteStore(dbFile);
    const restarted = newAuth();
    expect(await restarted.getAccessToken('int-1')).toBe(refreshed);
    const afterRestart = await restarted.getAccessToken('int-1', { rejected: refreshed });
    expect(directory.resolveAccessToken(afterRestart)?.userId).toBe(alice.id);
    expect(await storedRefreshToken('int-1')).not.toBe(rt2);

    directory.revokeUser(alice.id);
    const error = await restarted.getAccessToken('int-1', { rejected: afterRestart }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ReconnectRequiredError);
    expect((error as ReconnectRequiredError).code).toBe('invalid_grant');
    // The account left the cache: the next call fails at once, without asking the server.
    const before = sim.tokenRequests;
    await expect(restarted.getAccessToken('int-1')).rejects.toBeInstanceOf(ReconnectRequiredError);
    expect(sim.tokenRequests).toBe(before);

    // Reconnecting replaces the cache and works again.
    await connect(restarted, 'int-1');
    expect(directory.resolveAccessToken(await restarted.getAccessToken('int-1'))?.userId).toBe(alice.id);
  });

  it('refuses a work or school account and stores nothing for it', async () => {
    const auth = newAuth();
    const error = await connect(auth, 'int-2', 'bob@contoso.com').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WorkOrSchoolAccountError);
    expect(error).toBeInstanceOf(FatalError);
    expect((error as FatalError).code).toBe('work_or_school_account');
    expect((error as Error).message).toMatch(/personal Microsoft accounts/);
    expect(await store.getTokenCache('int-2', 'microsoft')).toBeNull();
    await expect(auth.getAccessToken('int-2')).rejects.toBeInstanceOf(ReconnectRequiredError);
  });

  it('forget deletes the stored cache', async () => {
    const auth = newAuth();
    await connect(auth, 'int-1');
    await auth.forget('int-1');
    expect(await store.getTokenCache('int-1', 'microsoft')).toBeNull();
    await expect(auth.getAccessToken('int-1')).rejects.toBeInstanceOf(ReconnectRequiredError);
  });

  it('refreshes once for concurrent callers refused the same token, and again only for a token refused later', async () => {
    const auth = newAuth();
    await connect(auth, 'int-1');
    const token = await auth.getAccessToken('int-1');
    const before = sim.tokenRequests;
    const tokens = await Promise.all([1, 2, 3].map(() => auth.getAccessToken('int-1', { rejected: token })));
    expect(sim.tokenRequests).toBe(before + 1);
    expect(new Set(tokens).size).toBe(1);
    expect(tokens[0]).not.toBe(token);
    expect(directory.resolveAccessToken(tokens[0]!)?.userId).toBe(alice.id);

    // A caller refused the old token late gets the new one; the new one refused is refreshed.
    expect(await auth.getAccessToken('int-1', { rejected: token })).toBe(tokens[0]);
    const next = await auth.getAccessToken('int-1', { rejected: tokens[0] });
    expect(next).not.toBe(tokens[0]);
    expect(sim.tokenRequests).toBe(before + 2);
  });

  it('hands out a cached access token without taking the token lock; only a refresh takes it, once', async () => {
    let locks = 0;
    let refreshesUnderLock = 0;
    const counting: Store = {
      ...store,
      withTokenLock: (integrationId, provider, run) => {
        locks += 1;
        return store.withTokenLock(integrationId, provider, async () => {
          const before = sim.tokenRequests;
          try {
            return await run();
          } finally {
            refreshesUnderLock += sim.tokenRequests - before;
          }
        });
      },
    };
    const auth = newAuth({ store: counting });
    await connect(auth, 'int-1');
    locks = 0;
    const requests = sim.tokenRequests;
    const cached = await Promise.all([1, 2, 3, 4, 5].map(() => auth.getAccessToken('int-1')));
    expect(new Set(cached).size).toBe(1);
    expect(directory.resolveAccessToken(cached[0]!)?.userId).toBe(alice.id);
    expect(sim.tokenRequests).toBe(requests);
    expect(locks).toBe(0);

    // Expired (as another process would find it): the callers queue on the lock, one refreshes.
    await expireMicrosoftAccessTokens(store, sealer, 'int-1');
    const refreshed = await Promise.all([1, 2, 3].map(() => auth.getAccessToken('int-1')));
    expect(new Set(refreshed).size).toBe(1);
    expect(refreshed[0]).not.toBe(cached[0]);
    expect(sim.tokenRequests).toBe(requests + 1);
    expect(refreshesUnderLock).toBe(1);
    expect(locks).toBeGreaterThanOrEqual(1);
    locks = 0;
    expect(await auth.getAccessToken('int-1')).toBe(refreshed[0]);
    expect(locks).toBe(0);

    // Past its refresh_on, not expired: MSAL refreshes ahead of time, and does so under the lock.
    const past = String(Math.floor(Date.now() / 1000) - 60);
    await editMicrosoftCache(store, sealer, 'int-1', (c) => {
      for (const at of Object.values(c.AccessToken)) at.refresh_on = past;
    });
    await auth.getAccessToken('int-1');
    expect(locks).toBe(1);
    expect(sim.tokenRequests).toBe(requests + 2);
    expect(refreshesUnderLock).toBe(2);
  });

  it('maps throttling, outages and lost connections to RetryableError without leaking tokens, and recovers', async () => {
    const auth = newAuth();
    await connect(auth, 'int-1');
    const rt = await storedRefreshToken('int-1');
    const at = await auth.getAccessToken('int-1');

    sim.faults.add({ method: 'POST', path: '/oauth2/v2.0/token' }, { kind: 'status', status: 429, retryAfterSec: 1 });
    const throttled = await auth.getAccessToken('int-1', { rejected: at }).catch((e: unknown) => e);
    expect(throttled).toBeInstanceOf(RetryableError);
    expect(throttled).toMatchObject({ status: 429, retryAfterMs: 1000 });

    sim.faults.add({ method: 'POST', path: '/token' }, { kind: 'status', status: 503 });
    const down = await auth.getAccessToken('int-1', { rejected: at }).catch((e: unknown) => e);
    expect(down).toBeInstanceOf(RetryableError);
    expect(down).toMatchObject({ status: 503, retryAfterMs: undefined });

    sim.faults.add({ method: 'POST', path: '/token' }, { kind: 'drop' });
    const dropped = await auth.getAccessToken('int-1', { rejected: at }).catch((e: unknown) => e);
    expect(dropped).toBeInstanceOf(RetryableError);

    for (const e of [throttled, down, dropped]) {
      const text = `${(e as Error).message} ${JSON.stringify(e)}`;
      expect(text).not.toContain(rt);
      expect(text).not.toContain(at);
    }
    // No local throttle memory survives the call: the next attempt reaches the server and succeeds.
    const recovered = await auth.getAccessToken('int-1', { rejected: at });
    expect(directory.resolveAccessToken(recovered)?.userId).toBe(alice.id);
  });

  it('reports a spent code and wrong application credentials as fatal, and stores nothing', async () => {
    const auth = newAuth();
    const { authorizationUrl, codeVerifier } = await auth.beginSignIn('s');
    const { code } = await browserSignIn(authorizationUrl, 'alice@outlook.com');
    await auth.completeSignIn('int-1', { code, codeVerifier });
    const reused = await auth.completeSignIn('int-2', { code, codeVerifier }).catch((e: unknown) => e);
    expect(reused).toBeInstanceOf(FatalError);
    expect(reused).toMatchObject({ code: 'invalid_grant' });
    expect(await store.getTokenCache('int-2', 'microsoft')).toBeNull();

    const badSecret = newAuth({ clientSecret: 'wrong' });
    const next = await badSecret.beginSignIn('s2');
    const second = await browserSignIn(next.authorizationUrl, 'alice@outlook.com');
    const refused = await badSecret.completeSignIn('int-2', { code: second.code, codeVerifier: next.codeVerifier }).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(FatalError);
    expect(refused).toMatchObject({ code: 'invalid_client' });
    expect(await store.getTokenCache('int-2', 'microsoft')).toBeNull();
  });

  it('after a key rotation (B,A) opens a cache sealed with A, seals it again with B, and B alone then opens it', async () => {
    const keyA = randomBytes(32);
    const keyB = randomBytes(32);
    await connect(newAuth({ sealer: createSealer([keyA]) }), 'int-1');
    const sealedByA = (await store.getTokenCache('int-1', 'microsoft'))!;

    const token = await newAuth({ sealer: createSealer([keyB, keyA]) }).getAccessToken('int-1');
    expect(directory.resolveAccessToken(token)?.userId).toBe(alice.id);
    const resealed = (await store.getTokenCache('int-1', 'microsoft'))!;
    expect(resealed.equals(sealedByA)).toBe(false);
    expect(createSealer([keyB]).isCurrent(resealed)).toBe(true);

    expect(await newAuth({ sealer: createSealer([keyB]) }).getAccessToken('int-1')).toBe(token);
  });

  it('turns an undecryptable stored cache into ReconnectRequired', async () => {
    await connect(newAuth(), 'int-1');
    const otherKey = newAuth({ sealer: createSealer(randomBytes(32)) });
    const error = await otherKey.getAccessToken('int-1').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ReconnectRequiredError);
    expect((error as ReconnectRequiredError).code).toBe('token_cache_unreadable');
  });
});
