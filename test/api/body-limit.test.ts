import { execFile } from 'node:child_process';
import { connect } from 'node:net';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { ServerType } from '@hono/node-server';
import { Client, Connection } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { createApp } from '../../src/api/app.js';
import { apiDeps } from '../../src/api/deps.js';
import { listen } from '../../src/api/listen.js';
import { ADMIN_TOKEN, startHarness, type Harness } from '../support/harness.js';

/** A body far over the limit, sent over real HTTP: every client must read the 413, not a reset. */
const TRIES = 6;
const FIVE_MB = JSON.stringify({ syncFrom: '2026-01-01', padding: 'x'.repeat(5 * 1024 * 1024) });

let h: Harness;
let client: Client;
let server: ServerType;
let base: string;
let dir: string;
let file: string;

beforeAll(async () => {
  h = await startHarness({ demo: { seed: 3, accounts: 1, months: 1, receipts: 1 } });
  client = new Client({ connection: await Connection.connect({ address: inject('temporalAddress') }) });
  const served = await listen(createApp(apiDeps(h.config, h.services, client)), 0, '127.0.0.1');
  server = served.server;
  base = `http://127.0.0.1:${served.port}`;
  dir = mkdtempSync(join(tmpdir(), 'body-limit-'));
  file = join(dir, '5mb.json');
  writeFileSync(file, FIVE_MB);
});

afterAll(async () => {
  await new Promise((resolve) => server?.close(resolve));
  await client?.connection.close();
  await h?.close();
  rmSync(dir, { recursive: true, force: true });
});

const tooLarge = { error: { code: 'payload_too_large', message: expect.stringContaining('16384') } };

/**
 * A client on a slow uplink that sends its whole request before it reads the answer (as
 * Python's http.client does): 5 MB at about 2.5 MB/s. Resolves with every byte it read, or the
 * socket error it met (a reset destroys the answer in the client's receive buffer).
 */
function slowPost(path: string, body: string): Promise<{ response: string; error?: string }> {
  const bytes = Buffer.from(body);
  const socket = connect(Number(new URL(base).port), '127.0.0.1');
  const received: Buffer[] = [];
  let error: string | undefined;
  socket.on('data', (chunk: Buffer) => received.push(chunk));
  socket.on('error', (e: NodeJS.ErrnoException) => (error = e.code ?? e.message));
  socket.write(`POST ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: ${bytes.length}\r\n\r\n`);
  let sent = 0;
  const CHUNK = 64 * 1024;
  const timer = setInterval(() => {
    if (!socket.writable) {
      // The server hung up on a request it had not read: such a client sees EPIPE, not the answer.
      error ??= `closed after ${sent} of ${bytes.length} bytes`;
      return clearInterval(timer);
    }
    socket.write(bytes.subarray(sent, sent + CHUNK));
    sent += CHUNK;
    if (sent >= bytes.length) {
      clearInterval(timer);
      // Done sending; the answer (keep-alive) is complete once its JSON body is.
      socket.on('data', () => /\r\n\r\n\{.*\}\}$/s.test(Buffer.concat(received).toString()) && socket.end());
    }
  }, 25);
  return new Promise((resolve) => socket.on('close', () => {
    clearInterval(timer);
    if (sent < bytes.length) error ??= `closed after ${sent} of ${bytes.length} bytes`;
    resolve({ response: Buffer.concat(received).toString(), ...(error ? { error } : {}) });
  }));
}

const jsonOf = (response: string) => JSON.parse(response.slice(response.indexOf('\r\n\r\n') + 4)) as unknown;

describe('an oversized body over real HTTP', () => {
  it('is answered 413 JSON to a client on a slow link that sends it all before reading', async () => {
    const { response, error } = await slowPost('/api/integrations', FIVE_MB);
    expect(error).toBeUndefined();
    expect(response).toMatch(/^HTTP\/1\.1 413 /);
    expect(jsonOf(response)).toEqual(tooLarge);
  });

  it('is answered 413 JSON to Node fetch, every time', async () => {
    for (let i = 0; i < TRIES; i++) {
      const res = await fetch(`${base}/api/integrations/x/finish`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${ADMIN_TOKEN}` },
        body: FIVE_MB,
      });
      expect(res.status).toBe(413);
      expect(await res.json()).toEqual(tooLarge);
    }
  });

  it('is answered 413 JSON to curl --data-binary, every time', async () => {
    for (let i = 0; i < TRIES; i++) {
      const { stdout } = await promisify(execFile)('curl', ['-sS', '-w', '\n%{http_code}', '-H', 'content-type: application/json', '--data-binary', `@${file}`, `${base}/api/integrations`], { maxBuffer: 1 << 20 });
      const [body, status] = stdout.split('\n');
      expect(status).toBe('413');
      expect(JSON.parse(body!)).toEqual(tooLarge);
    }
  });
});

describe('a body within the limit', () => {
  it('sent without a declared length (chunked) reaches the route, read and whole', async () => {
    const json = JSON.stringify({ syncFrom: 'not a date' });
    const res = await fetch(`${base}/api/integrations/x/finish`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${ADMIN_TOKEN}` },
      body: new Blob([json]).stream(),
      duplex: 'half',
    });
    // The route read the JSON it was sent: its date is refused by name, not the request by a 500.
    expect(res.status).toBe(400);
    expect(JSON.stringify(await res.json())).toContain('syncFrom');
  });

  it('an OPTIONS request (a CORS preflight, no declared length) is answered, not failed', async () => {
    const res = await fetch(`${base}/api/integrations`, { method: 'OPTIONS' });
    expect(res.status).toBeLessThan(500);
  });
});
