import { RetryableError } from '../errors.js';

/** Postgres' SQLSTATE for a transaction it chose to abort to break a deadlock. */
const DEADLOCK = '40P01';

function isDeadlock(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { code?: unknown }).code === DEADLOCK;
}

/**
 * Runs `transaction` again when Postgres aborted it to break a deadlock (it was rolled back whole, so
 * running it again is safe for a transaction that only writes values, not increments). Still
 * deadlocked after `attempts`: a RetryableError, so the caller retries later rather than failing.
 */
export async function retryDeadlock<T>(transaction: () => Promise<T>, attempts = 3): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await transaction();
    } catch (error) {
      if (!isDeadlock(error)) throw error;
      if (attempt >= attempts) throw new RetryableError('database deadlock: the transaction was aborted, try again', { code: DEADLOCK, cause: error });
    }
  }
}
