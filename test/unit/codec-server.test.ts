import { randomBytes } from 'node:crypto';
import { Hono } from 'hono';
import { describe, expect, it } from 'vitest';
import { AdminAuth } from '../../src/api/admin-auth.js';
import { codecServer } from '../../src/api/codec-server.js';
import { onError } from '../../src/api/errors.js';
import { openSqliteStore } from '../../src/store/sqlite.js';
import { EncryptionCodec } from '../../src/temporal/payload-codec.js';

const ADMIN = 'codec-admin-token';
const UI = 'http://localhost:8233';
const keys = [randomBytes(32)];
const adminAuth = new AdminAuth(ADMIN, keys, false, openSqliteStore(':memory:'));
const app = new Hono()
  .onError(onError)
  .post('/admin-sign-in', async (c) => {
    await adminAuth.startSession(c);
    return c.body(null, 204);
  })
  .route('/codec', codecServer({ codec: new EncryptionCodec([randomBytes(32)]), requireAdmin: adminAuth.require(), allowedOrigins: ['http://localhost:3000', UI], namespace: 'default' }));

const b64 = (s: string) => Buffer.from(s).toString('base64');
const plain = { payloads: [{ metadata: { encoding: b64('json/plain') }, data: b64('{"folderName":"Compte principal (0107)"}') }] };
const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
  app.request(path, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${ADMIN}`, ...headers }, body: JSON.stringify(body) });

describe('codec server (/codec/encode, /codec/decode)', () => {
  it('encodes and decodes in the Temporal UI/CLI protocol', async () => {
    const encoded = (await (await post('/codec/encode', plain, { 'x-namespace': 'default' })).json()) as typeof plain;
    expect(Buffer.from(encoded.payloads[0]!.metadata.encoding, 'base64').toString()).toBe('binary/encrypted');
    expect(Buffer.from(encoded.payloads[0]!.data, 'base64').toString()).not.toContain('Compte');
    const res = await post('/codec/decode', encoded);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual(plain);
  });

  it('answers only the admin: bearer ADMIN_TOKEN or the admin cookie', async () => {
    expect((await post('/codec/decode', plain, { authorization: '' })).status).toBe(401);
    expect((await post('/codec/decode', plain, { authorization: 'Bearer wrong' })).status).toBe(403);
    const cookie = (await app.request('/admin-sign-in', { method: 'POST' })).headers.get('set-cookie')!.split(';')[0]!;
    const withCookie = await app.request('/codec/decode', { method: 'POST', headers: { 'content-type': 'application/json', cookie, origin: UI }, body: JSON.stringify(plain) });
    expect(withCookie.status).toBe(200);
    expect(withCookie.headers.get('access-control-allow-origin')).toBe(UI);
    expect(withCookie.headers.get('access-control-allow-credentials')).toBe('true');
  });

  it("lets the Temporal UI's origin in (CORS preflight), and no other", async () => {
    const preflight = (origin: string) =>
      app.request('/codec/decode', { method: 'OPTIONS', headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type,x-namespace' } });
    const ok = await preflight(UI);
    expect(ok.status).toBe(204);
    expect(ok.headers.get('access-control-allow-origin')).toBe(UI);
    expect(ok.headers.get('access-control-allow-headers')).toMatch(/x-namespace/);
    expect((await preflight('https://evil.example')).headers.get('access-control-allow-origin')).toBeNull();
    const refused = await post('/codec/decode', plain, { origin: 'https://evil.example' });
    expect(refused.status).toBe(403);
    expect(await refused.json()).toMatchObject({ error: { code: 'cross_origin' } });
  });

  it('answers bad input with 4xx JSON, never a 500', async () => {
    for (const [body, headers, status, code] of [
      [{ payloads: [{ data: 'not base64!' }] }, {}, 400, 'invalid_request'],
      [{ nope: 1 }, {}, 400, 'invalid_request'],
      [{ payloads: [{ metadata: { encoding: b64('binary/encrypted'), 'encryption-key-id': b64('00000000') }, data: b64('x'.repeat(40)) }] }, {}, 400, 'undecodable_payload'],
      [plain, { 'x-namespace': 'other' }, 400, 'unknown_namespace'],
    ] as const) {
      const res = await post('/codec/decode', body, headers);
      expect(res.status, JSON.stringify(body)).toBe(status);
      expect(await res.json()).toMatchObject({ error: { code } });
    }
  });
});

describe('codec server open in the sandbox', () => {
  const codec = new EncryptionCodec([randomBytes(32)]);
  const serve = (requireAdmin?: typeof adminAuth) =>
    new Hono().onError(onError).route('/codec', codecServer({ codec, ...(requireAdmin ? { requireAdmin: requireAdmin.require() } : {}), open: true, allowedOrigins: ['http://localhost:3000', UI], namespace: 'default' }));
  // Exactly what the embedded UI sends when "Include cross-origin credentials" is off (the default).
  const fromUi = (sandbox: Hono, path: string, body: unknown, headers: Record<string, string> = {}) =>
    sandbox.request(path, { method: 'POST', headers: { 'content-type': 'application/json', 'x-namespace': 'default', origin: UI, ...headers }, body: JSON.stringify(body) });

  it('decodes for the Temporal UI without credentials', async () => {
    const sandbox = serve();
    const encoded = (await (await fromUi(sandbox, '/codec/encode', plain)).json()) as typeof plain;
    const res = await fromUi(sandbox, '/codec/decode', encoded);
    expect(res.status).toBe(200);
    expect(res.headers.get('access-control-allow-origin')).toBe(UI);
    expect(await res.json()).toEqual(plain);
    // Browsers on other origins still get nothing.
    expect((await fromUi(sandbox, '/codec/decode', encoded, { origin: 'https://evil.example' })).status).toBe(403);
  });

  it('still checks the credentials a caller presents', async () => {
    const withToken = serve(adminAuth);
    expect((await fromUi(withToken, '/codec/decode', plain, { authorization: `Bearer ${ADMIN}` })).status).toBe(200);
    expect((await fromUi(withToken, '/codec/decode', plain, { authorization: 'Bearer wrong' })).status).toBe(403);
    expect((await fromUi(serve(), '/codec/decode', plain, { authorization: `Bearer ${ADMIN}` })).status).toBe(401);
  });
});
