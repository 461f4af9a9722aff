import { setTimeout as delay } from 'node:timers/promises';
import { RetryableError } from '../errors.js';

export interface RetryOptions {
  /** Total attempts, the first included. */
  attempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
  /** A Retry-After longer than this is not waited out here: the error goes up to the caller
   * (the activity), whose own retry policy takes `retryAfterMs` as its next delay. */
  maxRetryAfterMs?: number;
  signal?: AbortSignal;
  onRetry?: (error: RetryableError, attempt: number, waitMs: number) => void;
}

/** Exponential back-off with full jitter, capped. Attempt 1 is the first retry. */
export function backoffDelay(attempt: number, baseDelayMs: number, maxDelayMs: number, random = Math.random): number {
  const ceiling = Math.min(maxDelayMs, baseDelayMs * 2 ** (attempt - 1));
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}

/** Parses an HTTP Retry-After value (delta-seconds or HTTP date) into milliseconds. */
export function parseRetryAfter(value: string | null | undefined, now = Date.now()): number | undefined {
  if (value == null || value.trim() === '') return undefined;
  const trimmed = value.trim();
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Math.round(Number(trimmed) * 1000);
  const at = Date.parse(trimmed);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - now);
}

/**
 * Runs `fn`, retrying only RetryableError. A server's Retry-After is waited exactly; otherwise
 * exponential back-off. Any other error, or the last RetryableError, propagates.
 */
export async function withRetry<T>(fn: (attempt: number) => Promise<T>, opts: RetryOptions): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn(attempt);
    } catch (error) {
      if (!(error instanceof RetryableError) || attempt >= opts.attempts) throw error;
      const hinted = error.retryAfterMs;
      if (hinted !== undefined && opts.maxRetryAfterMs !== undefined && hinted > opts.maxRetryAfterMs) throw error;
      const waitMs = hinted ?? backoffDelay(attempt, opts.baseDelayMs, opts.maxDelayMs);
      opts.onRetry?.(error, attempt, waitMs);
      await delay(waitMs, undefined, { signal: opts.signal });
    }
  }
}
