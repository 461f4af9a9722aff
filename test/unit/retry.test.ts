import { describe, expect, it } from 'vitest';
import { FIRST_RETRY_DELAY_MS, MAX_RETRY_DELAY_MS, retriesWithin, retryDelayMs } from '../../src/sync/retry.js';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

describe('retry after failed runs', () => {
  it('doubles the wait from 5 minutes up to 6 hours', () => {
    expect([1, 2, 3, 4, 5, 6, 7, 8].map((n) => retryDelayMs(n) / MINUTE)).toEqual([5, 10, 20, 40, 80, 160, 320, 360]);
    expect(retryDelayMs(1)).toBe(FIRST_RETRY_DELAY_MS);
    expect(retryDelayMs(10_000)).toBe(MAX_RETRY_DELAY_MS);
    expect(retryDelayMs(0)).toBe(0);
  });

  it('retries nine times in the first day of a failure that lasts', () => {
    // Tries at 5, 15, 35, 75, 155, 315, 635, 995 and 1355 minutes after the first failure.
    expect(retriesWithin(24 * HOUR)).toBe(9);
    expect(retriesWithin(4 * MINUTE)).toBe(0);
    expect(retriesWithin(15 * MINUTE)).toBe(2);
  });
});
