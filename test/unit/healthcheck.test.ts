import { spawn } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { freePort } from '../support/harness.js';

/** scripts/healthcheck.mjs, the image's HEALTHCHECK, run as Docker runs it: in the container, with its PORT. */
const HEALTHCHECK = fileURLToPath(new URL('../../scripts/healthcheck.mjs', import.meta.url));
let server: Server | undefined;
afterEach(() => new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve())));

async function serveReadyz(status: number): Promise<number> {
  server = createServer((request, response) => {
    if (request.url === '/readyz') response.writeHead(status).end(status === 200 ? 'ready' : 'temporal: unreachable');
    else response.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

/** Asynchronous, since the server it asks answers on this process's event loop. */
function check(port: number): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [HEALTHCHECK], { env: { ...process.env, PORT: String(port) }, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.once('exit', (code) => resolve({ code, stderr }));
  });
}

describe('scripts/healthcheck.mjs', () => {
  it('is healthy when /readyz answers 200', async () => {
    expect(await check(await serveReadyz(200))).toEqual({ code: 0, stderr: '' });
  });

  it('is unhealthy when /readyz answers 503, and says what it answered', async () => {
    const { code, stderr } = await check(await serveReadyz(503));
    expect(code).toBe(1);
    expect(stderr).toContain('503: temporal: unreachable');
  });

  it('is unhealthy when nothing listens on PORT', async () => {
    const { code, stderr } = await check(await freePort());
    expect(code).toBe(1);
    expect(stderr).toContain('/readyz did not answer');
  });
});
