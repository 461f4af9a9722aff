import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { RetryableError } from '../../src/errors.js';
import { closeAgents, withDeadlines } from '../../src/http/deadlines.js';

/** A local server whose handler decides how (and whether) to answer. */
async function serve(handler: Parameters<typeof createServer>[1]): Promise<string> {
  server = createServer(handler);
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}
let server: Server | undefined;
afterEach(async () => {
  server?.closeAllConnections();
  await new Promise((resolve) => server?.close(resolve));
  server = undefined;
});

async function caught(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => {
      throw new Error('expected a rejection');
    },
    (error: unknown) => error,
  );
}

describe('withDeadlines', () => {
  it('fails a request whose server accepts and never answers with a RetryableError naming the host only', async () => {
    const base = await serve(() => {});
    const error = await caught(withDeadlines({ idleMs: 300 })(`${base}/private/path?signature=secret`));
    expect(error).toBeInstanceOf(RetryableError);
    expect((error as Error).message).toMatch(/^127\.0\.0\.1:\d+: nothing received for 0\.3 s \(no answer\)$/);
  });

  it('fails the body of an answer that stops midway', async () => {
    const base = await serve((_req, res) => {
      res.writeHead(200, { 'content-length': '1000' });
      res.write(Buffer.alloc(100));
    });
    const res = await withDeadlines({ idleMs: 300 })(base);
    expect(res.status).toBe(200);
    const error = await caught(res.arrayBuffer());
    expect(error).toBeInstanceOf(RetryableError);
    expect((error as Error).message).toMatch(/answer stalled/);
  });

  it('lets a slow answer through as long as bytes keep coming: the deadline is for idleness, not the whole request', async () => {
    const base = await serve((_req, res) => {
      // 30 bytes 50 ms apart: 1.5 s in all, longer than the 1 s deadline, each gap a twentieth of it.
      res.writeHead(200, { 'content-length': '30' });
      let sent = 0;
      const timer = setInterval(() => {
        res.write('x');
        if (++sent < 30) return;
        clearInterval(timer);
        res.end();
      }, 50);
    });
    const res = await withDeadlines({ idleMs: 1_000 })(base);
    expect(await res.text()).toBe('x'.repeat(30));
  });

  it('restarts the wait for the answer with every piece of a request body sent', async () => {
    let received = 0;
    const base = await serve((req, res) => {
      req.on('data', (chunk: Buffer) => (received += chunk.length));
      req.on('end', () => res.end('done'));
    });
    let pieces = 0;
    const body = new ReadableStream<Uint8Array>({
      async pull(controller) {
        // 30 pieces 50 ms apart: 1.5 s in all, longer than the 1 s deadline, each gap a twentieth of it.
        await new Promise((r) => setTimeout(r, 50));
        controller.enqueue(new Uint8Array(10));
        if (++pieces === 30) controller.close();
      },
    });
    const init: RequestInit & { duplex: 'half' } = { method: 'PUT', body, duplex: 'half' };
    const res = await withDeadlines({ idleMs: 1_000 })(base, init);
    expect(await res.text()).toBe('done');
    expect(received).toBe(300);
  });

  it('gives a request marked slowAnswer its longer deadline to answer once its body is sent (an upload fragment)', async () => {
    const base = await serve((req, res) => {
      req.resume();
      // Answers 1.5 s after the body arrived: three times the 0.5 s idle deadline, a seventh of the
      // 10 s slow-answer deadline.
      req.on('end', () => setTimeout(() => res.end('stored'), 1_500));
    });
    const init = { method: 'PUT', body: 'fragment', slowAnswer: true };
    const res = await withDeadlines({ idleMs: 500, slowAnswerMs: 10_000 })(base, init);
    expect(await res.text()).toBe('stored');
    // Without the mark, the same wait misses the idle deadline.
    const error = await caught(withDeadlines({ idleMs: 500, slowAnswerMs: 10_000 })(base, { method: 'PUT', body: 'fragment' }));
    expect(error).toBeInstanceOf(RetryableError);
  });

  it('uses the undici package\'s own fetch, so its deadlines hold whatever undici Node bundles', async () => {
    const base = await serve(() => {});
    vi.stubGlobal('fetch', () => Promise.reject(new Error('Node\'s built-in fetch was used')));
    try {
      const error = await caught(withDeadlines({ idleMs: 300 })(base));
      expect(error).toBeInstanceOf(RetryableError);
      expect((error as Error).message).toMatch(/no answer/);
    } finally {
      vi.unstubAllGlobals();
    }
  });

  it('closes its connection pools, and makes new ones for requests after that', async () => {
    const base = await serve((_req, res) => res.end('ok'));
    const get = withDeadlines({ idleMs: 5_000 });
    expect(await (await get(base)).text()).toBe('ok');
    await closeAgents();
    expect(await (await get(base)).text()).toBe('ok');
    await closeAgents();
  });
});
