import { describe, expect, it } from 'vitest';
import { RetryableError } from '../../src/errors.js';
import { retryDeadlock } from '../../src/store/deadlock.js';

const deadlock = () => Object.assign(new Error('deadlock detected'), { code: '40P01' });

describe('retryDeadlock', () => {
  it('runs a transaction Postgres aborted for a deadlock again', async () => {
    let runs = 0;
    const result = await retryDeadlock(async () => {
      if (++runs === 1) throw deadlock();
      return 'written';
    });
    expect(result).toBe('written');
    expect(runs).toBe(2);
  });

  it('gives a RetryableError (never a plain failure) when it stays deadlocked', async () => {
    let runs = 0;
    const error = await retryDeadlock(async () => {
      runs += 1;
      throw deadlock();
    }, 3).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RetryableError);
    expect(error).toMatchObject({ code: '40P01' });
    expect(runs).toBe(3);
  });

  it('lets any other error through at once', async () => {
    let runs = 0;
    const other = Object.assign(new Error('unique violation'), { code: '23505' });
    await expect(retryDeadlock(async () => {
      runs += 1;
      throw other;
    })).rejects.toBe(other);
    expect(runs).toBe(1);
  });
});
