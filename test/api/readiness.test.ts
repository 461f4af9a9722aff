import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import type { Hono } from 'hono';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../src/api/app.js';
import { apiDeps } from '../../src/api/deps.js';
import { listen } from '../../src/api/listen.js';
import { loadConfig } from '../../src/config.js';
import { workerHttp } from '../../src/roles/worker-http.js';
import { openSqliteStore } from '../../src/store/sqlite.js';
import { pollerSeen, temporalAnswers } from '../../src/temporal/readiness-checks.js';
import { startApiBed, type ApiBed } from '../support/api-bed.js';
import { dataConverter, freePort } from '../support/harness.js';

/** `GET /readyz` over real HTTP, against the run's Temporal dev server and a real store. */
let bed: ApiBed;
const servers: { close(): unknown }[] = [];
beforeAll(async () => {
  bed = await startApiBed({});
});
afterAll(async () => {
  for (const s of servers) s.close();
  await bed?.close();
});

async function readyz(app: Hono) {
  const { server, port } = await listen(app, 0, '127.0.0.1');
  servers.push(server);
  const res = await fetch(`http://127.0.0.1:${port}/readyz`);
  return { status: res.status, cache: res.headers.get('cache-control'), body: await res.json() };
}

describe('GET /readyz', () => {
  it('is 200 when the store and Temporal answer and a worker polls the task queue', async () => {
    expect(await readyz(bed.app)).toEqual({
      status: 200,
      cache: 'no-store',
      body: { status: 'ready', checks: { store: { status: 'up' }, temporal: { status: 'up' }, worker: { status: 'up' } } },
    });
  });

  it('is 503 naming the task queue when no worker polls it', async () => {
    const config = loadConfig({ ...bed.h.env, TEMPORAL_TASK_QUEUE: 'nobody-polls-this' });
    const { status, body } = await readyz(createApp(apiDeps(config, bed.h.services, bed.client)));
    expect(status).toBe(503);
    expect(body).toEqual({
      status: 'unavailable',
      checks: { store: { status: 'up' }, temporal: { status: 'up' }, worker: { status: 'down', reason: 'no worker polls the task queue nobody-polls-this' } },
    });
  });

  it('is 503 naming Temporal when the server does not answer', async () => {
    const unreachable = new Client({ connection: Connection.lazy({ address: `127.0.0.1:${await freePort()}` }), dataConverter });
    const { status, body } = await readyz(createApp(apiDeps(bed.config, bed.h.services, unreachable)));
    expect(status).toBe(503);
    expect(body).toMatchObject({ status: 'unavailable', checks: { store: { status: 'up' }, temporal: { status: 'down', reason: expect.any(String) } } });
  });

  it('is 503 naming the store when the database does not answer', async () => {
    const store = openSqliteStore(join(mkdtempSync(join(tmpdir(), 'readyz-')), 'db.sqlite'));
    await store.close();
    const rpc = bed.client.connection;
    const app = workerHttp({ store: () => store.ping(), temporal: temporalAnswers(rpc, 'default'), worker: pollerSeen(rpc, 'default', bed.config.TEMPORAL_TASK_QUEUE) });
    const { status, body } = await readyz(app);
    expect(status).toBe(503);
    expect(body).toEqual({
      status: 'unavailable',
      checks: { store: { status: 'down', reason: 'did not answer' }, temporal: { status: 'up' }, worker: { status: 'up' } },
    });
  });

  it('is in the OpenAPI document, with both answers', async () => {
    const doc = (await (await bed.app.request('/api/openapi.json')).json()) as { paths: Record<string, { get: { responses: Record<string, unknown> } }> };
    expect(Object.keys(doc.paths['/readyz']!.get.responses).sort()).toEqual(['200', '503']);
  });
});
