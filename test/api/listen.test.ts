import { Hono } from 'hono';
import { describe, expect, it } from 'vitest';
import { listen } from '../../src/api/listen.js';

describe('listen', () => {
  it("serves the app and leaves Node's own Request and Response in place for the process's outbound requests", async () => {
    const { Request: NativeRequest, Response: NativeResponse } = globalThis;
    const app = new Hono().get('/', (c) => c.json({ ok: true }));
    const { server, port } = await listen(app, 0, '127.0.0.1');
    try {
      const res = await fetch(`http://127.0.0.1:${port}/`);
      expect(await res.json()).toEqual({ ok: true });
      expect(globalThis.Response).toBe(NativeResponse);
      expect(globalThis.Request).toBe(NativeRequest);
    } finally {
      server.close();
    }
  });
});
