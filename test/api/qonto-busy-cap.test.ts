import type { Hono } from 'hono';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { COMPUTED_HOLD } from '../../src/budget/rate-budget.js';
import { startApiBed, type ApiBed } from '../support/api-bed.js';

/** The sign-in's 5 s wait for the Qonto budget is a cap: a refusal is never slept through and retried. */
let bed: ApiBed;
let app: Hono;
beforeAll(async () => {
  bed = await startApiBed({ qontoMode: 'oauth', demo: { seed: 5, accounts: 1, months: 1, receipts: 1 } });
  app = bed.app;
});
afterAll(() => bed?.close());

it('a 20 s hold answers 503 qonto_busy at once, without waiting the hold out and trying again', async () => {
  // Shorter than the client's usual Retry-After ceiling (30 s), longer than the sign-in's 5 s.
  await bed.h.services.store.holdRate('qonto', 20_000, 0, COMPUTED_HOLD);
  const sent = bed.h.sims.qonto.requests.filter((r) => r.path.startsWith('/v2/')).length;
  const login = await app.request('/auth/qonto/login');
  const stateCookie = login.headers.getSetCookie().map((c) => c.split(';')[0]!).find((c) => c.startsWith('qonto_oauth_state='))!;
  const authorize = new URL(login.headers.get('location')!);
  authorize.searchParams.set('login_hint', bed.h.sims.demo!.membershipIds.owner);
  const back = new URL((await fetch(authorize, { redirect: 'manual' })).headers.get('location')!);
  const res = await app.request(`${back.pathname}${back.search}`, { headers: { cookie: stateCookie, accept: 'application/json' } });
  expect(res.status).toBe(503);
  expect(((await res.json()) as { error: { code: string } }).error.code).toBe('qonto_busy');
  // The hold is still ahead when the answer comes: it was not slept through.
  const retryAfter = Number(res.headers.get('retry-after'));
  expect(retryAfter).toBeGreaterThan(10);
  expect(retryAfter).toBeLessThanOrEqual(20);
  expect(bed.h.sims.qonto.requests.filter((r) => r.path.startsWith('/v2/')).length).toBe(sent);
});
