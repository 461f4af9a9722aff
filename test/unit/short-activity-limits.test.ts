import { afterAll, beforeAll, expect, it } from 'vitest';
import { SHORT_ACTIVITY_LIMITS } from '../../activities/deps.js';
import { RetryableError } from '../../src/errors.js';
import { startHarness, type Harness } from '../support/harness.js';

// The real clients the worker makes (src/services.ts), against the simulators: a client asked for
// with the short activities' limits refuses a 30 s window at once, carrying it as its retry delay.
let h: Harness;
beforeAll(async () => {
  h = await startHarness();
  await h.connect('limits', h.newUser('limits'));
});
afterAll(() => h?.close());

it('a drive client for a short activity does not wait a 30 s Retry-After in process', async () => {
  h.sims.graph.faults.add({ method: 'GET', path: '/me/drive' }, { kind: 'status', status: 429, retryAfterSec: 30 }, 1);
  const error = await h.services.deps.onedrive('limits', SHORT_ACTIVITY_LIMITS).getDrive().catch((e: unknown) => e);
  expect(error).toBeInstanceOf(RetryableError);
  expect((error as RetryableError).retryAfterMs).toBe(30_000);
});

it('a Qonto client for a short activity does not wait a 20 s Retry-After in process', async () => {
  h.sims.qonto.faults.add({ method: 'GET', path: '/v2/organization' }, { kind: 'status', status: 429, retryAfterSec: 20 }, 1);
  const error = await h.services.deps.qonto('limits', SHORT_ACTIVITY_LIMITS).getOrganization().catch((e: unknown) => e);
  expect(error).toBeInstanceOf(RetryableError);
  expect((error as RetryableError).retryAfterMs).toBe(20_000);
});
