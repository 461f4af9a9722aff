import { ApplicationFailure } from '@temporalio/activity';
import { ReconnectRequiredError, RetryableError, SyncError } from '../src/errors.js';

/**
 * Turns the clients' typed errors into Temporal failures whose `type` says what to do:
 * Retryable (with the server's Retry-After as the next delay), Fatal, NotFound, ReconnectRequired,
 * QuotaExceeded. Anything else stays as it is (retried by the activity's policy).
 */
export function toFailure(error: unknown): unknown {
  if (error instanceof ApplicationFailure || !(error instanceof SyncError)) return error;
  return ApplicationFailure.create({
    message: error.message,
    type: error.kind,
    nonRetryable: !(error instanceof RetryableError),
    nextRetryDelay: error instanceof RetryableError ? error.retryAfterMs : undefined,
    // `provider` tells the workflow (and the dashboard) whose sign-in ended.
    details: [{ status: error.status ?? null, code: error.code ?? null, ...(error instanceof ReconnectRequiredError ? { provider: error.provider } : {}) }],
  });
}

/** Wraps every activity so typed errors cross the Temporal boundary with their meaning. */
export function withFailures<T extends Record<string, (...args: never[]) => Promise<unknown>>>(activities: T): T {
  const wrapped: Record<string, unknown> = {};
  for (const [name, fn] of Object.entries(activities)) {
    wrapped[name] = async (...args: never[]) => {
      try {
        return await fn(...args);
      } catch (error) {
        throw toFailure(error);
      }
    };
  }
  return wrapped as T;
}
