import type { Hono } from 'hono';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { COMPUTED_HOLD } from '../../src/budget/rate-budget.js';
import { startApiBed, type ApiBed } from '../support/api-bed.js';

/** OAuth mode: the sign-in's Qonto requests go through the fleet's budget, and wait at most 5 s for it. */
let bed: ApiBed;
let app: Hono;
beforeAll(async () => {
  bed = await startApiBed({ qontoMode: 'oauth', demo: { seed: 5, accounts: 1, months: 1, receipts: 1 } });
  app = bed.app;
});
afterAll(() => bed?.close());

it('answers 503 qonto_busy with Retry-After when the Qonto budget has no slot for the sign-in within 5 s', async () => {
  // Another process got a 429 from Qonto: the whole fleet holds back for a minute.
  await bed.h.services.store.holdRate('qonto', 60_000, 0, COMPUTED_HOLD);
  const sent = bed.h.sims.qonto.requests.filter((r) => r.path.startsWith('/v2/')).length;
  const login = await app.request('/auth/qonto/login');
  const stateCookie = login.headers.getSetCookie().map((c) => c.split(';')[0]!).find((c) => c.startsWith('qonto_oauth_state='))!;
  const authorize = new URL(login.headers.get('location')!);
  authorize.searchParams.set('login_hint', bed.h.sims.demo!.membershipIds.owner);
  const back = new URL((await fetch(authorize, { redirect: 'manual' })).headers.get('location')!);
  const res = await app.request(`${back.pathname}${back.search}`, { headers: { cookie: stateCookie, accept: 'application/json' } });
  expect(res.status).toBe(503);
  expect(((await res.json()) as { error: { code: string } }).error.code).toBe('qonto_busy');
  const retryAfter = Number(res.headers.get('retry-after'));
  expect(retryAfter).toBeGreaterThan(50);
  expect(retryAfter).toBeLessThanOrEqual(60);
  // Refused before anything was sent to Qonto's API.
  expect(bed.h.sims.qonto.requests.filter((r) => r.path.startsWith('/v2/')).length).toBe(sent);
});
