import { afterEach, describe, expect, it, vi } from 'vitest';
import { OneDriveClient } from '../../src/onedrive/client.js';
import { startGraphSimulator } from '../../src/simulators/graph/server.js';

afterEach(() => {
  vi.useRealTimers();
});

describe('OneDriveClient access token', () => {
  it('asks for the token once for many requests, refreshes it once on 401, and asks again after a minute', async () => {
    // The simulator knows only the token a forced refresh hands out.
    const sim = await startGraphSimulator({ resolveToken: (t) => (t.startsWith('fresh-') ? { userId: 'u' } : null) });
    const asks: boolean[] = [];
    const client = new OneDriveClient({
      graphUrl: sim.url,
      getAccessToken: async ({ forceRefresh }) => {
        asks.push(forceRefresh);
        return forceRefresh ? `fresh-${asks.length}` : `stale-${asks.length}`;
      },
      retry: { attempts: 2, baseDelayMs: 1, maxDelayMs: 2 },
    });
    try {
      // Concurrent first requests share one ask; every 401 they meet shares one forced refresh.
      await Promise.all(Array.from({ length: 8 }, () => client.getDrive()));
      expect(asks).toEqual([false, true]);
      await Promise.all(Array.from({ length: 8 }, () => client.getAppFolder()));
      expect(asks).toEqual([false, true]);

      vi.useFakeTimers({ toFake: ['Date'] });
      vi.setSystemTime(Date.now() + 61_000);
      await client.getDrive().catch(() => undefined); // a new (stale) token, refused, refreshed
      expect(asks).toEqual([false, true, false, true]);
    } finally {
      await sim.close();
    }
  });
});
