import { Hono } from 'hono';
import { describe, expect, it } from 'vitest';
import { bodyLimit } from '../../src/api/body-limit.js';
import { onError } from '../../src/api/errors.js';

const app = new Hono();
app.onError(onError);
app.use('*', bodyLimit(100, 1000));
app.post('/echo', async (c) => c.json(await c.req.json()));

/** A body of `size` bytes sent in chunks without a declared length (Transfer-Encoding: chunked). */
function chunked(text: string): ReadableStream<Uint8Array> {
  const bytes = new TextEncoder().encode(text);
  let at = 0;
  return new ReadableStream({
    pull(ctl) {
      if (at >= bytes.length) return ctl.close();
      ctl.enqueue(bytes.subarray(at, (at += 30)));
    },
  });
}

const post = (body: string | ReadableStream<Uint8Array>, headers: Record<string, string> = {}) =>
  app.request('/echo', { method: 'POST', body, headers: { 'content-type': 'application/json', ...(typeof body === 'string' ? {} : { 'transfer-encoding': 'chunked' }), ...headers }, duplex: 'half' } as RequestInit);

describe('bodyLimit', () => {
  it('passes a body within the limit, declared or chunked', async () => {
    expect(await (await post('{"a":1}', { 'content-length': '7' })).json()).toEqual({ a: 1 });
    expect(await (await post(chunked(JSON.stringify({ a: 'x'.repeat(80) })))).json()).toEqual({ a: 'x'.repeat(80) });
  });

  it('answers 413 JSON on a kept-alive connection once the rest of the body is read', async () => {
    for (const res of [await post('x'.repeat(500), { 'content-length': '500' }), await post(chunked('x'.repeat(500)))]) {
      expect(res.status).toBe(413);
      expect(res.headers.get('connection')).toBeNull();
      expect(await res.json()).toEqual({ error: { code: 'payload_too_large', message: 'Request bodies are limited to 100 bytes' } });
    }
  });

  it('hangs up (Connection: close) on a body beyond the discard bound', async () => {
    for (const res of [await post('x'.repeat(2000), { 'content-length': '2000' }), await post(chunked('x'.repeat(2000)))]) {
      expect(res.status).toBe(413);
      expect(res.headers.get('connection')).toBe('close');
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe('payload_too_large');
    }
  });
});
