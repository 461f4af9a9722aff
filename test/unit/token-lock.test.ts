import { describe, expect, it } from 'vitest';
import { TokenLock } from '../../src/auth/token-lock.js';
import type { Store } from '../../src/store/types.js';

/** A store lock that admits everyone and records how many callers are inside it at once (each one
 * would hold a database connection). */
function countingStore() {
  const seen = { inside: 0, most: 0, order: [] as string[] };
  const store: Pick<Store, 'withTokenLock'> = {
    async withTokenLock(integrationId, provider, run) {
      seen.inside += 1;
      seen.most = Math.max(seen.most, seen.inside);
      seen.order.push(`${integrationId}:${provider}`);
      try {
        return await run();
      } finally {
        seen.inside -= 1;
      }
    },
  };
  return { store, seen };
}

const tick = () => new Promise((resolve) => setImmediate(resolve));

describe('TokenLock', () => {
  it('queues callers of one integration in process, so only one at a time waits on or holds the store lock', async () => {
    const { store, seen } = countingStore();
    const lock = new TokenLock(store, 'microsoft');
    const ran: number[] = [];
    const results = await Promise.allSettled(
      [1, 2, 3, 4].map((n) =>
        lock.run('int-1', async () => {
          await tick();
          ran.push(n);
          if (n === 2) throw new Error('refresh failed');
          return n;
        }),
      ),
    );
    expect(seen.most).toBe(1);
    expect(ran).toEqual([1, 2, 3, 4]);
    expect(seen.order).toEqual(Array(4).fill('int-1:microsoft'));
    // A failed run does not stop the ones after it.
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled', 'fulfilled']);
  });

  it('lets different integrations run at once', async () => {
    const { store, seen } = countingStore();
    const lock = new TokenLock(store, 'qonto');
    await Promise.all(['int-1', 'int-2'].map((id) => lock.run(id, tick)));
    expect(seen.most).toBe(2);
    expect(seen.order.sort()).toEqual(['int-1:qonto', 'int-2:qonto']);
  });
});
