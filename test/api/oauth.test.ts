import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Hono } from 'hono';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DemoSummary } from '../../src/simulators/qonto/demo.js';
import { startApiBed, type ApiBed } from '../support/api-bed.js';
import { driveMismatches, expectedReceipts } from '../support/expectations.js';
import type { Harness } from '../support/harness.js';
import { TestSmtp, type ReceivedMail } from '../support/smtp.js';

/** OAuth mode: "Sign in with Qonto", role check, session cookies, the whole flow with the real workflow. */
let bed: ApiBed;
let h: Harness;
let app: Hono;
let demo: DemoSummary;
let origin: string;

let smtp: TestSmtp;

beforeAll(async () => {
  // Alerts go to the member who connected: a real SMTP server on loopback receives them.
  smtp = await TestSmtp.start();
  bed = await startApiBed({
    qontoMode: 'oauth',
    demo: { seed: 4, accounts: 1, months: 1, receipts: 6 },
    extraEnv: { SMTP_URL: smtp.url, ALERT_FROM: 'alerts@receipts.example.com' },
  });
  ({ h, app } = bed);
  demo = h.sims.demo!;
  origin = new URL(bed.config.PUBLIC_URL).origin;
});

afterAll(async () => {
  await bed?.close();
  await smtp?.close();
});

const cookieOf = (res: Response, name: string) =>
  res.headers
    .getSetCookie()
    .map((c) => c.split(';')[0]!)
    .find((c) => c.startsWith(`${name}=`));

/** Signs in with Qonto as the given member, as a browser would; returns the answer of our callback. */
async function qontoSignIn(membershipId: string): Promise<Response> {
  const login = await app.request('/auth/qonto/login');
  expect(login.status).toBe(302);
  const stateCookie = cookieOf(login, 'qonto_oauth_state')!;
  const authorize = new URL(login.headers.get('location')!);
  authorize.searchParams.set('login_hint', membershipId);
  const back = new URL((await fetch(authorize, { redirect: 'manual' })).headers.get('location')!);
  return app.request(`${back.pathname}${back.search}`, { headers: { cookie: stateCookie } });
}

async function session(membershipId: string): Promise<string> {
  const res = await qontoSignIn(membershipId);
  expect(res.status).toBe(302);
  return cookieOf(res, 'session')!;
}

const call = async (cookie: string, method: string, path: string, body?: unknown): Promise<Response> =>
  app.request(path, {
    method,
    headers: { cookie, origin, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });

describe('OAuth mode', () => {
  it('lets an owner connect, finish and revoke; the worker reads Qonto with that member’s tokens', async () => {
    let cookie = await session(demo.membershipIds.owner);
    const created = await call(cookie, 'POST', '/api/integrations');
    expect(created.status).toBe(201);
    cookie = cookieOf(created, 'session')!; // the browser keeps the session without the handed-over tokens
    const { id, authorizationUrl } = (await created.json()) as { id: string; authorizationUrl: string };
    expect(await h.services.store.getTokenCache(id, 'qonto')).not.toBeNull();

    const user = h.newUser(`oauth-${id.slice(0, 8)}`);
    const authorize = new URL(authorizationUrl);
    authorize.searchParams.set('login_hint', user.username);
    const back = new URL((await fetch(authorize, { redirect: 'manual' })).headers.get('location')!);
    expect((await app.request(`${back.pathname}${back.search}`, { headers: { cookie } })).headers.get('location')).toContain('connected=');

    expect((await call(cookie, 'POST', `/api/integrations/${id}/finish`, { syncFrom: '2020-01-01' })).status).toBe(202);
    const deadline = Date.now() + 60_000;
    let status: { status: string; counts: { exported: number } };
    do {
      status = (await (await call(cookie, 'GET', `/api/integrations/${id}`)).json()) as typeof status;
      if (status.status === 'idle' && status.counts.exported > 0) break;
      await new Promise((r) => setTimeout(r, 100));
    } while (Date.now() < deadline);
    expect(status.status).toBe('idle');
    expect(status.counts.exported).toBeGreaterThan(0);
    expect((await call(cookie, 'PATCH', `/api/integrations/${id}`, { timeZone: 'Europe/Berlin' })).status).toBe(202);
    expect((await call(cookie, 'POST', `/api/integrations/${id}/sync`)).status).toBe(202);

    // The Qonto token the worker uses is nowhere readable in the database.
    const qontoToken = await h.services.qontoOAuth!.getAccessToken(id);
    for (const file of ['receipts.sqlite', 'receipts.sqlite-wal']) {
      const bytes = existsSync(join(h.dataDir, file)) ? readFileSync(join(h.dataDir, file)) : Buffer.alloc(0);
      expect(bytes.includes(Buffer.from(qontoToken))).toBe(false);
    }

    // The sign-in's Qonto tokens went to that integration: another one needs its own sign-in.
    const second = await call(cookie, 'POST', '/api/integrations');
    expect(second.status).toBe(409);
    expect(((await second.json()) as { error: { code: string } }).error.code).toBe('qonto_sign_in_needed');

    const admin = await session(demo.membershipIds.admin);
    expect(((await (await call(admin, 'GET', '/api/integrations')).json()) as { integrations: { id: string }[] }).integrations.map((i) => i.id)).toContain(id);

    expect((await call(cookie, 'POST', `/api/integrations/${id}/revoke`)).status).toBe(200);
    expect(await h.services.store.getTokenCache(id, 'qonto')).toBeNull();
    // The member who connected hears of it, at their Qonto address (learnt from the membership).
    const withdrawn = await smtp.arrival('of the withdrawal', (mails) => mails.find((m) => m.subject === 'Receipts sync stopped: consent withdrawn'));
    expect(withdrawn.to).toEqual([h.sims.qonto.data.membership(demo.membershipIds.owner)!.email]);
    expect(await h.services.store.getTokenCache(id, 'microsoft')).toBeNull();
  });

  it('drops the sign-in\'s waiting Qonto tokens on sign-out, so a copy of the cookie cannot connect with them', async () => {
    const cookie = await session(demo.membershipIds.admin);
    expect((await call(cookie, 'POST', '/auth/logout')).status).toBe(303);
    const replayed = await call(cookie, 'POST', '/api/integrations');
    expect(replayed.status).toBe(409);
    expect(((await replayed.json()) as { error: { code: string } }).error.code).toBe('qonto_sign_in_needed');
  });

  it('gives one Qonto sign-in to one integration, whether the cookie is sent twice at once or replayed', async () => {
    const cookie = await session(demo.membershipIds.admin);
    const both = await Promise.all([call(cookie, 'POST', '/api/integrations'), call(cookie, 'POST', '/api/integrations')]);
    expect(both.map((r) => r.status).sort()).toEqual([201, 409]);
    const refused = both.find((r) => r.status === 409)!;
    expect(((await refused.json()) as { error: { code: string } }).error.code).toBe('qonto_sign_in_needed');
    const { id } = (await both.find((r) => r.status === 201)!.json()) as { id: string };
    expect(await h.services.store.getTokenCache(id, 'qonto')).not.toBeNull();

    // The browser's cookie from before the hand-over, replayed later.
    const replay = await call(cookie, 'POST', '/api/integrations');
    expect(replay.status).toBe(409);
    expect(((await replay.json()) as { error: { code: string } }).error.code).toBe('qonto_sign_in_needed');
  });

  it('names Qonto when its access ended, and signing in again restores exactly that sign-in without re-importing', async () => {
    type Status = { status: string; nextRunAt: string | null; counts: { exported: number }; signInEnded: string | null; timeZone: string };
    let cookie = await session(demo.membershipIds.owner);
    const created = await call(cookie, 'POST', '/api/integrations');
    cookie = cookieOf(created, 'session')!;
    const { id, authorizationUrl } = (await created.json()) as { id: string; authorizationUrl: string };
    const user = h.newUser(`healed-${id.slice(0, 8)}`);
    const microsoftSignIn = async (url: string, withCookie: string) => {
      const authorize = new URL(url);
      authorize.searchParams.set('login_hint', user.username);
      const back = new URL((await fetch(authorize, { redirect: 'manual' })).headers.get('location')!);
      return app.request(`${back.pathname}${back.search}`, { headers: { cookie: withCookie } });
    };
    await microsoftSignIn(authorizationUrl, cookie);
    expect((await call(cookie, 'POST', `/api/integrations/${id}/finish`, { syncFrom: '2020-01-01' })).status).toBe(202);
    const status = async () => (await (await call(cookie, 'GET', `/api/integrations/${id}`)).json()) as Status;
    const until = async (done: (s: Status) => boolean, what: string) => {
      const deadline = Date.now() + 60_000;
      for (;;) {
        const s = await status();
        if (done(s)) return s;
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(s)}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    };
    const backfilled = await until((s) => s.status === 'idle' && s.nextRunAt !== null && s.counts.exported > 0, 'the backfill');
    const microsoftTokens = await h.services.store.getTokenCache(id, 'microsoft');
    // Alerts learnt the e-mail of the member who connected from Qonto (GET /v2/membership).
    const owner = h.sims.qonto.data.membership(demo.membershipIds.owner)!.email;
    expect((await h.services.store.alerts.profile(id))?.contactEmail).toBe(owner);
    const mailOf = (subject: string) => (mails: ReceivedMail[]) => mails.find((m) => m.subject === subject && m.text.includes(`integration=${id}`));

    // The member withdraws the app's access at Qonto.
    expect(await h.services.qontoOAuth!.revoke(id)).toBe(true);
    expect((await call(cookie, 'POST', `/api/integrations/${id}/sync`)).status).toBe(202);
    expect((await until((s) => s.status === 'reconnect_required', 'reconnect_required')).signInEnded).toBe('qonto');
    const signInAgain = await smtp.arrival('to sign in again', mailOf('Sign in to Qonto again to keep your receipts in sync'));
    expect(signInAgain.to).toEqual([owner]);
    // The mail says Qonto's sign-in ended, and not Microsoft's; signing in again runs through Qonto,
    // then the same Microsoft account (by which the integration is found again, as below).
    const [what, , , , action] = signInAgain.text.split('\n');
    expect(what).toContain('Qonto no longer accepts the sign-in of your receipts sync');
    expect(`${signInAgain.subject}\n${what}`).not.toContain('Microsoft');
    expect(action).toBe('Syncing resumes where it stopped once you sign in again from the dashboard, with Qonto and then the same Microsoft account:');
    const panel = await (await app.request(`/integrations/${id}/panel`, { headers: { cookie, 'accept-language': 'en' } })).text();
    expect(panel).toContain('Qonto access has ended');
    expect(panel).not.toContain('Microsoft access has ended');

    // Sign in again: Qonto first (the tokens of the last sign-in went to the integration), then Connect.
    cookie = await session(demo.membershipIds.owner);
    const again = await call(cookie, 'POST', '/api/integrations');
    expect(again.status).toBe(201);
    cookie = cookieOf(again, 'session')!;
    const pending = (await again.json()) as { id: string; authorizationUrl: string };
    const callback = await microsoftSignIn(pending.authorizationUrl, cookie);
    expect(callback.headers.get('location')).toContain(`integration=${id}`);
    expect(callback.headers.get('location')).toContain('resumed=true');
    expect(await h.services.store.getIntegration(pending.id)).toBeNull();
    // Exactly the Qonto sign-in was restored: the Microsoft one the integration had is untouched.
    expect(await h.services.store.getTokenCache(id, 'microsoft')).toEqual(microsoftTokens);

    const healed = await until((s) => s.status === 'idle' && s.nextRunAt !== null, 'the run after signing in again');
    expect(healed.signInEnded).toBeNull();
    expect((await smtp.arrival('back to normal', mailOf('Receipts sync back to normal'))).to).toEqual([owner]);
    expect(smtp.received.filter((m) => m.text.includes(`integration=${id}`)).map((m) => m.subject)).toEqual([
      'Sign in to Qonto again to keep your receipts in sync',
      'Receipts sync back to normal',
    ]);
    expect(healed.counts.exported).toBe(backfilled.counts.exported);
    const expected = expectedReceipts(h.sims.qonto.data, '2020-01-01', healed.timeZone);
    expect(await driveMismatches(h.sims.graph.drive(user.id), h.services.store, id, expected)).toEqual([]);
  });

  it('describes every route, Qonto sign-in included, in the OpenAPI document', async () => {
    const doc = (await (await app.request('/api/openapi.json')).json()) as { paths: Record<string, Record<string, unknown>> };
    const routes = app.routes.filter((r) => r.method !== 'ALL').map((r) => ({ method: r.method.toLowerCase(), path: r.path.replace(/:(\w+)/g, '{$1}') }));
    expect(routes.some((r) => r.path === '/auth/qonto/callback')).toBe(true);
    for (const r of routes) expect(doc.paths[r.path]?.[r.method], `${r.method} ${r.path}`).toBeDefined();
  });

  it('refuses to finish a Microsoft sign-in in a browser not signed in to the organization', async () => {
    const cookie = await session(demo.membershipIds.owner);
    const { authorizationUrl } = (await (await call(cookie, 'POST', '/api/integrations')).json()) as { authorizationUrl: string };
    const authorize = new URL(authorizationUrl);
    authorize.searchParams.set('login_hint', h.sims.users.personal.username);
    const back = new URL((await fetch(authorize, { redirect: 'manual' })).headers.get('location')!);
    const res = await app.request(`${back.pathname}${back.search}`);
    expect(res.status).toBe(403);
  });

  it('refuses an employee with the reason', async () => {
    const res = await qontoSignIn(demo.membershipIds.employee);
    expect(res.status).toBe(403);
    const body = (await res.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe('forbidden_role');
    expect(body.error.message).toMatch(/owners, admins and accountants/);
    expect(cookieOf(res, 'session')).toBeUndefined();
  });

  it('answers a bad Qonto code with a redirect that says why, not an error page', async () => {
    const res = await app.request('/auth/qonto/callback?code=garbage&state=s1', { headers: { cookie: 'qonto_oauth_state=s1' } });
    expect(res.status).toBe(302);
    expect(new URL(res.headers.get('location')!, 'http://x').searchParams.get('error')).toBe('invalid_grant');
  });

  it('requires a session, a matching state and a same-site origin', async () => {
    expect((await app.request('/api/integrations', { method: 'POST', headers: { origin } })).status).toBe(401);
    const forged = await app.request('/auth/qonto/callback?code=x&state=forged', { headers: { cookie: 'qonto_oauth_state=other' } });
    expect(forged.status).toBe(400);
    expect(((await forged.json()) as { error: { code: string } }).error.code).toBe('invalid_state');
    const tampered = await app.request('/api/integrations', { headers: { cookie: 'session=eyJyb2xlIjoib3duZXIifQ.forged' } });
    expect(tampered.status).toBe(401);
    const cookie = await session(demo.membershipIds.accountant);
    const crossSite = await app.request('/api/integrations', {
      method: 'POST',
      headers: { cookie, origin: 'https://evil.example', 'content-type': 'application/x-www-form-urlencoded' },
      body: 'a=b',
    });
    expect(crossSite.status).toBe(403);
    expect(((await crossSite.json()) as { error: { code: string } }).error.code).toBe('cross_origin');
  });
});
