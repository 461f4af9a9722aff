import { afterAll, beforeAll, expect, it } from 'vitest';
import { SHORT_ACTIVITY_LIMITS } from '../../activities/deps.js';
import { isGateRefusal } from '../../src/http/backoff-gate.js';
import { startHarness, type Harness } from '../support/harness.js';

// API-key mode (the harness's default): every Qonto client the worker makes (src/services.ts), the
// short activities' ones included, shares the process's one back-off, since Qonto limits per IP.
let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(() => h?.close());

// A 503 closes the gate only (a 429 would also hold the fleet's budget, which would hide the gate).
it('a 503 to a short activity\'s client holds back the next short activity\'s client, unsent', async () => {
  h.sims.qonto.faults.add({ method: 'GET', path: '/v2/organization' }, { kind: 'status', status: 503, retryAfterSec: 20 }, 1);
  await expect(h.services.deps.qonto('one', SHORT_ACTIVITY_LIMITS).getOrganization()).rejects.toMatchObject({ status: 503 });
  const sent = h.sims.qonto.requests.length;
  const error = await h.services.deps.qonto('two', SHORT_ACTIVITY_LIMITS).getOrganization().catch((e: unknown) => e);
  expect(isGateRefusal(error)).toBe(true);
  expect(h.sims.qonto.requests.length).toBe(sent);
});
