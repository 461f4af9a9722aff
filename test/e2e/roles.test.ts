import { randomUUID } from 'node:crypto';
import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { ADMIN_TOKEN, freePort, startHarness, type Harness } from '../support/harness.js';
import { freshDatabaseUrl } from '../support/postgres.js';
import { startProductProcess, startWorkerProcess, type WorkerProcess } from '../support/worker-process.js';

/**
 * The roles as `npm start` runs them (`src/main.ts`, separate OS processes) against the run's Temporal
 * dev server: what each serves, and a graceful stop on SIGTERM.
 */
const GRACE_SECONDS = 20;

let h: Harness;
const processes: WorkerProcess[] = [];
beforeAll(async () => {
  // Split roles share a Postgres store (SQLite serves ROLE=all only).
  h = await startHarness({ extraEnv: { DATABASE_URL: await freshDatabaseUrl() } });
});
afterAll(async () => {
  for (const p of processes) await p.kill();
  await h?.close();
});

async function start(role: 'api' | 'worker') {
  const port = await freePort();
  const taskQueue = `tq-roles-${randomUUID().slice(0, 8)}`;
  const env = {
    ...h.env,
    ROLE: role,
    PORT: String(port),
    PUBLIC_URL: `http://127.0.0.1:${port}`,
    TEMPORAL_ADDRESS: inject('temporalAddress'),
    TEMPORAL_TASK_QUEUE: taskQueue,
    SHUTDOWN_GRACE_SECONDS: String(GRACE_SECONDS),
  };
  const p = role === 'worker' ? await startWorkerProcess(env) : await startProductProcess(env, 'Listening on port');
  processes.push(p);
  return { p, base: `http://127.0.0.1:${port}`, port, taskQueue };
}

/** The exit code, or a failure once the grace period is over. */
function exitWithinGrace(p: WorkerProcess): Promise<number | null> {
  return Promise.race([
    p.exited,
    new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`still running ${GRACE_SECONDS} s after SIGTERM:\n${p.output()}`)), GRACE_SECONDS * 1000)),
  ]);
}

function until(p: WorkerProcess, line: string): Promise<void> {
  return new Promise((resolve) => {
    const check = () => (p.output().includes(line) ? resolve() : undefined);
    p.child.stdout!.on('data', check);
    check();
  });
}

describe('ROLE=worker', () => {
  it('polls the task queue, serves only /healthz, /readyz and /metrics, and exits 0 on SIGTERM within the grace period', async () => {
    const { p, base } = await start('worker');
    const health = await fetch(`${base}/healthz`);
    expect(health.status).toBe(200);
    expect(await health.json()).toEqual({ status: 'ok' });
    const ready = await fetch(`${base}/readyz`);
    expect(await ready.json()).toEqual({ status: 'ready', checks: { store: { status: 'up' }, temporal: { status: 'up' }, worker: { status: 'up' } } });
    expect(ready.status).toBe(200);

    const metrics = await fetch(`${base}/metrics`);
    expect(metrics.status).toBe(200);
    expect(await metrics.text()).toContain('# TYPE receipts_sync_receipts_total counter');

    for (const [method, path] of [
      ['GET', '/'],
      ['GET', '/api/integrations'],
      ['GET', '/api/openapi.json'],
      ['POST', '/codec/decode'],
      ['POST', '/healthz'],
    ]) {
      const res = await fetch(`${base}${path}`, { method, headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
      expect(res.status, `${method} ${path}`).toBe(404);
      expect(await res.json()).toEqual({ error: { code: 'not_found', message: expect.any(String) } });
    }

    p.child.kill('SIGTERM');
    expect(await exitWithinGrace(p)).toBe(0);
    expect(p.output()).toContain('SIGTERM: stopping');
  });
});

describe('ROLE=api', () => {
  it('does not poll: readiness names the missing worker', async () => {
    const { base, taskQueue } = await start('api');
    const res = await fetch(`${base}/readyz`);
    expect(res.status).toBe(503);
    expect(await res.json()).toEqual({
      status: 'unavailable',
      checks: { store: { status: 'up' }, temporal: { status: 'up' }, worker: { status: 'down', reason: `no worker polls the task queue ${taskQueue}` } },
    });
  });

  it('on SIGTERM refuses new connections, answers the request in flight, then exits 0', async () => {
    const { p, port } = await start('api');
    const body = JSON.stringify({ payloads: [{ metadata: { encoding: Buffer.from('json/plain').toString('base64') }, data: Buffer.from('"in flight"').toString('base64') }] });
    // `Expect: 100-continue`: the server's "100 Continue" proves it has the request before the signal.
    const socket = connect(port, '127.0.0.1');
    let received = '';
    socket.on('data', (chunk: Buffer) => (received += chunk.toString()));
    const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
    socket.write(
      [
        'POST /codec/encode HTTP/1.1',
        `Host: 127.0.0.1:${port}`,
        `Authorization: Bearer ${ADMIN_TOKEN}`,
        'Content-Type: application/json',
        `Content-Length: ${Buffer.byteLength(body)}`,
        'Expect: 100-continue',
        '',
        '',
      ].join('\r\n'),
    );
    await waitFor(socket, () => received.includes('100 Continue'));

    p.child.kill('SIGTERM');
    await until(p, 'SIGTERM: stopping');
    await expect(fetch(`http://127.0.0.1:${port}/healthz`)).rejects.toThrow();

    socket.write(body);
    await closed;
    const answer = received.slice(received.indexOf('HTTP/1.1 2'));
    expect(answer.split('\r\n')[0]).toBe('HTTP/1.1 200 OK');
    const json = JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4)) as { payloads: { metadata: Record<string, string> }[] };
    expect(json.payloads).toHaveLength(1);
    expect(Buffer.from(json.payloads[0]!.metadata.encoding!, 'base64').toString()).toBe('binary/encrypted');
    expect(await exitWithinGrace(p)).toBe(0);
  });
});

function waitFor(socket: Socket, done: () => boolean): Promise<void> {
  return new Promise((resolve, reject) => {
    const check = () => {
      if (!done()) return;
      socket.off('data', check);
      resolve();
    };
    socket.on('data', check);
    socket.once('error', reject);
    check();
  });
}
