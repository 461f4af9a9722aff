import { describe, expect, it } from 'vitest';
import { GraphApi } from '../../src/onedrive/graph-client.js';

/** How many times a request went out: a simple upload gives its buffer back to the pool only when its
 * PUT was sent once (an earlier try's connection may still be writing it). */
describe('GraphApi.send', () => {
  const api = (answers: Response[]) => {
    let n = 0;
    return new GraphApi({
      graphUrl: 'http://graph.test/v1.0',
      getAccessToken: async () => 'token',
      retry: { attempts: 3, baseDelayMs: 1, maxDelayMs: 2 },
      fetch: async () => answers[n++]!,
    });
  };
  const ok = () => new Response('{"id":"x"}', { status: 200, headers: { 'content-type': 'application/json' } });

  it('says a request answered at once went out once, and one retried after a 503 twice', async () => {
    const once = { times: 0 };
    expect(await api([ok()]).send('/me/drive', (r) => r.get(), undefined, once)).toEqual({ id: 'x' });
    expect(once.times).toBe(1);

    const twice = { times: 0 };
    const retried = api([new Response('{"error":{"code":"serviceNotAvailable","message":"busy"}}', { status: 503, headers: { 'content-type': 'application/json', 'retry-after': '0' } }), ok()]);
    expect(await retried.send('/me/drive', (r) => r.get(), undefined, twice)).toEqual({ id: 'x' });
    expect(twice.times).toBe(2);
  });
});
