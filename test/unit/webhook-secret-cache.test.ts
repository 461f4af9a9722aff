import { describe, expect, it } from 'vitest';
import { ExpiringLru } from '../../src/webhooks/secret-cache.js';

describe('ExpiringLru', () => {
  it('forgets an entry once it expires', () => {
    let now = 0;
    const cache = new ExpiringLru<string>(10, 60_000, () => now);
    cache.set('sub-1', 'secret');
    now = 59_999;
    expect(cache.get('sub-1')).toBe('secret');
    now = 60_000;
    expect(cache.get('sub-1')).toBeUndefined();
  });

  it('drops the least recently used entry beyond its size', () => {
    const cache = new ExpiringLru<number>(2, 60_000);
    cache.set('a', 1);
    cache.set('b', 2);
    expect(cache.get('a')).toBe(1); // a is now the most recent
    cache.set('c', 3);
    expect([cache.get('a'), cache.get('b'), cache.get('c')]).toEqual([1, undefined, 3]);
    cache.delete('a');
    expect(cache.get('a')).toBeUndefined();
  });
});
