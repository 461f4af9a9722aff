import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import type { ServerType } from '@hono/node-server';
import { Client, Connection } from '@temporalio/client';
import type { Hono } from 'hono';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { createApp, type ApiDeps } from '../../src/api/app.js';
import { apiDeps } from '../../src/api/deps.js';
import { listen } from '../../src/api/listen.js';
import { loadConfig } from '../../src/config.js';
import { ADMIN_TOKEN, startHarness, type Harness } from '../support/harness.js';

/** API-key mode over real HTTP: failed attempts limited per client address, the admin cookie bound to
 * the token and to the sign-outs since it was issued; and the limit on the sign-in callbacks. */
let h: Harness;
let oauth: Harness;
let client: Client;
const servers: ServerType[] = [];

beforeAll(async () => {
  [h, oauth] = await Promise.all([startHarness({ demo: { seed: 3, accounts: 1, months: 1, receipts: 1 } }), startHarness({ qontoMode: 'oauth', demo: { seed: 3, accounts: 1, months: 1, receipts: 1 } })]);
  client = new Client({ connection: await Connection.connect({ address: inject('temporalAddress') }) });
});

afterAll(async () => {
  await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
  await client?.connection.close();
  await Promise.all([h?.close(), oauth?.close()]);
});

const depsOf = (bed: Harness, env: Record<string, string> = {}): ApiDeps => apiDeps(loadConfig({ ...bed.env, ...env }), bed.services, client);

/** A fresh app (fresh counters) listening on 127.0.0.1. */
async function serve(app: Hono): Promise<number> {
  const { server, port } = await listen(app, 0, '127.0.0.1');
  servers.push(server);
  return port;
}

interface Answer {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

/** One request from the client address `from` (any 127.0.0.0/8 address reaches the loopback server). */
function send(port: number, method: string, path: string, opts: { headers?: Record<string, string>; body?: string; from?: string } = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, method, path, headers: opts.headers, localAddress: opts.from ?? '127.0.0.1' }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks).toString() }));
    });
    req.on('error', reject);
    req.end(opts.body);
  });
}

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
const form = (token: string) => ({ headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ token }).toString() });
const cookieOf = (a: Answer) => (a.headers['set-cookie'] ?? []).map((c) => c.split(';')[0]!).find((c) => c.startsWith('admin_session='))!;

function expectLimited(a: Answer): void {
  expect(a.status).toBe(429);
  const seconds = Number(a.headers['retry-after']);
  expect(seconds).toBeGreaterThan(0);
  expect(seconds).toBeLessThanOrEqual(15 * 60);
  expect(JSON.parse(a.body)).toEqual({ error: { code: 'too_many_requests', message: expect.stringContaining(`${seconds} seconds`) } });
}

describe('failed admin token checks', () => {
  it('are limited per address (10 per 15 minutes), bearer checks and the sign-in form alike; right tokens do not count', async () => {
    const port = await serve(createApp(depsOf(h)));
    for (let i = 0; i < 20; i++) expect((await send(port, 'GET', '/api/integrations', { headers: bearer(ADMIN_TOKEN) })).status).toBe(200);
    for (let i = 0; i < 5; i++) expect((await send(port, 'GET', '/api/integrations', { headers: bearer('wrong') })).status).toBe(403);
    for (let i = 0; i < 5; i++) expect((await send(port, 'POST', '/auth/admin/login', form('wrong'))).headers.location).toBe('/?wrong=1');

    expectLimited(await send(port, 'GET', '/api/integrations', { headers: bearer('wrong') }));
    expectLimited(await send(port, 'GET', '/api/integrations', { headers: bearer(ADMIN_TOKEN) }));
    expectLimited(await send(port, 'POST', '/auth/admin/login', form(ADMIN_TOKEN)));
    // Another address is not held back.
    expect((await send(port, 'GET', '/api/integrations', { headers: bearer(ADMIN_TOKEN), from: '127.0.0.2' })).status).toBe(200);
    expect((await send(port, 'POST', '/auth/admin/login', { ...form(ADMIN_TOKEN), from: '127.0.0.2' })).status).toBe(303);
  });

  it('follow AUTH_FAILURE_LIMIT', async () => {
    const port = await serve(createApp(depsOf(h, { AUTH_FAILURE_LIMIT: '3' })));
    for (let i = 0; i < 3; i++) expect((await send(port, 'GET', '/api/integrations', { headers: bearer('wrong') })).status).toBe(403);
    expectLimited(await send(port, 'GET', '/api/integrations', { headers: bearer(ADMIN_TOKEN) }));
  });

  it('behind TRUST_PROXY proxies, count the client the proxies name, not the proxy nor what the client wrote', async () => {
    const port = await serve(createApp(depsOf(h, { TRUST_PROXY: '1' })));
    // Every request comes from the proxy (127.0.0.1); the client wrote a fake first entry itself.
    const via = (client: string) => ({ 'x-forwarded-for': `198.51.100.99, ${client}` });
    for (let i = 0; i < 10; i++) expect((await send(port, 'GET', '/api/integrations', { headers: { ...bearer('wrong'), ...via('203.0.113.1') } })).status).toBe(403);
    expectLimited(await send(port, 'GET', '/api/integrations', { headers: { ...bearer(ADMIN_TOKEN), ...via('203.0.113.1') } }));
    // Another client behind the same proxy is not locked out, whatever it writes itself.
    expect((await send(port, 'GET', '/api/integrations', { headers: { ...bearer(ADMIN_TOKEN), ...via('203.0.113.2') } })).status).toBe(200);
    // Without TRUST_PROXY the header is ignored: all of them are the proxy's address.
    const direct = await serve(createApp(depsOf(h)));
    for (let i = 0; i < 10; i++) await send(direct, 'GET', '/api/integrations', { headers: { ...bearer('wrong'), ...via('203.0.113.1') } });
    expectLimited(await send(direct, 'GET', '/api/integrations', { headers: { ...bearer(ADMIN_TOKEN), ...via('203.0.113.2') } }));
  });
});

describe('the admin session cookie', () => {
  it('ends when ADMIN_TOKEN changes', async () => {
    const port = await serve(createApp(depsOf(h)));
    const cookie = cookieOf(await send(port, 'POST', '/auth/admin/login', form(ADMIN_TOKEN)));
    expect((await send(port, 'GET', '/api/integrations', { headers: { cookie } })).status).toBe(200);

    const other = await serve(createApp(depsOf(h, { ADMIN_TOKEN: 'another-admin-token-of-32-characters' })));
    expect((await send(other, 'GET', '/api/integrations', { headers: { cookie } })).status).toBe(401);
  });

  it('ends, with every other one issued before, when one browser signs out', async () => {
    const port = await serve(createApp(depsOf(h)));
    const first = cookieOf(await send(port, 'POST', '/auth/admin/login', form(ADMIN_TOKEN)));
    const second = cookieOf(await send(port, 'POST', '/auth/admin/login', form(ADMIN_TOKEN)));
    expect((await send(port, 'GET', '/api/integrations', { headers: { cookie: second } })).status).toBe(200);

    expect((await send(port, 'POST', '/auth/logout', { headers: { cookie: first } })).status).toBe(303);
    for (const cookie of [first, second]) expect((await send(port, 'GET', '/api/integrations', { headers: { cookie } })).status).toBe(401);
    const fresh = cookieOf(await send(port, 'POST', '/auth/admin/login', form(ADMIN_TOKEN)));
    expect((await send(port, 'GET', '/api/integrations', { headers: { cookie: fresh } })).status).toBe(200);
  });
});

describe('the sign-in callbacks', () => {
  it('are limited per address (30 per 10 minutes), so nobody makes us call a token endpoint in a loop', async () => {
    const port = await serve(createApp(depsOf(h)));
    for (let i = 0; i < 30; i++) expect((await send(port, 'GET', '/auth/microsoft/callback?code=c&state=unknown')).status).toBe(400);
    expectLimited(await send(port, 'GET', '/auth/microsoft/callback?code=c&state=unknown'));
    expect((await send(port, 'GET', '/auth/microsoft/callback?code=c&state=unknown', { from: '127.0.0.2' })).status).toBe(400);
  });

  it('share one count for Qonto and Microsoft (OAuth mode)', async () => {
    const app = createApp({ ...depsOf(oauth), limits: { signInCallbacks: { limit: 3, windowMs: 60_000 } } });
    const port = await serve(app);
    expect((await send(port, 'GET', '/auth/qonto/callback?code=c&state=s')).status).toBe(400);
    expect((await send(port, 'GET', '/auth/microsoft/callback?code=c&state=s')).status).toBe(400);
    expect((await send(port, 'GET', '/auth/qonto/callback?code=c&state=s')).status).toBe(400);
    expectLimited(await send(port, 'GET', '/auth/microsoft/callback?code=c&state=s'));
    expectLimited(await send(port, 'GET', '/auth/qonto/callback?code=c&state=s'));
  });
});
