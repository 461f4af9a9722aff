import { randomUUID } from 'node:crypto';
import { Hono } from 'hono';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';
import { z } from 'zod';
import type { QontoOAuth } from '../auth/qonto-oauth.js';
import { isBudgetRefusal, type RateBudget } from '../budget/rate-budget.js';
import { SyncError } from '../errors.js';
import { QontoClient } from '../qonto/client.js';
import { ApiError } from './errors.js';
import { ALLOWED_ROLES, type Sessions } from './session.js';
import { validate } from './validate.js';

const STATE_COOKIE = 'qonto_oauth_state';

/** How long the sign-in waits for a slot in the fleet's Qonto budget: a person is waiting on the page. */
export const SIGN_IN_BUDGET_WAIT_MS = 5_000;

const callbackQuery = z.object({
  state: z.string().min(1).max(200),
  code: z.string().min(1).max(4096).optional(),
  error: z.string().max(200).optional(),
  error_description: z.string().max(2000).optional(),
});

/** "Sign in with Qonto" (OAuth mode): `/auth/qonto/login` and `/auth/qonto/callback`. */
export function qontoLogin(deps: { qontoOAuth: QontoOAuth; sessions: Sessions; qontoApiUrl: string; stagingToken?: string; budget?: RateBudget; secure: boolean }) {
  const app = new Hono();

  app.get('/login', (c) => {
    const state = randomUUID();
    setCookie(c, STATE_COOKIE, state, { httpOnly: true, sameSite: 'Lax', secure: deps.secure, path: '/auth/qonto', maxAge: 600 });
    return c.redirect(deps.qontoOAuth.authorizationUrl(state), 302);
  });

  app.get('/callback', validate('query', callbackQuery), async (c) => {
    const q = c.req.valid('query');
    const expected = getCookie(c, STATE_COOKIE);
    deleteCookie(c, STATE_COOKIE, { path: '/auth/qonto' });
    if (!expected || expected !== q.state) throw new ApiError(400, 'invalid_state', 'This Qonto sign-in is unknown, already used or expired: sign in again');
    if (q.error || !q.code) return c.redirect(`/?${new URLSearchParams({ error: q.error ?? 'no_code', message: q.error_description ?? 'Qonto did not grant access' })}`, 302);

    let tokens, member, organization;
    try {
      tokens = await deps.qontoOAuth.exchangeCode(q.code);
      const token = tokens.accessToken;
      const qonto = new QontoClient({
        baseUrl: deps.qontoApiUrl,
        auth: { kind: 'oauth', getAccessToken: async () => token },
        stagingToken: deps.stagingToken,
        ...(deps.budget ? { budget: deps.budget, maxBudgetWaitMs: SIGN_IN_BUDGET_WAIT_MS } : {}),
        // No Retry-After is waited out here: a refusal of the budget (or Qonto's 429) would otherwise
        // be slept through and tried again, and the page would hang far past SIGN_IN_BUDGET_WAIT_MS.
        retry: { maxRetryAfterMs: 0 },
      });
      member = await qonto.getMembership();
      organization = await qonto.getOrganization();
    } catch (error) {
      // The fleet's syncs use the whole Qonto budget for now: say when to come back.
      if (isBudgetRefusal(error)) {
        const seconds = Math.max(1, Math.ceil((error.retryAfterMs ?? 0) / 1000));
        c.header('Retry-After', String(seconds));
        throw new ApiError(503, 'qonto_busy', `Qonto is busy with this service's other requests: sign in with Qonto again in ${seconds} seconds`);
      }
      // A used or expired code, or Qonto failing: back to the page with the reason, never a 500.
      if (!(error instanceof SyncError)) throw error;
      return c.redirect(`/?${new URLSearchParams({ error: error.code ?? 'qonto_sign_in_failed', message: error.message })}`, 302);
    }
    const role = member.role ?? 'none';
    if (!(ALLOWED_ROLES as readonly string[]).includes(role)) {
      throw new ApiError(403, 'forbidden_role', `Your Qonto role is ${role}; only owners, admins and accountants can connect the OneDrive integration`);
    }
    const name = [member.first_name, member.last_name].filter(Boolean).join(' ') || member.id;
    await deps.sessions.start(c, { membershipId: member.id, organizationId: organization.id, name, role }, tokens);
    return c.redirect('/', 302);
  });

  return app;
}
