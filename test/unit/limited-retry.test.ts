import { describe, expect, it } from 'vitest';
import { limitedRetry } from '../../activities/deps.js';

describe('limitedRetry', () => {
  it("caps the in-process wait (the tighter wins) and carries the activity's signal to the client", () => {
    const signal = new AbortController().signal;
    expect(limitedRetry({ attempts: 3 }, undefined)).toEqual({ attempts: 3 });
    expect(limitedRetry({ attempts: 3, maxRetryAfterMs: 5_000 }, { maxRetryAfterMs: 10_000 })).toEqual({ attempts: 3, maxRetryAfterMs: 5_000 });
    expect(limitedRetry(undefined, { maxRetryAfterMs: 10_000, signal })).toEqual({ maxRetryAfterMs: 10_000, signal });
    expect(limitedRetry({ attempts: 3 }, { signal })?.signal).toBe(signal);
  });
});
