/**
 * When an integration tries again by itself after failed runs: exponential back-off between failed
 * runs, capped, and never later than the next daily run (the caller takes the sooner of the two).
 * A user action (sync now, reconfigure, reconnect) does not wait for it.
 *
 * Pure and deterministic: the workflow uses it.
 */

const MINUTE_MS = 60_000;

/** The wait after the first failed run in a row; it doubles with each further one. */
export const FIRST_RETRY_DELAY_MS = 5 * MINUTE_MS;
/** The longest wait between two failed runs: a failure that lasts still gets a few tries a day. */
export const MAX_RETRY_DELAY_MS = 6 * 60 * MINUTE_MS;

/** The wait before the next try after `failedRuns` failed runs in a row (5 min, 10, 20, … 6 h). */
export function retryDelayMs(failedRuns: number): number {
  if (failedRuns < 1) return 0;
  // 2^7 × 5 min is past the cap already: no need to compute (or overflow) larger powers.
  return Math.min(MAX_RETRY_DELAY_MS, FIRST_RETRY_DELAY_MS * 2 ** Math.min(failedRuns - 1, 7));
}

/** How many retries the back-off alone starts within `windowMs` of a first failed run. */
export function retriesWithin(windowMs: number): number {
  let retries = 0;
  for (let elapsed = retryDelayMs(1); elapsed <= windowMs; elapsed += retryDelayMs(retries + 1)) retries += 1;
  return retries;
}
