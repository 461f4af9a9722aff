import { describe, expect, it } from 'vitest';
import { KeyedQueue } from '../../src/auth/keyed-queue.js';

const tick = () => new Promise((resolve) => setImmediate(resolve));

describe('KeyedQueue', () => {
  it('runs the work of one key one at a time, in order; a failure does not stop the next', async () => {
    const queue = new KeyedQueue();
    let inside = 0;
    let most = 0;
    const ran: number[] = [];
    const results = await Promise.allSettled(
      [1, 2, 3].map((n) =>
        queue.run('k', async () => {
          most = Math.max(most, ++inside);
          await tick();
          ran.push(n);
          inside--;
          if (n === 2) throw new Error('failed');
          return n;
        }),
      ),
    );
    expect(most).toBe(1);
    expect(ran).toEqual([1, 2, 3]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect(queue.size).toBe(0);
  });

  it('runs the work of different keys at once', async () => {
    const queue = new KeyedQueue();
    const order: string[] = [];
    await Promise.all(
      ['a', 'b'].map((key) =>
        queue.run(key, async () => {
          order.push(`${key} in`);
          await tick();
          order.push(`${key} out`);
        }),
      ),
    );
    expect(order).toEqual(['a in', 'b in', 'a out', 'b out']);
  });
});
