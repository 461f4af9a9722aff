import { afterEach, expect, it } from 'vitest';
import { COMPUTED_HOLD } from '../../src/budget/rate-budget.js';
import { startApiBed, type ApiBed } from '../support/api-bed.js';

/** OAuth mode: the sign-in's Qonto requests go through the fleet's budget, and wait at most 5 s for it:
 * a refusal is answered at once, never slept through and tried again. */
let bed: ApiBed | undefined;
afterEach(() => bed?.close());

/** Signs the demo owner in while the fleet's Qonto budget is held for `holdMs` (another process got a
 * 429); the API requests Qonto received meanwhile, and the callback's answer. */
async function signInUnderHold(holdMs: number): Promise<{ res: Response; sentToQonto: number }> {
  bed = await startApiBed({ qontoMode: 'oauth', demo: { seed: 5, accounts: 1, months: 1, receipts: 1 } });
  const { app, h } = bed;
  await h.services.store.holdRate('qonto', holdMs, 0, COMPUTED_HOLD);
  const apiRequests = () => h.sims.qonto.requests.filter((r) => r.path.startsWith('/v2/')).length;
  const before = apiRequests();
  const login = await app.request('/auth/qonto/login');
  const stateCookie = login.headers.getSetCookie().map((c) => c.split(';')[0]!).find((c) => c.startsWith('qonto_oauth_state='))!;
  const authorize = new URL(login.headers.get('location')!);
  authorize.searchParams.set('login_hint', h.sims.demo!.membershipIds.owner);
  const back = new URL((await fetch(authorize, { redirect: 'manual' })).headers.get('location')!);
  const res = await app.request(`${back.pathname}${back.search}`, { headers: { cookie: stateCookie, accept: 'application/json' } });
  return { res, sentToQonto: apiRequests() - before };
}

async function expectBusy(res: Response, retryAfterAbove: number, retryAfterAtMost: number): Promise<void> {
  expect(res.status).toBe(503);
  expect(((await res.json()) as { error: { code: string } }).error.code).toBe('qonto_busy');
  const retryAfter = Number(res.headers.get('retry-after'));
  expect(retryAfter).toBeGreaterThan(retryAfterAbove);
  expect(retryAfter).toBeLessThanOrEqual(retryAfterAtMost);
}

it('answers 503 qonto_busy with Retry-After when the Qonto budget has no slot for the sign-in within 5 s', async () => {
  const { res, sentToQonto } = await signInUnderHold(60_000);
  await expectBusy(res, 50, 60);
  // Refused before anything was sent to Qonto's API.
  expect(sentToQonto).toBe(0);
});

it('a 20 s hold answers 503 qonto_busy at once, without waiting the hold out and trying again', async () => {
  // Shorter than the client's usual Retry-After ceiling (30 s), longer than the sign-in's 5 s: the hold
  // is still ahead when the answer comes, so it was not slept through.
  const { res, sentToQonto } = await signInUnderHold(20_000);
  await expectBusy(res, 10, 20);
  expect(sentToQonto).toBe(0);
});
