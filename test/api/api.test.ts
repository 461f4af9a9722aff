import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Client } from '@temporalio/client';
import type { Hono } from 'hono';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nextDailyRun, spreadOffsetMs } from '../../src/sync/spread.js';
import { startApiBed, type ApiBed } from '../support/api-bed.js';
import { ADMIN_TOKEN, type Harness } from '../support/harness.js';
import { until } from '../support/until.js';

/** The HTTP API in API-key mode, over app.request(), with the real workflow on the run's dev server. */
const ADMIN = ADMIN_TOKEN;
const auth = { authorization: `Bearer ${ADMIN}` };

let bed: ApiBed;
let h: Harness;
let app: Hono;
let client: Client;

beforeAll(async () => {
  bed = await startApiBed({ demo: { seed: 3, accounts: 1, months: 1, receipts: 6 } });
  ({ h, app, client } = bed);
});

afterAll(() => bed?.close());

const call = async (method: string, path: string, body?: unknown, headers: Record<string, string> = auth): Promise<Response> =>
  app.request(path, {
    method,
    headers: { ...headers, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });

/** Plays the browser: follows the authorize URL (the simulator signs `username` in at once) back to our callback. */
async function signIn(authorizationUrl: string, username: string): Promise<Response> {
  const url = new URL(authorizationUrl);
  url.searchParams.set('login_hint', username);
  const res = await fetch(url, { redirect: 'manual' });
  const back = new URL(res.headers.get('location')!);
  return app.request(`${back.pathname}${back.search}`);
}

describe('API flow (API-key mode)', () => {
  it('connects, finishes, reports status, reconfigures, syncs now and revokes', async () => {
    const created = await call('POST', '/api/integrations');
    expect(created.status).toBe(201);
    const { id, authorizationUrl } = (await created.json()) as { id: string; authorizationUrl: string };
    expect(new URL(authorizationUrl).searchParams.get('code_challenge_method')).toBe('S256');

    const user = h.newUser(`api-${id.slice(0, 8)}`);
    const callback = await signIn(authorizationUrl, user.username);
    expect(callback.status).toBe(302);
    expect(callback.headers.get('location')).toContain(`integration=${id}`);
    expect(callback.headers.get('location')).toContain('connected=');

    const finish = () => call('POST', `/api/integrations/${id}/finish`, { syncFrom: '2020-01-01', timeZone: 'Europe/Berlin' });
    const [first, second] = await Promise.all([finish(), finish()]);
    expect([first.status, second.status]).toEqual([202, 202]);
    const idle = await until(async () => (await (await call('GET', `/api/integrations/${id}`)).json()) as { status: string; counts: { exported: number }; nextRunAt: string | null; timeZone: string; probativeCopies: boolean; lastRun: { finishedAt: string } }, (s) => s.status === 'idle' && s.nextRunAt !== null, 'the backfill');
    expect(idle.counts.exported).toBeGreaterThan(0);
    expect(idle.timeZone).toBe('Europe/Berlin');
    expect(idle.probativeCopies).toBe(false);
    // The real next run: SYNC_TIME in the zone plus this integration's offset in the spread window.
    expect(idle.nextRunAt).toBe(new Date(nextDailyRun(Date.parse(idle.lastRun.finishedAt), 'Europe/Berlin', 23, 30, spreadOffsetMs(id, h.config.SYNC_SPREAD_MINUTES))).toISOString());
    expect((await client.workflow.getHandle(`integration-${id}`).describe()).status.name).toBe('RUNNING');

    expect((await call('PATCH', `/api/integrations/${id}`, { timeZone: 'Europe/Paris' })).status).toBe(202);
    await until(async () => (await (await call('GET', `/api/integrations/${id}`)).json()) as { timeZone: string; status: string }, (s) => s.timeZone === 'Europe/Paris' && s.status === 'idle', 'the reconfiguration');
    const probative = await call('PATCH', `/api/integrations/${id}`, { probativeCopies: true });
    expect(probative.status).toBe(202);
    expect(await probative.json()).toEqual({ id, accepted: { probativeCopies: true } });
    expect(((await (await call('GET', `/api/integrations/${id}`)).json()) as { probativeCopies: boolean }).probativeCopies).toBe(true);
    expect((await call('POST', `/api/integrations/${id}/sync`)).status).toBe(202);

    const list = (await (await call('GET', '/api/integrations')).json()) as { integrations: { id: string }[] };
    expect(list.integrations.map((i) => i.id)).toContain(id);

    const revoked = await call('POST', `/api/integrations/${id}/revoke`);
    expect(revoked.status).toBe(200);
    expect(await h.services.store.getTokenCache(id, 'microsoft')).toBeNull();
    expect((await h.services.store.getIntegration(id))?.revokedReason).toBe('withdrawn_here');
    const handle = client.workflow.getHandle(`integration-${id}`);
    expect(((await handle.result()) as { status: string }).status).toBe('revoked');
    expect(((await (await call('GET', `/api/integrations/${id}`)).json()) as { status: string }).status).toBe('revoked');
  });

  it('goes to reconnect_required when consent is withdrawn at Microsoft, and connecting again resumes it', async () => {
    const { id, authorizationUrl } = (await (await call('POST', '/api/integrations')).json()) as { id: string; authorizationUrl: string };
    const user = h.newUser(`again-${id.slice(0, 8)}`);
    await signIn(authorizationUrl, user.username);
    expect((await call('POST', `/api/integrations/${id}/finish`, { syncFrom: '2020-01-01' })).status).toBe(202);
    const status = async () => (await (await call('GET', `/api/integrations/${id}`)).json()) as { status: string; nextRunAt: string | null; signInEnded: string | null };
    await until(status, (s) => s.status === 'idle' && s.nextRunAt !== null, 'the backfill');

    h.sims.directory.revokeUser(user.id);
    expect((await call('POST', `/api/integrations/${id}/sync`)).status).toBe(202);
    expect((await until(status, (s) => s.status === 'reconnect_required', 'reconnect_required')).signInEnded).toBe('microsoft');

    const again = (await (await call('POST', '/api/integrations')).json()) as { id: string; authorizationUrl: string };
    const callback = await signIn(again.authorizationUrl, user.username);
    expect(callback.headers.get('location')).toContain(`integration=${id}`);
    expect(callback.headers.get('location')).toContain('resumed=true');
    expect((await call('GET', `/api/integrations/${again.id}`)).status).toBe(404);
    await until(status, (s) => s.status === 'idle' && s.nextRunAt !== null, 'the run after reconnecting');
  });

  it('answers 409 revoked to sync and reconfigure of a withdrawn integration, and signals nothing', async () => {
    const { id, authorizationUrl } = (await (await call('POST', '/api/integrations')).json()) as { id: string; authorizationUrl: string };
    await signIn(authorizationUrl, h.newUser(`withdrawn-${id.slice(0, 8)}`).username);
    expect((await call('POST', `/api/integrations/${id}/finish`, { syncFrom: '2020-01-01' })).status).toBe(202);
    await until(async () => (await (await call('GET', `/api/integrations/${id}`)).json()) as { status: string; nextRunAt: string | null }, (s) => s.status === 'idle' && s.nextRunAt !== null, 'the backfill');
    const handle = client.workflow.getHandle(`integration-${id}`);
    const { runId } = await handle.describe();

    // Withdrawn in the store while its workflow still runs (the revoke signal has not reached it yet).
    await h.services.store.updateIntegration(id, { status: 'revoked' });
    for (const res of [await call('POST', `/api/integrations/${id}/sync`), await call('PATCH', `/api/integrations/${id}`, { syncFrom: '2021-01-01' })]) {
      expect(res.status).toBe(409);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe('revoked');
    }

    const after = await handle.describe();
    expect(after.status.name).toBe('RUNNING');
    expect(after.runId).toBe(runId);
    const events = (await handle.fetchHistory()).events ?? [];
    expect(events.filter((e) => e.workflowExecutionSignaledEventAttributes)).toEqual([]);
    expect((await h.services.store.getIntegration(id))?.syncFrom).toBe('2020-01-01');
    await handle.signal('revoke');
    await handle.result();
  });

  it('refuses a work or school account and stores nothing', async () => {
    const { id, authorizationUrl } = (await (await call('POST', '/api/integrations')).json()) as { id: string; authorizationUrl: string };
    const callback = await signIn(authorizationUrl, h.sims.users.work.username);
    expect(callback.headers.get('location')).toContain('error=work_or_school_account');
    expect(await h.services.store.getTokenCache(id, 'microsoft')).toBeNull();
    expect((await h.services.store.getIntegration(id))?.microsoftAccount).toBeNull();
    expect((await call('POST', `/api/integrations/${id}/finish`, { syncFrom: '2020-01-01' })).status).toBe(409);
  });

  it('refuses a replayed or unknown state, and passes on a refusal by the user', async () => {
    const { authorizationUrl } = (await (await call('POST', '/api/integrations')).json()) as { authorizationUrl: string };
    const url = new URL(authorizationUrl);
    url.searchParams.set('login_hint', h.sims.users.personal.username);
    const back = new URL((await fetch(url, { redirect: 'manual' })).headers.get('location')!);
    expect((await app.request(`${back.pathname}${back.search}`)).status).toBe(302);
    const replay = await app.request(`${back.pathname}${back.search}`);
    expect(replay.status).toBe(400);
    expect(((await replay.json()) as { error: { code: string } }).error.code).toBe('invalid_state');

    const { authorizationUrl: second } = (await (await call('POST', '/api/integrations')).json()) as { authorizationUrl: string };
    const state = new URL(second).searchParams.get('state')!;
    const denied = await app.request(`/auth/microsoft/callback?state=${state}&error=access_denied&error_description=The+user+declined`);
    expect(denied.headers.get('location')).toContain('error=access_denied');
  });

  it('keeps no readable token in the database file', async () => {
    const issued: string[] = [];
    for (const integration of await h.services.store.listIntegrations()) {
      if (await h.services.store.getTokenCache(integration.id, 'microsoft')) issued.push(await h.services.microsoftAuth.getAccessToken(integration.id));
    }
    expect(issued.length).toBeGreaterThan(0);
    const files = ['receipts.sqlite', 'receipts.sqlite-wal'].map((f) => {
      try {
        return readFileSync(join(h.dataDir, f));
      } catch {
        return Buffer.alloc(0);
      }
    });
    // `"secret"` as MSAL's cache names a token's value (the schema's column `sealed_secret` holds sealed bytes).
    for (const needle of [...issued, 'access_token', 'refresh_token', 'RefreshToken', 'AccessToken', '"secret"']) {
      for (const file of files) expect(file.includes(Buffer.from(needle))).toBe(false);
    }
  });

  it('describes every route in the OpenAPI document', async () => {
    const doc = (await (await app.request('/api/openapi.json')).json()) as { paths: Record<string, Record<string, unknown>> };
    const routes = app.routes.filter((r) => r.method !== 'ALL').map((r) => ({ method: r.method.toLowerCase(), path: r.path.replace(/:(\w+)/g, '{$1}') }));
    expect(routes.length).toBeGreaterThan(8);
    for (const r of routes) expect(doc.paths[r.path]?.[r.method], `${r.method} ${r.path}`).toBeDefined();
  });

  it('documents each answer of a route, error codes included, from the schemas that validate', async () => {
    type Answer = { content?: Record<string, { schema: { properties?: { error?: { properties: { code: { enum?: string[] } } } } } }> };
    const doc = (await (await app.request('/api/openapi.json')).json()) as { paths: Record<string, Record<string, { responses: Record<string, Answer> }>> };
    const sync = doc.paths['/api/integrations/{id}/sync']!.post!.responses;
    expect(Object.keys(sync).sort()).toEqual(['202', '400', '401', '403', '404', '409', '413', '429']);
    expect(sync['409']!.content!['application/json']!.schema.properties!.error!.properties.code.enum).toEqual(['not_running', 'revoked']);
    expect(Object.keys(doc.paths['/api/integrations/{id}/finish']!.post!.responses)).toContain('415');
  });

  it('documents the Qonto webhook receiver: its signature header, body and every answer', async () => {
    type Operation = { tags: string[]; parameters: { in: string; name: string; required?: boolean }[]; requestBody: { content: Record<string, unknown> }; responses: Record<string, unknown> };
    const doc = (await (await app.request('/api/openapi.json')).json()) as { paths: Record<string, Record<string, Operation>> };
    const post = doc.paths['/webhooks/qonto']?.post;
    expect(post?.tags).toEqual(['webhooks']);
    expect(post?.parameters).toContainEqual(expect.objectContaining({ in: 'header', name: 'x-qonto-signature', required: true }));
    expect(Object.keys(post!.requestBody.content)).toEqual(['application/json']);
    expect(Object.keys(post!.responses).sort()).toEqual(['200', '202', '400', '401', '413', '415', '429', '503']);
  });
});

describe('bad requests get a 4xx JSON error', () => {
  const future = new Date(Date.now() + 5 * 86_400_000).toISOString().slice(0, 10);
  let known: string;
  beforeAll(async () => {
    known = ((await (await call('POST', '/api/integrations')).json()) as { id: string }).id;
  });
  const cases: [string, () => Promise<Response>, number, string][] = [
    ['no credentials', () => call('GET', '/api/integrations', undefined, {}), 401, 'unauthenticated'],
    ['wrong token', () => call('GET', '/api/integrations', undefined, { authorization: 'Bearer nope' }), 403, 'forbidden'],
    ['basic auth', () => call('GET', '/api/integrations', undefined, { authorization: 'Basic YWRtaW46YWRtaW4=' }), 401, 'unauthenticated'],
    ['unknown id', () => call('GET', '/api/integrations/00000000-0000-0000-0000-000000000000'), 404, 'not_found'],
    ['malformed id', () => call('GET', '/api/integrations/..%2F..%2Fetc'), 400, 'invalid_request'],
    ['missing receipts, no credentials', () => call('GET', `/api/integrations/${known}/missing-receipts`, undefined, {}), 401, 'unauthenticated'],
    ['missing receipts, unknown id', () => call('GET', '/api/integrations/00000000-0000-0000-0000-000000000000/missing-receipts'), 404, 'not_found'],
    ['missing receipts, unknown format', () => call('GET', `/api/integrations/${known}/missing-receipts?format=xlsx`), 400, 'invalid_request'],
    ['unknown route', () => call('GET', '/api/nothing-here'), 404, 'not_found'],
    ['bad JSON', () => call('POST', `/api/integrations/${known}/finish`, '{"syncFrom": '), 400, 'bad_request'],
    ['missing syncFrom', () => call('POST', `/api/integrations/${known}/finish`, {}), 400, 'invalid_request'],
    ['syncFrom a number', () => call('POST', `/api/integrations/${known}/finish`, { syncFrom: 20260101 }), 400, 'invalid_request'],
    ['syncFrom malformed', () => call('POST', `/api/integrations/${known}/finish`, { syncFrom: '01/02/2026' }), 400, 'invalid_request'],
    ['syncFrom impossible', () => call('POST', `/api/integrations/${known}/finish`, { syncFrom: '2026-02-30' }), 400, 'invalid_request'],
    ['syncFrom before Qonto existed', () => call('POST', `/api/integrations/${known}/finish`, { syncFrom: '1999-12-31' }), 400, 'invalid_request'],
    ['syncFrom in the future', () => call('POST', `/api/integrations/${known}/finish`, { syncFrom: future }), 400, 'invalid_request'],
    ['invalid zone', () => call('POST', `/api/integrations/${known}/finish`, { syncFrom: '2026-01-01', timeZone: 'Mars/Olympus' }), 400, 'invalid_request'],
    ['zone as offset', () => call('POST', `/api/integrations/${known}/finish`, { syncFrom: '2026-01-01', timeZone: '+02:00' }), 400, 'invalid_request'],
    ['unknown field', () => call('POST', `/api/integrations/${known}/finish`, { syncFrom: '2026-01-01', startNow: true }), 400, 'invalid_request'],
    ['body is an array', () => call('POST', `/api/integrations/${known}/finish`, [1, 2]), 400, 'invalid_request'],
    ['finish before sign-in', () => call('POST', `/api/integrations/${known}/finish`, { syncFrom: '2026-01-01' }), 409, 'not_connected'],
    ['finish unknown id', () => call('POST', '/api/integrations/abc/finish', { syncFrom: '2026-01-01' }), 404, 'not_found'],
    ['empty reconfigure', () => call('PATCH', `/api/integrations/${known}`, {}), 400, 'invalid_request'],
    ['probativeCopies not a boolean', () => call('POST', `/api/integrations/${known}/finish`, { syncFrom: '2026-01-01', probativeCopies: 'yes' }), 400, 'invalid_request'],
    ['reconfigure probativeCopies null', () => call('PATCH', `/api/integrations/${known}`, { probativeCopies: null }), 400, 'invalid_request'],
    ['reconfigure bad zone', () => call('PATCH', `/api/integrations/${known}`, { timeZone: 'Nowhere' }), 400, 'invalid_request'],
    ['reconfigure not running', () => call('PATCH', `/api/integrations/${known}`, { timeZone: 'Europe/Paris' }), 409, 'not_running'],
    ['sync not running', () => call('POST', `/api/integrations/${known}/sync`), 409, 'not_running'],
    ['body not JSON', () => call('PATCH', `/api/integrations/${known}`, undefined, { ...auth, 'content-type': 'text/plain' }), 415, 'unsupported_media_type'],
    ['method not allowed', () => call('DELETE', `/api/integrations/${known}`), 405, 'method_not_allowed'],
    ['codec, another method', () => call('PUT', '/codec/decode', { payloads: [] }, { ...auth, 'content-type': 'application/json', 'x-namespace': '' }), 405, 'method_not_allowed'],
    ['oversized body', () => call('POST', `/api/integrations/${known}/finish`, { syncFrom: '2026-01-01', pad: 'x'.repeat(40_000) }), 413, 'payload_too_large'],
    ['callback without state', async () => app.request('/auth/microsoft/callback?code=abc'), 400, 'invalid_request'],
    ['callback unknown state', async () => app.request('/auth/microsoft/callback?code=abc&state=forged'), 400, 'invalid_state'],
  ];
  it.each(cases)('%s', async (_name, send, status, code) => {
    const res = await send();
    expect(res.status).toBe(status);
    const body = (await res.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe(code);
    expect(body.error.message.length).toBeGreaterThan(0);
  });
});
