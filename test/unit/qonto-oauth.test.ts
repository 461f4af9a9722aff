import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createSealer, type Sealer } from '../../src/auth/crypto.js';
import { QontoOAuth, qontoTokensAad, type QontoOAuthOptions, type QontoTokens } from '../../src/auth/qonto-oauth.js';
import { FatalError, ReconnectRequiredError, RetryableError, type SyncError } from '../../src/errors.js';
import { QontoClient } from '../../src/qonto/client.js';
import type { SimMembership } from '../../src/simulators/qonto/data.js';
import { startQontoSimulator, type QontoSimulator } from '../../src/simulators/qonto/server.js';
import { openSqliteStore } from '../../src/store/sqlite.js';
import type { Store } from '../../src/store/types.js';

const CLIENT_ID = 'sim-qonto-client';
const CLIENT_SECRET = 'sim-qonto-secret';
const REDIRECT_URI = 'http://localhost:3000/auth/qonto/callback';
const OTHER_REDIRECT_URI = 'http://localhost:3000/other/callback';
const T0 = Date.parse('2025-03-15T12:00:00.000Z');
const MINUTE = 60_000;

describe('Qonto OAuth (QontoOAuth against the simulator)', () => {
  let clock: number;
  const now = (): number => clock;
  let sim: QontoSimulator;
  let store: Store;
  let dbFile: string;
  let sealer: Sealer;
  let owner: SimMembership;
  let employee: SimMembership;

  const newAuth = (over: Partial<QontoOAuthOptions> = {}): QontoOAuth =>
    new QontoOAuth({ oauthUrl: sim.url, clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, redirectUri: REDIRECT_URI, store, sealer, now, ...over });

  beforeEach(async () => {
    clock = T0;
    sim = await startQontoSimulator({
      now,
      oauthClients: [{ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, redirectUris: [REDIRECT_URI, OTHER_REDIRECT_URI] }],
    });
    owner = sim.data.addMembership({ firstName: 'Alice', lastName: 'Martin', role: 'owner' });
    employee = sim.data.addMembership({ firstName: 'Bob', lastName: 'Durand', role: 'employee' });
    dbFile = join(mkdtempSync(join(tmpdir(), 'qonto-oauth-')), 'store.sqlite');
    store = openSqliteStore(dbFile);
    for (const id of ['int-1', 'int-2']) await store.createIntegration({ id });
    sealer = createSealer(randomBytes(32));
  });
  afterEach(async () => {
    await store.close();
    await sim.close();
  });

  /** What the browser does: open the authorize URL (optionally as `hint`) and come back. */
  async function authorize(url: string, hint?: string): Promise<URL> {
    const target = new URL(url);
    if (hint !== undefined) target.searchParams.set('login_hint', hint);
    const res = await fetch(target, { redirect: 'manual' });
    expect(res.status).toBe(302);
    return new URL(res.headers.get('location')!);
  }

  async function codeFor(auth: QontoOAuth, hint: string, state = 'state-1'): Promise<string> {
    const back = await authorize(auth.authorizationUrl(state), hint);
    expect(back.searchParams.get('state')).toBe(state);
    return back.searchParams.get('code')!;
  }

  async function connect(auth: QontoOAuth, integrationId: string, hint: string): Promise<QontoTokens> {
    const tokens = await auth.exchangeCode(await codeFor(auth, hint));
    await auth.save(integrationId, tokens);
    return tokens;
  }

  const api = (auth: QontoOAuth, integrationId: string): QontoClient =>
    new QontoClient({ baseUrl: sim.url, auth: { kind: 'oauth', getAccessToken: () => auth.getAccessToken(integrationId) }, retry: { attempts: 1 } });

  const stored = async (integrationId: string): Promise<QontoTokens> =>
    JSON.parse(sealer.open((await store.getTokenCache(integrationId, 'qonto'))!, qontoTokensAad(integrationId)).toString('utf8')) as QontoTokens;

  const tokenRequests = (): number => sim.requests.filter((r) => r.method === 'POST' && r.path.endsWith('/oauth2/token')).length;

  async function postForm(path: string, form: Record<string, string>): Promise<{ status: number; body: Record<string, unknown> }> {
    const res = await fetch(`${sim.url}${path}`, { method: 'POST', body: new URLSearchParams(form) });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  }

  async function rejection(promise: Promise<unknown>): Promise<SyncError> {
    try {
      await promise;
    } catch (error) {
      return error as SyncError;
    }
    throw new Error('expected a rejection');
  }

  it('runs the code flow with login_hint; the access token acts as the member with the granted scopes', async () => {
    const auth = newAuth();
    const url = new URL(auth.authorizationUrl('xyz'));
    expect(`${url.origin}${url.pathname}`).toBe(`${sim.url}/oauth2/auth`);
    expect(Object.fromEntries(url.searchParams)).toEqual({
      client_id: CLIENT_ID,
      redirect_uri: REDIRECT_URI,
      scope: 'offline_access organization.read attachment.read membership.read webhook',
      response_type: 'code',
      state: 'xyz',
    });

    const back = await authorize(auth.authorizationUrl('xyz'), owner.email);
    expect(`${back.origin}${back.pathname}`).toBe(REDIRECT_URI);
    expect(back.searchParams.get('state')).toBe('xyz');
    const tokens = await auth.exchangeCode(back.searchParams.get('code')!);
    expect(tokens.expiresAt).toBe(T0 + 3600_000);
    expect(tokens.scopes).toEqual(['offline_access', 'organization.read', 'attachment.read', 'membership.read', 'webhook']);
    expect(await store.getTokenCache('int-1', 'qonto')).toBeNull();

    await auth.save('int-1', tokens);
    expect(await auth.getAccessToken('int-1')).toBe(tokens.accessToken);
    const membership = await api(auth, 'int-1').getMembership();
    expect([membership.id, membership.role]).toEqual([owner.id, 'owner']);
    expect(sim.requests.at(-1)!.headers.authorization).toBe(`Bearer ${tokens.accessToken}`);

    // The membership id works as a hint too, and the token carries that member's role.
    await connect(auth, 'int-2', employee.id);
    expect((await api(auth, 'int-2').getMembership()).role).toBe('employee');

    // Scopes are enforced with what was granted: without organization.read the organization is refused.
    const narrow = newAuth({ scopes: ['offline_access', 'membership.read'] });
    await connect(narrow, 'int-1', owner.id);
    expect((await api(narrow, 'int-1').getMembership()).role).toBe('owner');
    expect(await rejection(api(narrow, 'int-1').getOrganization())).toMatchObject({ status: 403 });
  });

  it('without login_hint shows the memberships with their roles and a Refuse link', async () => {
    const auth = newAuth();
    const res = await fetch(auth.authorizationUrl('s-9'));
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/text\/html/);
    const html = await res.text();
    expect(html).toContain('Alice Martin');
    expect(html).toContain('(owner)');
    expect(html).toContain('Bob Durand');
    expect(html).toContain('(employee)');
    const links = [...html.matchAll(/href="([^"]+)"/g)].map((m) => m[1]!.replace(/&#38;/g, '&'));
    expect(links).toHaveLength(3);

    const bobLink = links.find((l) => l.includes(employee.id))!;
    const back = await authorize(new URL(bobLink, sim.url).toString());
    expect(back.searchParams.get('state')).toBe('s-9');
    const tokens = await auth.exchangeCode(back.searchParams.get('code')!);
    await auth.save('int-1', tokens);
    expect((await api(auth, 'int-1').getMembership()).id).toBe(employee.id);

    const refuse = new URL(links.at(-1)!);
    expect(`${refuse.origin}${refuse.pathname}`).toBe(REDIRECT_URI);
    expect(refuse.searchParams.get('error')).toBe('access_denied');
    expect(refuse.searchParams.get('state')).toBe('s-9');
    expect(refuse.searchParams.has('code')).toBe(false);
  });

  it('refreshes proactively when less than 5 minutes remain, storing the rotated refresh token', async () => {
    const auth = newAuth();
    const first = await connect(auth, 'int-1', owner.id);
    const before = tokenRequests();

    clock = T0 + 54 * MINUTE; // 6 minutes left: still served from the store
    expect(await auth.getAccessToken('int-1')).toBe(first.accessToken);
    expect(tokenRequests()).toBe(before);

    clock = T0 + 56 * MINUTE; // 4 minutes left: refreshed before any 401
    const second = await auth.getAccessToken('int-1');
    expect(second).not.toBe(first.accessToken);
    expect(tokenRequests()).toBe(before + 1);
    const saved = await stored('int-1');
    expect(saved.accessToken).toBe(second);
    expect(saved.refreshToken).not.toBe(first.refreshToken);
    expect(saved.expiresAt).toBe(clock + 3600_000);
    expect((await api(auth, 'int-1').getMembership()).id).toBe(owner.id);
    expect(sim.requests.at(-1)!.headers.authorization).toBe(`Bearer ${second}`);
    expect(sim.requests.filter((r) => r.path === '/v2/membership')).toHaveLength(1);

    // The next refresh spends the rotated token, not the first one.
    clock += 58 * MINUTE;
    const third = await auth.getAccessToken('int-1');
    expect(third).not.toBe(second);
    expect((await stored('int-1')).refreshToken).not.toBe(saved.refreshToken);
  });

  it('logs the token endpoint\'s answers, refusals with their error', async () => {
    const auth = newAuth();
    const { refreshToken } = await connect(auth, 'int-1', owner.id);
    const refresh = () => postForm('/oauth2/token', { grant_type: 'refresh_token', refresh_token: refreshToken, client_id: CLIENT_ID, client_secret: CLIENT_SECRET });
    expect((await refresh()).status).toBe(200);
    clock += 61_000;
    expect((await refresh()).status).toBe(400);
    expect(sim.tokenAnswers).toEqual([
      { grantType: 'authorization_code', status: 200 },
      { grantType: 'refresh_token', status: 200 },
      { grantType: 'refresh_token', status: 400, error: 'invalid_grant' },
    ]);
  });

  it('issues access tokens of a shorter life when told to', async () => {
    const short = await startQontoSimulator({ now, oauthAccessTokenTtlSec: 90 });
    try {
      const member = short.data.addMembership({ firstName: 'Carla', lastName: 'Petit', role: 'admin' });
      const auth = newAuth({ oauthUrl: short.url });
      const tokens = await auth.exchangeCode((await authorize(auth.authorizationUrl('s'), member.id)).searchParams.get('code')!);
      expect(tokens.expiresAt).toBe(T0 + 90_000);
    } finally {
      await short.close();
    }
  });

  it('rotates refresh tokens: the old one works for 60 s after its first use, then is refused', async () => {
    const auth = newAuth();
    const { refreshToken } = await connect(auth, 'int-1', owner.id);
    const refresh = (token: string) => postForm('/oauth2/token', { grant_type: 'refresh_token', refresh_token: token, client_id: CLIENT_ID, client_secret: CLIENT_SECRET });

    clock = T0 + 10 * MINUTE;
    const rotated = await refresh(refreshToken);
    expect(rotated.status).toBe(200);
    expect(rotated.body).toMatchObject({ expires_in: 3600, token_type: 'bearer', scope: 'offline_access organization.read attachment.read membership.read webhook' });
    expect(rotated.body['refresh_token']).not.toBe(refreshToken);

    clock += 60_000; // within the grace period
    expect((await refresh(refreshToken)).status).toBe(200);
    clock += 1; // past it
    const late = await refresh(refreshToken);
    expect(late).toMatchObject({ status: 400, body: { error: 'invalid_grant' } });
    expect(typeof late.body['error_description']).toBe('string');
    // The rotated token is unaffected.
    expect((await refresh(rotated.body['refresh_token'] as string)).status).toBe(200);

    // Through QontoOAuth, a spent refresh token means the consent must be given again.
    await auth.save('int-2', { ...(await stored('int-1')), refreshToken, expiresAt: clock });
    const error = await rejection(auth.getAccessToken('int-2'));
    expect(error).toBeInstanceOf(ReconnectRequiredError);
    expect(error.code).toBe('invalid_grant');
    expect(error.message).not.toContain(refreshToken);
  });

  it('with a reuse grace of 0 (strict), refuses a rotated refresh token presented again at the same instant', async () => {
    await sim.close();
    sim = await startQontoSimulator({ now, refreshTokenReuseGraceSec: 0, oauthClients: [{ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET }] });
    owner = sim.data.addMembership({ firstName: 'Alice', lastName: 'Martin', role: 'owner' });
    const { refreshToken } = await connect(newAuth(), 'int-1', owner.id);
    const refresh = (token: string) => postForm('/oauth2/token', { grant_type: 'refresh_token', refresh_token: token, client_id: CLIENT_ID, client_secret: CLIENT_SECRET });

    const rotated = await refresh(refreshToken);
    expect(rotated.status).toBe(200);
    expect(await refresh(refreshToken)).toMatchObject({ status: 400, body: { error: 'invalid_grant' } });
    expect((await refresh(rotated.body['refresh_token'] as string)).status).toBe(200);
  });

  it('serializes concurrent getAccessToken calls of one integration into a single refresh', async () => {
    const auth = newAuth();
    await connect(auth, 'int-1', owner.id);
    await connect(auth, 'int-2', employee.id);
    clock = T0 + 58 * MINUTE;
    const before = tokenRequests();
    const tokens = await Promise.all([...Array(5)].map(() => auth.getAccessToken('int-1')));
    expect(new Set(tokens).size).toBe(1);
    expect(tokenRequests()).toBe(before + 1);
    expect(tokens[0]).toBe((await stored('int-1')).accessToken);
    // Another integration has its own queue and its own refresh.
    expect(await auth.getAccessToken('int-2')).toBe((await stored('int-2')).accessToken);
    expect(tokenRequests()).toBe(before + 2);
  });

  it('hands out a fresh access token without taking the token lock; only a refresh takes it, once', async () => {
    let locks = 0;
    let refreshesUnderLock = 0;
    const counting: Store = {
      ...store,
      withTokenLock: (integrationId, provider, run) => {
        locks += 1;
        return store.withTokenLock(integrationId, provider, async () => {
          const before = tokenRequests();
          try {
            return await run();
          } finally {
            refreshesUnderLock += tokenRequests() - before;
          }
        });
      },
    };
    const auth = newAuth({ store: counting });
    const first = await connect(auth, 'int-1', owner.id);
    locks = 0;

    clock = T0 + 54 * MINUTE; // 6 minutes left
    const fresh = await Promise.all([...Array(5)].map(() => auth.getAccessToken('int-1')));
    expect(fresh).toEqual(Array(5).fill(first.accessToken));
    expect(locks).toBe(0);

    clock = T0 + 56 * MINUTE; // 4 minutes left: the five callers queue on the lock, one refreshes
    const before = tokenRequests();
    const refreshed = await Promise.all([...Array(5)].map(() => auth.getAccessToken('int-1')));
    expect(new Set(refreshed)).toEqual(new Set([(await stored('int-1')).accessToken]));
    expect(refreshed[0]).not.toBe(first.accessToken);
    expect(tokenRequests()).toBe(before + 1);
    expect(refreshesUnderLock).toBe(1);
    expect(locks).toBeGreaterThanOrEqual(1);
    // And the new token is again handed out without the lock.
    locks = 0;
    expect(await auth.getAccessToken('int-1')).toBe(refreshed[0]);
    expect(locks).toBe(0);
  });

  it('refuses a reused, expired or misdirected code with invalid_grant', async () => {
    const auth = newAuth();
    const code = await codeFor(auth, owner.id);
    await auth.exchangeCode(code);
    const reused = await rejection(auth.exchangeCode(code));
    expect(reused).toBeInstanceOf(FatalError);
    expect(reused).toMatchObject({ status: 400, code: 'invalid_grant' });

    const stale = await codeFor(auth, owner.id);
    clock += 10 * MINUTE;
    expect(await rejection(auth.exchangeCode(stale))).toMatchObject({ status: 400, code: 'invalid_grant' });

    const fresh = await codeFor(auth, owner.id);
    const raw = await postForm('/oauth2/token', { grant_type: 'authorization_code', code: fresh, redirect_uri: OTHER_REDIRECT_URI, client_id: CLIENT_ID, client_secret: CLIENT_SECRET });
    expect(raw).toMatchObject({ status: 400, body: { error: 'invalid_grant' } });

    const another = await codeFor(auth, owner.id);
    expect(await rejection(newAuth({ redirectUri: OTHER_REDIRECT_URI }).exchangeCode(another))).toMatchObject({ code: 'invalid_grant' });
  });

  it('answers OAuth2 errors for bad clients and requests', async () => {
    const wrongSecret = await rejection(newAuth({ clientSecret: 'nope' }).exchangeCode(await codeFor(newAuth(), owner.id)));
    expect(wrongSecret).toBeInstanceOf(FatalError);
    expect(wrongSecret.code).toBe('invalid_client');
    expect(wrongSecret.message).toContain('QONTO_CLIENT_SECRET');

    const creds = { client_id: CLIENT_ID, client_secret: CLIENT_SECRET };
    expect(await postForm('/oauth2/token', { grant_type: 'password', ...creds })).toMatchObject({ status: 400, body: { error: 'unsupported_grant_type' } });
    expect(await postForm('/oauth2/token', { ...creds })).toMatchObject({ status: 400, body: { error: 'invalid_request' } });
    expect(await postForm('/oauth2/token', { grant_type: 'authorization_code', ...creds })).toMatchObject({ status: 400, body: { error: 'invalid_request' } });
    expect(await postForm('/oauth2/token', { grant_type: 'refresh_token', refresh_token: 'ory_rt_unknown', ...creds })).toMatchObject({ status: 400, body: { error: 'invalid_grant' } });

    // An unregistered redirect URI is shown on the page, never redirected to.
    const url = new URL(newAuth().authorizationUrl('s'));
    url.searchParams.set('redirect_uri', 'https://evil.example/cb');
    const res = await fetch(url, { redirect: 'manual' });
    expect(res.status).toBe(400);
    expect(res.headers.get('location')).toBeNull();
  });

  it('accepts the /v2/oauth2/token path of the reference samples', async () => {
    const auth = newAuth({ tokenPath: '/v2/oauth2/token' });
    await connect(auth, 'int-1', owner.id);
    expect(sim.requests.some((r) => r.method === 'POST' && r.path === '/v2/oauth2/token')).toBe(true);
    expect((await api(auth, 'int-1').getMembership()).id).toBe(owner.id);
  });

  it('maps throttling, server errors and dropped connections to RetryableError', async () => {
    const auth = newAuth();
    const tokens = await connect(auth, 'int-1', owner.id);
    clock = T0 + 59 * MINUTE;

    sim.faults.add({ method: 'POST', path: '/oauth2/token' }, { kind: 'status', status: 429, retryAfterSec: 1 });
    const throttled = await rejection(auth.getAccessToken('int-1'));
    expect(throttled).toBeInstanceOf(RetryableError);
    expect(throttled).toMatchObject({ status: 429, retryAfterMs: 1000, code: 'temporarily_unavailable' });

    sim.faults.add({ method: 'POST', path: '/oauth2/token' }, { kind: 'status', status: 503 });
    expect(await rejection(auth.getAccessToken('int-1'))).toMatchObject({ kind: 'Retryable', status: 503 });

    sim.faults.add({ method: 'POST', path: '/oauth2/token' }, { kind: 'drop' });
    const dropped = await rejection(auth.getAccessToken('int-1'));
    expect(dropped).toBeInstanceOf(RetryableError);
    expect(dropped.code).toBe('network_error');
    expect(sim.faults.pending()).toBe(0);

    for (const error of [throttled, dropped]) {
      expect(error.message).not.toContain(tokens.refreshToken);
      expect(error.message).not.toContain(tokens.accessToken);
    }
    // The refresh token was never spent, so the next attempt succeeds.
    expect(await auth.getAccessToken('int-1')).not.toBe(tokens.accessToken);
  });

  it('revoke withdraws consent: the API answers 401 and the next refresh needs a reconnect', async () => {
    const auth = newAuth();
    const tokens = await connect(auth, 'int-1', owner.id);
    expect((await api(auth, 'int-1').getMembership()).id).toBe(owner.id);

    expect(await auth.revoke('int-1')).toBe(true);
    const res = await fetch(`${sim.url}/v2/membership`, { headers: { authorization: `Bearer ${tokens.accessToken}` } });
    expect(res.status).toBe(401);
    expect(await rejection(api(auth, 'int-1').getMembership())).toBeInstanceOf(ReconnectRequiredError);
    // Revoke deletes nothing itself.
    expect(await store.getTokenCache('int-1', 'qonto')).not.toBeNull();

    clock = T0 + 56 * MINUTE;
    const error = await rejection(auth.getAccessToken('int-1'));
    expect(error).toBeInstanceOf(ReconnectRequiredError);
    expect(error.code).toBe('invalid_grant');

    await store.deleteTokenCaches('int-1');
    expect(await rejection(auth.getAccessToken('int-1'))).toMatchObject({ kind: 'ReconnectRequired', code: 'no_tokens' });
    // Nothing stored: nothing to revoke, and no request is made.
    const before = sim.requests.length;
    expect(await auth.revoke('int-1')).toBe(false);
    expect(sim.requests.length).toBe(before);
  });

  it('keeps tokens sealed at rest and bound to their integration', async () => {
    const auth = newAuth();
    await connect(auth, 'int-1', owner.id);
    clock = T0 + 57 * MINUTE;
    await auth.getAccessToken('int-1');
    const saved = await stored('int-1');
    const issued = [saved.accessToken, saved.refreshToken];

    const blob = (await store.getTokenCache('int-1', 'qonto'))!;
    for (const token of issued) {
      expect(blob.includes(Buffer.from(token))).toBe(false);
      expect(blob.toString('latin1')).not.toContain(token.slice(7));
    }
    await store.close();
    for (const file of [dbFile, `${dbFile}-wal`].filter(existsSync)) {
      const bytes = readFileSync(file);
      for (const token of issued) expect(bytes.includes(Buffer.from(token))).toBe(false);
    }
    store = openSqliteStore(dbFile);

    // A blob copied to another integration does not open there.
    await store.putTokenCache('int-2', 'qonto', blob);
    const moved = await rejection(newAuth({ store }).getAccessToken('int-2'));
    expect(moved).toBeInstanceOf(ReconnectRequiredError);
    expect(moved.code).toBe('token_cache_unreadable');
  });

  it('after a key rotation (B,A) opens tokens sealed with A, seals them again with B, and B alone then opens them', async () => {
    const keyA = randomBytes(32);
    const keyB = randomBytes(32);
    const tokens = await connect(newAuth({ sealer: createSealer([keyA]) }), 'int-1', owner.email);
    const sealedByA = (await store.getTokenCache('int-1', 'qonto'))!;

    expect(await newAuth({ sealer: createSealer([keyB, keyA]) }).getAccessToken('int-1')).toBe(tokens.accessToken);
    const resealed = (await store.getTokenCache('int-1', 'qonto'))!;
    expect(resealed.equals(sealedByA)).toBe(false);
    expect(createSealer([keyB]).isCurrent(resealed)).toBe(true);

    expect(await newAuth({ sealer: createSealer([keyB]) }).getAccessToken('int-1')).toBe(tokens.accessToken);
  });
});
