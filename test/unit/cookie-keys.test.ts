import { randomBytes } from 'node:crypto';
import { Hono } from 'hono';
import { describe, expect, it } from 'vitest';
import { AdminAuth } from '../../src/api/admin-auth.js';
import { Sessions } from '../../src/api/session.js';
import { createSealer } from '../../src/auth/crypto.js';
import { openSqliteStore } from '../../src/store/sqlite.js';

const store = openSqliteStore(':memory:');
const keyA = randomBytes(32);
const keyB = randomBytes(32);

/** An app that issues the cookie at /start and answers /check with whether it verifies. */
function adminApp(keys: Buffer[]) {
  const auth = new AdminAuth('admin-token-of-this-test', keys, false, store);
  return new Hono()
    .post('/start', async (c) => {
      await auth.startSession(c);
      return c.body(null, 204);
    })
    .get('/check', async (c) => c.json({ ok: await auth.hasSession(c) }));
}

function sessionApp(keys: Buffer[]) {
  const sessions = new Sessions(keys, createSealer([keyA]), store, false);
  const who = { membershipId: 'm-1', organizationId: 'o-1', name: 'Alice', role: 'owner' };
  return new Hono()
    .post('/start', async (c) => {
      await sessions.start(c, who, { accessToken: 'at', refreshToken: 'rt', expiresAt: Date.now() + 3600_000, scopes: [] });
      return c.body(null, 204);
    })
    .get('/check', async (c) => c.json({ ok: (await sessions.read(c)) !== null }));
}

async function issuedCookie(app: Hono): Promise<string> {
  const res = await app.request('/start', { method: 'POST' });
  return (res.headers.get('set-cookie') ?? '').split(';')[0]!;
}

async function verifies(app: Hono, cookie: string): Promise<boolean> {
  const res = await app.request('/check', { headers: { cookie } });
  return ((await res.json()) as { ok: boolean }).ok;
}

describe('cookie signing keys follow ENCRYPTION_KEY (first signs, all verify)', () => {
  for (const [name, app] of [
    ['admin cookie', adminApp],
    ['session cookie', sessionApp],
  ] as const) {
    it(`${name}: signed with A, verifies under B,A, not under B alone nor once tampered`, async () => {
      const cookie = await issuedCookie(app([keyA]));
      expect(await verifies(app([keyA]), cookie)).toBe(true);
      expect(await verifies(app([keyB, keyA]), cookie)).toBe(true);
      expect(await verifies(app([keyB]), cookie)).toBe(false);
      // The signed value changed (its first character), the signature kept.
      const at = cookie.indexOf('=') + 1;
      const tampered = `${cookie.slice(0, at)}${cookie[at] === '2' ? '3' : '2'}${cookie.slice(at + 1)}`;
      expect(await verifies(app([keyB, keyA]), tampered)).toBe(false);

      // After the rotation new cookies are signed with B.
      const fresh = await issuedCookie(app([keyB, keyA]));
      expect(await verifies(app([keyB]), fresh)).toBe(true);
    });
  }
});
