import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BackoffGate } from '../../src/http/backoff-gate.js';
import { OneDriveClient } from '../../src/onedrive/client.js';
import { type GraphSimulator, startGraphSimulator } from '../../src/simulators/graph/server.js';

const TOKENS: Record<string, string> = { 'tok-a': 'a', 'tok-b': 'b' };
const RETRY = { attempts: 20, baseDelayMs: 5, maxDelayMs: 20, maxRetryAfterMs: 5_000 };

let sim: GraphSimulator;

beforeEach(async () => {
  sim = await startGraphSimulator({ resolveToken: (t) => (TOKENS[t] ? { userId: TOKENS[t] } : null), latencyMs: 20 });
});

afterEach(async () => {
  await sim.close();
});

const get = async (path: string, token?: string) => {
  const res = await fetch(path.startsWith('http') ? path : `${sim.url}${path}`, { headers: token ? { authorization: `Bearer ${token}` } : {} });
  await res.arrayBuffer();
  return res;
};

describe('Graph simulator: back-off windows', () => {
  it('counts requests for the throttled drive that arrive inside the window it announced, on both hosts', async () => {
    sim.faults.add({ path: '/me/drive' }, { kind: 'status', status: 429, retryAfterSec: 0.5 });
    const throttled = await get('/me/drive', 'tok-a');
    expect(throttled.status).toBe(429);
    expect(throttled.headers.get('retry-after')).toBe('0.5');
    expect(sim.throttling.windows).toBe(1);

    await get('/me/drive', 'tok-b'); // another drive: not throttled
    expect(sim.throttling.requestsInWindows).toBe(0);
    await get('/me/drive/special/approot', 'tok-a');
    await get(`${sim.uploadUrl}/rup/${sim.drive('a').id}/no-such-session`);
    expect(sim.throttling.requestsInWindows).toBe(2);
    expect(sim.throttling.sinceAnnouncementMs).toHaveLength(2);

    await new Promise((r) => setTimeout(r, 550));
    await get('/me/drive', 'tok-a');
    expect(sim.throttling.requestsInWindows).toBe(2);
  });
});

describe('OneDriveClient: one back-off per drive', () => {
  /** A request that arrives this soon after the 429 was written was already on its way, or sent
   * before the client's event loop had read the 429 (or waited for the simulator's loop to notice
   * it): the client could not know yet. The control shows arrivals throughout the window. */
  const IN_FLIGHT_MS = 100;

  /** Two clients of drive `a` (two activities of one integration), two uploads in flight each, six
   * files per lane, while 15 % of all requests are answered 429 with Retry-After 0.3 s. Returns how
   * long after the announcement each request that arrived inside a window came. */
  async function uploadThrottled(gates: [BackoffGate, BackoffGate]): Promise<number[]> {
    const clients = gates.map((gate) => new OneDriveClient({ graphUrl: sim.url, getAccessToken: async () => 'tok-a', retry: RETRY, gate }));
    const app = await clients[0]!.getAppFolder();
    sim.faults.addRandom({}, { kind: 'status', status: 429, retryAfterSec: 0.3 }, { fraction: 0.15, seed: 5 });
    const data = new Uint8Array(10_000).fill(7);
    let uploaded = 0;
    const lane = async (client: OneDriveClient, lane: string) => {
      for (let i = 0; i < 6; i++) {
        await client.uploadFile({
          parentId: app.id,
          name: `receipt-${lane}-${i}.pdf`,
          size: data.length,
          open: async () => new ReadableStream({ start: (c) => (c.enqueue(data), c.close()) }),
        });
        uploaded += 1;
      }
    };
    await Promise.all(clients.flatMap((client, c) => [lane(client, `${c}a`), lane(client, `${c}b`)]));
    expect(uploaded).toBe(24);
    expect(sim.throttling.windows).toBeGreaterThan(1);
    expect(sim.throttling.sinceAnnouncementMs).toHaveLength(sim.throttling.requestsInWindows);
    return sim.throttling.sinceAnnouncementMs;
  }

  it('sends no request into a window once it could know of it, when the clients share the gate', async () => {
    const shared = new BackoffGate();
    const late = (await uploadThrottled([shared, shared])).filter((ms) => ms >= IN_FLIGHT_MS);
    expect(late).toEqual([]);
  });

  it('(control) keeps sending into the window when each client backs off on its own', async () => {
    const late = (await uploadThrottled([new BackoffGate(), new BackoffGate()])).filter((ms) => ms >= IN_FLIGHT_MS);
    expect(late.length).toBeGreaterThan(0);
  });
});
