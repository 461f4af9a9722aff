import { afterEach, describe, expect, it, vi } from 'vitest';
import { OneDriveClient } from '../../src/onedrive/client.js';
import { startGraphSimulator } from '../../src/simulators/graph/server.js';

afterEach(() => {
  vi.useRealTimers();
});

describe('OneDriveClient access token', () => {
  it('asks for the token once for many requests, once more on 401 naming the refused token, and again after a minute', async () => {
    // The simulator knows only the token asked for after a refusal.
    const sim = await startGraphSimulator({ resolveToken: (t) => (t.startsWith('fresh-') ? { userId: 'u' } : null) });
    const asks: (string | undefined)[] = [];
    const client = new OneDriveClient({
      graphUrl: sim.url,
      getAccessToken: async ({ rejected }) => {
        asks.push(rejected);
        return rejected ? `fresh-${asks.length}` : `stale-${asks.length}`;
      },
      retry: { attempts: 2, baseDelayMs: 1, maxDelayMs: 2 },
    });
    try {
      // Concurrent first requests share one ask; every 401 they meet shares one ask for a new token.
      await Promise.all(Array.from({ length: 8 }, () => client.getDrive()));
      expect(asks).toEqual([undefined, 'stale-1']);
      await Promise.all(Array.from({ length: 8 }, () => client.getAppFolder()));
      expect(asks).toEqual([undefined, 'stale-1']);

      vi.useFakeTimers({ toFake: ['Date'] });
      vi.setSystemTime(Date.now() + 61_000);
      await client.getDrive().catch(() => undefined); // a new (stale) token, refused, refreshed
      expect(asks).toEqual([undefined, 'stale-1', undefined, 'stale-3']);
    } finally {
      await sim.close();
    }
  });
});
