import { describe, expect, it } from 'vitest';
import { Semaphore } from '../../src/budget/semaphore.js';

describe('Semaphore', () => {
  it('an aborted waiter leaves the line: the place goes to the next one', async () => {
    const places = new Semaphore(1);
    const release = (await places.take())!;
    const abort = new AbortController();
    const aborted = places.take(abort.signal);
    const next = places.take();
    abort.abort(new Error('gone'));
    await expect(aborted).rejects.toThrow('gone');
    release();
    const releaseNext = await next;
    expect(releaseNext).toBeTypeOf('function');
  });

  it('a waiter past its deadline gets null and leaves the line', async () => {
    const places = new Semaphore(1);
    const release = (await places.take())!;
    expect(await places.take(undefined, 20)).toBeNull();
    release();
    // The timed-out waiter took nothing: the place is free.
    const again = await places.take(undefined, 0);
    expect(again).toBeTypeOf('function');
  });
});
