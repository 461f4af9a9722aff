import { Client, Connection } from '@temporalio/client';
import { afterAll, beforeAll, expect, inject, it } from 'vitest';
import { createApp } from '../../src/api/app.js';
import { apiDeps } from '../../src/api/deps.js';
import { loadConfig } from '../../src/config.js';
import { ADMIN_TOKEN, startHarness, type Harness } from '../support/harness.js';

// The simulators' clock is ours here, so a Microsoft authorization code can be let expire (10 min).
let now = Date.now();
let h: Harness;
let client: Client;

beforeAll(async () => {
  h = await startHarness({ demo: false, now: () => now });
  client = new Client({ connection: await Connection.connect({ address: inject('temporalAddress') }) });
});
afterAll(async () => {
  await client?.connection.close();
  await h?.close();
});

it('refuses an expired Microsoft authorization code and stores nothing', async () => {
  const app = createApp(apiDeps(loadConfig(h.env), h.services, client));
  const created = await app.request('/api/integrations', { method: 'POST', headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
  const { id, authorizationUrl } = (await created.json()) as { id: string; authorizationUrl: string };
  const url = new URL(authorizationUrl);
  url.searchParams.set('login_hint', h.sims.users.personal.username);
  const back = new URL((await fetch(url, { redirect: 'manual' })).headers.get('location')!);

  now += 11 * 60_000;
  const callback = await app.request(`${back.pathname}${back.search}`);
  expect(callback.status).toBe(302);
  const location = new URL(callback.headers.get('location')!, 'http://x');
  expect(location.searchParams.get('error')).toBe('invalid_grant');
  expect(await h.services.store.getTokenCache(id, 'microsoft')).toBeNull();
  expect((await h.services.store.getIntegration(id))?.microsoftAccount).toBeNull();
});
