import { createHash, randomBytes } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CONSUMER_TENANT_ID, MicrosoftDirectory, type SimUser } from '../../src/simulators/identity/directory.js';
import { startIdentitySimulator, type IdentitySimulator, type IdentitySimulatorOptions } from '../../src/simulators/identity/server.js';

const CLIENT_ID = 'app-client-id';
const CLIENT_SECRET = 'app-client-secret';
const REDIRECT_URI = 'http://localhost:3000/auth/microsoft/callback';
const SCOPE = 'Files.ReadWrite.AppFolder User.Read openid profile offline_access';

function pkce() {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
}

function decodeJwtPayload(jwt: string): Record<string, unknown> {
  const parts = jwt.split('.');
  expect(parts).toHaveLength(3);
  return JSON.parse(Buffer.from(parts[1] ?? '', 'base64url').toString('utf8')) as Record<string, unknown>;
}

interface TokenAnswer {
  status: number;
  headers: Headers;
  body: Record<string, unknown>;
}

describe('identity simulator (wire format)', () => {
  let clock: number;
  let directory: MicrosoftDirectory;
  let sim: IdentitySimulator;
  let alice: SimUser;

  async function start(extra: Partial<IdentitySimulatorOptions> = {}) {
    await sim?.close();
    sim = await startIdentitySimulator({
      directory,
      clients: [{ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, redirectUris: [REDIRECT_URI] }],
      ...extra,
    });
  }

  beforeEach(async () => {
    clock = Date.UTC(2026, 2, 1, 10, 0, 0);
    directory = new MicrosoftDirectory({ now: () => clock });
    alice = directory.addUser({ username: 'alice@outlook.com', name: 'Alice' });
    directory.addUser({ username: 'bob@contoso.com', name: 'Bob', kind: 'work' });
    await start();
  });
  afterEach(async () => {
    await sim.close();
  });

  function authorizeUrl(params: Record<string, string>, tenant = 'consumers'): string {
    const url = new URL(`${sim.url}/${tenant}/oauth2/v2.0/authorize`);
    const defaults = { client_id: CLIENT_ID, redirect_uri: REDIRECT_URI, response_type: 'code', scope: SCOPE, state: 'st-1', code_challenge_method: 'S256' };
    for (const [k, v] of Object.entries({ ...defaults, ...params })) url.searchParams.set(k, v);
    return url.toString();
  }

  /** Signs `username` in and returns the code the redirect carries. */
  async function getCode(username: string, challenge: string): Promise<string> {
    const res = await fetch(authorizeUrl({ code_challenge: challenge, login_hint: username }), { redirect: 'manual' });
    expect(res.status).toBe(302);
    const location = new URL(res.headers.get('location') ?? '');
    expect(`${location.origin}${location.pathname}`).toBe(REDIRECT_URI);
    expect(location.searchParams.get('state')).toBe('st-1');
    return location.searchParams.get('code') ?? '';
  }

  async function token(form: Record<string, string>): Promise<TokenAnswer> {
    const res = await fetch(`${sim.url}/consumers/oauth2/v2.0/token?client-request-id=corr-1`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded;charset=utf-8' },
      body: new URLSearchParams(form).toString(),
    });
    return { status: res.status, headers: res.headers, body: (await res.json()) as Record<string, unknown> };
  }

  const redeem = (code: string, verifier: string, extra: Record<string, string> = {}) =>
    token({
      client_id: CLIENT_ID,
      client_secret: CLIENT_SECRET,
      grant_type: 'authorization_code',
      code,
      code_verifier: verifier,
      redirect_uri: REDIRECT_URI,
      scope: SCOPE,
      client_info: '1',
      ...extra,
    });

  const refresh = (refreshToken: string, extra: Record<string, string> = {}) =>
    token({ client_id: CLIENT_ID, client_secret: CLIENT_SECRET, grant_type: 'refresh_token', refresh_token: refreshToken, scope: SCOPE, client_info: '1', ...extra });

  async function signIn(username = 'alice@outlook.com'): Promise<Record<string, unknown>> {
    const { verifier, challenge } = pkce();
    const answer = await redeem(await getCode(username, challenge), verifier);
    expect(answer.status).toBe(200);
    return answer.body;
  }

  function expectAadError(answer: TokenAnswer, error: string, code: number, suberror?: string) {
    expect(answer.status).toBe(400);
    expect(answer.body).toMatchObject({ error, error_codes: [code], correlation_id: 'corr-1' });
    expect(answer.body.error_description).toMatch(new RegExp(`^AADSTS${code}: `));
    expect(answer.body.timestamp).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ$/);
    expect(typeof answer.body.trace_id).toBe('string');
    expect(answer.body.suberror).toBe(suberror);
  }

  it('authorize without login_hint lists the users and offers Decline; with it, redirects with a code at once', async () => {
    const page = await fetch(authorizeUrl({ code_challenge: pkce().challenge }), { redirect: 'manual' });
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain('alice@outlook.com');
    expect(html).toContain('bob@contoso.com');
    const links = [...html.matchAll(/href="([^"]+)"/g)].map((m) => (m[1] ?? '').replace(/&#38;/g, '&'));
    const decline = new URL(links.find((l) => l.includes('error=access_denied')) ?? '');
    expect(`${decline.origin}${decline.pathname}`).toBe(REDIRECT_URI);
    expect(decline.searchParams.get('state')).toBe('st-1');
    expect(decline.searchParams.get('error_description')).toMatch(/^AADSTS65004/);

    const pick = links.find((l) => l.includes('login_hint=alice'));
    const chosen = await fetch(new URL(pick ?? '', sim.url), { redirect: 'manual' });
    expect(chosen.status).toBe(302);
    expect(new URL(chosen.headers.get('location') ?? '').searchParams.get('code')).toBeTruthy();
  });

  it('authorize refuses unknown redirect URIs on its own page and bad requests by redirect', async () => {
    const wrongRedirect = await fetch(authorizeUrl({ code_challenge: 'x', redirect_uri: 'http://evil.example/cb' }), { redirect: 'manual' });
    expect(wrongRedirect.status).toBe(400);
    expect(await wrongRedirect.text()).toContain('AADSTS50011');

    const noPkce = await fetch(authorizeUrl({ login_hint: 'alice@outlook.com' }), { redirect: 'manual' });
    expect(noPkce.status).toBe(302);
    const location = new URL(noPkce.headers.get('location') ?? '');
    expect(location.searchParams.get('error')).toBe('invalid_request');
    expect(location.searchParams.get('code')).toBeNull();

    const plain = await fetch(authorizeUrl({ login_hint: 'alice@outlook.com', code_challenge: 'abc', code_challenge_method: 'plain' }), { redirect: 'manual' });
    expect(new URL(plain.headers.get('location') ?? '').searchParams.get('error')).toBe('invalid_request');
  });

  it('redeems a code for tokens in the identity platform format (MSA claims, client_info, short scopes)', async () => {
    const body = await signIn();
    expect(body).toMatchObject({ token_type: 'Bearer', scope: SCOPE, expires_in: 3600, ext_expires_in: 3600 });
    expect(directory.resolveAccessToken(body.access_token as string)?.userId).toBe(alice.id);
    expect(typeof body.refresh_token).toBe('string');
    expect(alice.id).toMatch(/^00000000-0000-0000-[0-9a-f]{4}-[0-9a-f]{12}$/);

    const claims = decodeJwtPayload(body.id_token as string);
    const nowSec = Math.floor(clock / 1000);
    expect(claims).toMatchObject({
      aud: CLIENT_ID,
      iss: `https://login.microsoftonline.com/${CONSUMER_TENANT_ID}/v2.0`,
      tid: CONSUMER_TENANT_ID,
      oid: alice.id,
      preferred_username: 'alice@outlook.com',
      name: 'Alice',
      ver: '2.0',
      iat: nowSec,
      nbf: nowSec,
    });
    expect(claims.exp).toBeGreaterThan(nowSec);
    expect(typeof claims.sub).toBe('string');
    expect(JSON.parse(Buffer.from(body.client_info as string, 'base64url').toString('utf8'))).toEqual({ uid: alice.id, utid: CONSUMER_TENANT_ID });
  });

  it('gives work accounts their own tenant id', async () => {
    const body = await signIn('bob@contoso.com');
    const claims = decodeJwtPayload(body.id_token as string);
    expect(claims.tid).not.toBe(CONSUMER_TENANT_ID);
    expect(claims.tid).toBe(directory.workTenantId);
    expect(claims.iss).toBe(`https://login.microsoftonline.com/${directory.workTenantId}/v2.0`);
  });

  it('issues a refresh token only with offline_access and an id token only with openid', async () => {
    const { verifier, challenge } = pkce();
    const code = await getCode('alice@outlook.com', challenge);
    const answer = await redeem(code, verifier, { scope: 'Files.ReadWrite.AppFolder' });
    expect(answer.status).toBe(200);
    expect(answer.body.scope).toBe('Files.ReadWrite.AppFolder');
    expect(answer.body.refresh_token).toBeUndefined();
    expect(answer.body.id_token).toBeUndefined();
  });

  it('checks PKCE (S256) and spends a code on its first redemption attempt', async () => {
    const { verifier, challenge } = pkce();
    const code = await getCode('alice@outlook.com', challenge);
    expectAadError(await redeem(code, pkce().verifier), 'invalid_grant', 501481);
    // Even the right verifier cannot use a spent code.
    expectAadError(await redeem(code, verifier), 'invalid_grant', 54005);
  });

  it('rejects a reused code, an expired code and a different redirect URI', async () => {
    const first = pkce();
    const code = await getCode('alice@outlook.com', first.challenge);
    expect((await redeem(code, first.verifier)).status).toBe(200);
    expectAadError(await redeem(code, first.verifier), 'invalid_grant', 54005);

    const late = pkce();
    const lateCode = await getCode('alice@outlook.com', late.challenge);
    clock += 10 * 60 * 1000 + 1;
    expectAadError(await redeem(lateCode, late.verifier), 'invalid_grant', 70008);

    const moved = pkce();
    const movedCode = await getCode('alice@outlook.com', moved.challenge);
    expectAadError(await redeem(movedCode, moved.verifier, { redirect_uri: 'http://localhost:3000/other' }), 'invalid_grant', 500112);
  });

  it('authenticates the client and validates the request', async () => {
    const { verifier, challenge } = pkce();
    const code = await getCode('alice@outlook.com', challenge);
    expectAadError(await redeem(code, verifier, { client_secret: 'wrong' }), 'invalid_client', 7000215);
    expectAadError(await redeem(code, verifier, { client_secret: '' }), 'invalid_client', 7000218);
    expectAadError(await redeem(code, verifier, { grant_type: 'password' }), 'unsupported_grant_type', 70003);
    expectAadError(await redeem(code, verifier, { scope: '' }), 'invalid_request', 900144);
    // Client failures did not spend the code.
    expect((await redeem(code, verifier)).status).toBe(200);
  });

  it('rotates refresh tokens: each refresh returns a new one and the spent one is refused', async () => {
    const rt1 = (await signIn()).refresh_token as string;
    const second = await refresh(rt1);
    expect(second.status).toBe(200);
    const rt2 = second.body.refresh_token as string;
    expect(rt2).not.toBe(rt1);
    expect(second.body.scope).toBe(SCOPE);
    expect(directory.resolveAccessToken(second.body.access_token as string)?.userId).toBe(alice.id);

    expectAadError(await refresh(rt1), 'invalid_grant', 70000);
    const third = await refresh(rt2);
    expect(third.status).toBe(200);
    expect(third.body.refresh_token).not.toBe(rt2);
  });

  it('accepts a spent refresh token again only within the configured grace period', async () => {
    await start({ refreshTokenReuseGraceSec: 30 });
    const rt1 = (await signIn()).refresh_token as string;
    expect((await refresh(rt1)).status).toBe(200);
    clock += 20_000;
    expect((await refresh(rt1)).status).toBe(200);
    clock += 11_000;
    expectAadError(await refresh(rt1), 'invalid_grant', 70000);
  });

  it('refuses a refresh asking for scopes the user never granted', async () => {
    const rt = (await signIn()).refresh_token as string;
    expectAadError(await refresh(rt, { scope: 'Files.ReadWrite.All openid offline_access' }), 'invalid_grant', 65001, 'consent_required');
  });

  it('revocation: refresh fails with invalid_grant/bad_token (70000) and access tokens stop resolving; the user can sign in again', async () => {
    const body = await signIn();
    directory.revokeUser(alice.id);
    expect(directory.resolveAccessToken(body.access_token as string)).toBeNull();
    const answer = await refresh(body.refresh_token as string);
    expectAadError(answer, 'invalid_grant', 70000, 'bad_token');
    expect(answer.body.error_description).toContain('The user must sign in again');

    const again = await signIn();
    expect(directory.resolveAccessToken(again.access_token as string)?.userId).toBe(alice.id);
  });

  it('expires access tokens by time and on demand', async () => {
    const body = await signIn();
    const at = body.access_token as string;
    expect(directory.resolveAccessToken(at)).not.toBeNull();
    directory.expireAccessTokens(alice.id);
    expect(directory.resolveAccessToken(at)).toBeNull();

    const fresh = (await refresh(body.refresh_token as string)).body.access_token as string;
    expect(directory.resolveAccessToken(fresh)).not.toBeNull();
    clock += 3600 * 1000;
    expect(directory.resolveAccessToken(fresh)).toBeNull();
  });

  it('obeys injected faults: throttling with Retry-After in AAD format, dropped connections', async () => {
    const rt = (await signIn()).refresh_token as string;
    const before = sim.tokenRequests;
    sim.faults.add({ method: 'POST', path: '/oauth2/v2.0/token' }, { kind: 'status', status: 429, retryAfterSec: 1 });
    const throttled = await refresh(rt);
    expect(throttled.status).toBe(429);
    expect(throttled.headers.get('retry-after')).toBe('1');
    expect(throttled.body).toMatchObject({ error: 'temporarily_unavailable', error_codes: [90055] });

    sim.faults.add({ method: 'POST', path: '/token' }, { kind: 'drop' });
    await expect(refresh(rt)).rejects.toThrow();
    // The refresh token was not spent by the faulted requests.
    expect((await refresh(rt)).status).toBe(200);
    expect(sim.tokenRequests - before).toBe(3);
  });

  it('a slow answer spends the refresh token on arrival: presented again while the first answer is held back, it is refused', async () => {
    const rt = (await signIn()).refresh_token as string;
    // Held long enough that the second request is answered well before it, even on a loaded machine.
    sim.faults.add({ method: 'POST', path: '/oauth2/v2.0/token' }, { kind: 'slow-answer', ms: 4_000 });
    const slow = refresh(rt);
    // The first request has arrived (and been logged) while its answer is still held back.
    while (sim.tokenAnswers.length < 2) await new Promise((resolve) => setTimeout(resolve, 5));
    let answered = false;
    void slow.then(() => (answered = true));
    expectAadError(await refresh(rt), 'invalid_grant', 70000);
    expect(answered).toBe(false);
    const first = await slow;
    expect(first.status).toBe(200);
    expect(typeof first.body.refresh_token).toBe('string');
  });

  it('logs every answer of the token endpoint but injected faults, refusals with their code', async () => {
    await start({ accessTokenTtlSec: 120 });
    const body = await signIn();
    expect(body.expires_in).toBe(120);
    const rt = body.refresh_token as string;
    expect((await refresh(rt)).status).toBe(200);
    sim.faults.add({ method: 'POST', path: '/token' }, { kind: 'status', status: 503 });
    expect((await refresh(rt)).status).toBe(503);
    expectAadError(await refresh(rt), 'invalid_grant', 70000);
    expect(sim.tokenAnswers).toEqual([
      { grantType: 'authorization_code', status: 200 },
      { grantType: 'refresh_token', status: 200 },
      { grantType: 'refresh_token', status: 400, error: 'invalid_grant', code: 70000 },
    ]);
  });
});
