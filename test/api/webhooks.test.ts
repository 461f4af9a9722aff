import { randomUUID } from 'node:crypto';
import { createServer, type AddressInfo, type Socket } from 'node:net';
import { Client, Connection, WorkflowNotFoundError } from '@temporalio/client';
import { defaultPayloadConverter } from '@temporalio/common';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TransactionChange } from '../../workflows/messages.js';
import { createApp, type ApiDeps } from '../../src/api/app.js';
import { apiDeps } from '../../src/api/deps.js';
import { listen } from '../../src/api/listen.js';
import { loadConfig } from '../../src/config.js';
import { createServices, type Services } from '../../src/services.js';
import type { Store } from '../../src/store/types.js';
import { qontoSignatureHeader } from '../../src/webhooks/signature.js';
import { startApiBed, type ApiBed } from '../support/api-bed.js';
import { ADMIN_TOKEN, dataConverter } from '../support/harness.js';
import { freshDatabaseUrl } from '../support/postgres.js';
import { until } from '../support/until.js';

/**
 * `POST /webhooks/qonto` over real HTTP, with the real workflow on the run's dev server: what reaches
 * the workflow (its history's signals), what the store keeps, and what every bad delivery leaves
 * (nothing). API-key mode on Postgres (two API processes share it), then OAuth mode.
 */

const SECRET = 'whsec-test-0123456789abcdef0123456789abcdef';

interface Served {
  base: string;
  close(): Promise<void>;
}

async function serve(deps: ApiDeps): Promise<Served> {
  const { server, port } = await listen(createApp(deps), 0, '127.0.0.1');
  return { base: `http://127.0.0.1:${port}`, close: () => new Promise<void>((resolve) => (server).close(() => resolve())) };
}

interface Delivery {
  body: string | Uint8Array;
  header: string;
}

const nowSec = () => Math.floor(Date.now() / 1000);

function delivery(event: Record<string, unknown>, opts: { secret?: string; t?: number } = {}): Delivery {
  const body = JSON.stringify(event);
  return { body, header: qontoSignatureHeader(opts.secret ?? SECRET, opts.t ?? nowSec(), body) };
}

function transactionEvent(organizationId: string, transactionId: string, extra: { id?: string; subscriptionId?: string; attachmentIds?: string[] } = {}) {
  return {
    id: extra.id ?? randomUUID(),
    subscription_id: extra.subscriptionId ?? 'sub-manual',
    organization_id: organizationId,
    membership_id: 'membership-1',
    type: 'v1/transactions',
    created_at: new Date().toISOString(),
    data: { event: 'updated', id: transactionId, amount: 12.3, label: 'Shop', attachment_ids: extra.attachmentIds ?? ['att-1'] },
  };
}

async function post(base: string, d: Delivery, headers: Record<string, string> = {}): Promise<{ status: number; body: any; ms: number }> {
  const started = performance.now();
  const res = await fetch(`${base}/webhooks/qonto`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-qonto-signature': d.header, ...headers },
    body: d.body as RequestInit['body'],
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null, ms: performance.now() - started };
}

/** The store, with the calls of `method` counted. */
function counting<K extends keyof Store>(store: Store, method: K): { store: Store; calls: () => number } {
  let calls = 0;
  const counted = new Proxy(store, {
    get(target, key, receiver) {
      const value = Reflect.get(target, key, receiver) as unknown;
      if (key !== method || typeof value !== 'function') return typeof value === 'function' ? value.bind(target) : value;
      return (...args: unknown[]) => {
        calls += 1;
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
  return { store: counted, calls: () => calls };
}

/**
 * A Temporal that takes the connection and never answers (overloaded, or a half-open link). Not a
 * refused port: the client retries those on timers that outlive the request, and would then call into
 * the connection the test closes.
 */
async function blackHoleTemporal(): Promise<{ client: Client; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const client = new Client({ connection: Connection.lazy({ address: `127.0.0.1:${(server.address() as AddressInfo).port}` }), dataConverter });
  return {
    client,
    async close() {
      await client.connection.close();
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

/** The `transactionsChanged` signals in the workflow's history, decoded. */
async function signalsOf(client: Client, integrationId: string): Promise<{ changes: TransactionChange[] }[]> {
  const history = await client.workflow.getHandle(`integration-${integrationId}`).fetchHistory();
  const codec = dataConverter.payloadCodecs![0]!;
  const out: { changes: TransactionChange[] }[] = [];
  for (const event of history.events ?? []) {
    const attrs = event.workflowExecutionSignaledEventAttributes;
    if (attrs?.signalName !== 'transactionsChanged') continue;
    const [payload] = await codec.decode(attrs.input!.payloads!);
    out.push(defaultPayloadConverter.fromPayload(payload!));
  }
  return out;
}

/** Connect (with a fresh Microsoft user) and Finish through the API, as the pages do; returns the id. */
async function startIntegration(bed: ApiBed, base: string, headers: Record<string, string>): Promise<string> {
  const created = await fetch(`${base}/api/integrations`, { method: 'POST', headers });
  expect(created.status).toBe(201);
  const { id, authorizationUrl } = (await created.json()) as { id: string; authorizationUrl: string };
  const authorize = new URL(authorizationUrl);
  authorize.searchParams.set('login_hint', bed.h.newUser(`wh-${id.slice(0, 8)}`).username);
  const back = new URL((await fetch(authorize, { redirect: 'manual' })).headers.get('location')!);
  await fetch(`${base}${back.pathname}${back.search}`, { headers, redirect: 'manual' });
  const finish = await fetch(`${base}/api/integrations/${id}/finish`, {
    method: 'POST',
    headers: { ...headers, 'content-type': 'application/json' },
    body: JSON.stringify({ syncFrom: '2020-01-01' }),
  });
  expect(finish.status).toBe(202);
  return id;
}

describe('API-key mode (QONTO_WEBHOOK_SECRET, events matched by organization), two API processes on one Postgres store', () => {
  let bed: ApiBed;
  let second: Services;
  let one: Served;
  let two: Served;
  let org: string;
  let id: string;
  const auth = { authorization: `Bearer ${ADMIN_TOKEN}` };

  beforeAll(async () => {
    bed = await startApiBed({ demo: { seed: 21, accounts: 1, months: 1, receipts: 3 }, extraEnv: { DATABASE_URL: await freshDatabaseUrl(), QONTO_WEBHOOK_SECRET: SECRET } });
    second = await createServices(bed.config);
    one = await serve(apiDeps(bed.config, bed.h.services, bed.client));
    two = await serve(apiDeps(bed.config, second, bed.client));
    org = bed.h.sims.qonto.data.organization.id;
    id = await startIntegration(bed, one.base, auth);
    await until(async () => (await (await fetch(`${one.base}/api/integrations/${id}`, { headers: auth })).json()) as { status: string; nextRunAt: string | null }, (s) => s.status === 'idle' && s.nextRunAt !== null, 'the backfill');
    // The operator's manual registration, as ensureWebhookSubscription records it in API-key mode.
    await bed.h.services.store.putWebhookSubscription(id, { state: 'manual', organizationId: org, updatedAt: new Date().toISOString() });
  });

  afterAll(async () => {
    await one?.close();
    await two?.close();
    await second?.close();
    await bed?.close();
  });

  // First, while no signal has been sent: nothing else makes the workflow call Qonto or Graph now.
  it('answers 202 while Qonto and Graph do not answer at all, and calls neither', async () => {
    const { qonto, graph } = bed.h.sims;
    const stalls = [qonto.faults.addRandom({}, { kind: 'stall' }, { fraction: 1 }), graph.faults.addRandom({}, { kind: 'stall' }, { fraction: 1 })];
    try {
      const qontoBefore = qonto.requests.length;
      const graphBefore = { ...graph.traffic.requests };
      const res = await post(two.base, delivery(transactionEvent(org, 'tx-stalled')));
      expect(res).toMatchObject({ status: 202, body: { status: 'accepted' } });
      expect(qonto.requests.length).toBe(qontoBefore);
      expect(graph.traffic.requests).toEqual(graphBefore);
    } finally {
      qonto.faults.remove(stalls[0]!);
      graph.faults.remove(stalls[1]!);
    }
  });

  it('hands a verified transaction event to the workflow as a signal, with ids only, and answers 202', async () => {
    const res = await post(one.base, delivery(transactionEvent(org, 'tx-valid', { attachmentIds: ['att-9'] })));
    expect(res).toMatchObject({ status: 202, body: { status: 'accepted' } });
    const signals = await signalsOf(bed.client, id);
    const change = signals.flatMap((s) => s.changes).find((c) => c.transactionId === 'tx-valid');
    expect(change).toEqual({ transactionId: 'tx-valid', attachmentIds: ['att-9'], receivedAt: expect.any(String) });
  });

  it("takes a delivery up to 64 KiB (a transfer's details make some large), and counts it by outcome", async () => {
    const accepted = async () => {
      const text = await (await fetch(`${one.base}/metrics`)).text();
      return Number(/^receipts_sync_qonto_webhook_deliveries_total\{outcome="accepted"\} (\d+)$/m.exec(text)?.[1]);
    };
    const before = await accepted();
    const event = transactionEvent(org, 'tx-large');
    const res = await post(one.base, delivery({ ...event, data: { ...event.data, transfer: { note: 'x'.repeat(40 * 1024) } } }));
    expect(res).toMatchObject({ status: 202, body: { status: 'accepted' } });
    expect(await accepted()).toBe(before + 1);
  });

  it('refuses every bad delivery with a 4xx, records nothing and signals nothing', async () => {
    const eventId = randomUUID();
    const event = transactionEvent(org, 'tx-bad', { id: eventId });
    const good = delivery(event);
    const raw = (body: string | Uint8Array, header = qontoSignatureHeader(SECRET, nowSec(), body)): Delivery => ({ body, header });
    const cases: [string, () => Promise<{ status: number; body: any }>, number, string][] = [
      ['forged (another secret)', () => post(one.base, delivery(event, { secret: 'not-the-secret-0123456789abcdef0123456789' })), 401, 'invalid_signature'],
      ['stale (t − 301 s)', () => post(one.base, delivery(event, { t: nowSec() - 301 })), 401, 'stale_signature'],
      ['an 11-digit t', () => post(one.base, delivery(event, { t: 10_000_000_000 })), 401, 'stale_signature'],
      ['no signature', () => post(one.base, { body: good.body, header: '' }), 401, 'invalid_signature'],
      ['a malformed signature', () => post(one.base, { body: good.body, header: 't=abc,v1=zz' }), 401, 'invalid_signature'],
      ['a signature of another body', () => post(one.base, { body: (good.body as string).replace('tx-bad', 'tx-evil'), header: good.header }), 401, 'invalid_signature'],
      ['bad JSON', () => post(one.base, raw('{"id": ')), 400, 'bad_request'],
      ['a JSON array', () => post(one.base, raw('[1,2,3]')), 400, 'bad_request'],
      ['malformed UTF-8', () => post(one.base, raw(Buffer.concat([Buffer.from(good.body.slice(0, -1)), Buffer.from(',"x":"'), Buffer.from([0xff, 0xfe]), Buffer.from('"}')]))), 400, 'bad_request'],
      ['not a delivery', () => post(one.base, raw(JSON.stringify({ ...event, data: 'tx-bad' }))), 400, 'bad_request'],
      ['70 KB', () => post(one.base, raw(JSON.stringify({ ...event, pad: 'x'.repeat(70 * 1024) }))), 413, 'payload_too_large'],
      ['text/plain', () => post(one.base, good, { 'content-type': 'text/plain' }), 415, 'unsupported_media_type'],
    ];
    const before = (await signalsOf(bed.client, id)).length;
    for (const [name, send, status, code] of cases) {
      const res = await send();
      expect({ name, status: res.status, code: res.body?.error?.code }).toEqual({ name, status, code });
    }
    expect(await signalsOf(bed.client, id)).toHaveLength(before);
    // No event row was written: the genuine delivery of the same event id is new, not a duplicate.
    expect(await post(one.base, good)).toMatchObject({ status: 202, body: { status: 'accepted' } });
  });

  it('takes 50 concurrent copies of one delivery, across two API processes, as new exactly once, in one signal per process', async () => {
    // Each copy is signalled before it is recorded (so a crash in between never turns Qonto's retry into
    // a duplicate); the forwarder of each process coalesces the copies within its window into one
    // signal. A window of 2 s (the budget 5 s) holds all 50 copies sent at once, even on a loaded machine.
    const tuned = (services: Services) => {
      const deps = apiDeps(bed.config, services, bed.client);
      return serve({ ...deps, webhooks: { ...deps.webhooks, forwarder: { windowMs: 2_000 }, budgetMs: 5_000 } });
    };
    const processes = [await tuned(bed.h.services), await tuned(second)];
    try {
      const d = delivery(transactionEvent(org, 'tx-dup'));
      const results = await Promise.all(Array.from({ length: 50 }, (_, i) => post(processes[i % 2]!.base, d)));
      expect(results.filter((r) => r.status === 202)).toHaveLength(1);
      expect(results.filter((r) => r.status === 200 && r.body.status === 'duplicate')).toHaveLength(49);
      const carrying = (await signalsOf(bed.client, id)).filter((s) => s.changes.some((c) => c.transactionId === 'tx-dup'));
      expect(carrying.length).toBeGreaterThanOrEqual(1);
      expect(carrying.length).toBeLessThanOrEqual(2);
    } finally {
      for (const p of processes) await p.close();
    }
  });

  it("reads an organization's integrations once for a burst of its deliveries, not once per delivery", async () => {
    const { store, calls } = counting(bed.h.services.store, 'integrationsOfOrganization');
    const burst = await serve({ ...apiDeps(bed.config, bed.h.services, bed.client), store });
    try {
      for (let n = 0; n < 6; n++) expect(await post(burst.base, delivery(transactionEvent(org, `tx-burst-${n}`)))).toMatchObject({ status: 202 });
      // Once, or twice should the machine be so slow that the few seconds of the cache ran out meanwhile.
      expect(calls()).toBeLessThanOrEqual(2);
    } finally {
      await burst.close();
    }
  });

  it('answers 200 ignored to a verified event of an organization without an integration, 401 when there is no secret to check', async () => {
    expect(await post(one.base, delivery(transactionEvent('another-organization', 'tx-x')))).toMatchObject({ status: 200, body: { status: 'ignored' } });
    const noSecret = await serve({ ...apiDeps(bed.config, bed.h.services, bed.client), webhooks: { apiKeySecrets: [] } });
    try {
      const res = await post(noSecret.base, delivery(transactionEvent(org, 'tx-x')));
      expect(res).toMatchObject({ status: 401, body: { error: { code: 'unknown_subscription' } } });
    } finally {
      await noSecret.close();
    }
  });

  it('answers 200 ignored for an integration still connecting, and starts no workflow', async () => {
    const connecting = randomUUID();
    await bed.h.services.store.createIntegration({ id: connecting });
    await bed.h.services.store.putWebhookSubscription(connecting, { state: 'manual', organizationId: 'org-connecting', updatedAt: new Date().toISOString() });
    expect(await post(one.base, delivery(transactionEvent('org-connecting', 'tx-early')))).toMatchObject({ status: 200, body: { status: 'ignored' } });
    await expect(bed.client.workflow.getHandle(`integration-${connecting}`).describe()).rejects.toBeInstanceOf(WorkflowNotFoundError);
  });

  it('answers 429 to an address past its limit of refused deliveries (ten times AUTH_FAILURE_LIMIT), even for a genuine one', async () => {
    // Ten times AUTH_FAILURE_LIMIT.
    const limited = await serve(apiDeps(loadConfig({ ...bed.h.env, TEMPORAL_TASK_QUEUE: bed.config.TEMPORAL_TASK_QUEUE, AUTH_FAILURE_LIMIT: '1' }), bed.h.services, bed.client));
    try {
      const forged = delivery(transactionEvent(org, 'tx-guess'), { secret: 'a-guess-0123456789abcdef0123456789abcdef' });
      for (let i = 0; i < 10; i++) expect((await post(limited.base, forged)).status).toBe(401);
      const res = await post(limited.base, delivery(transactionEvent(org, 'tx-guess')));
      expect(res).toMatchObject({ status: 429, body: { error: { code: 'too_many_requests' } } });
    } finally {
      await limited.close();
    }
  });

  it('answers a burst of genuine deliveries from one address, more in flight than its limit of refused ones, without a 429', async () => {
    // Ten times AUTH_FAILURE_LIMIT: 10 refused deliveries; each of these waits at least the forwarder's window.
    const limited = await serve(apiDeps(loadConfig({ ...bed.h.env, TEMPORAL_TASK_QUEUE: bed.config.TEMPORAL_TASK_QUEUE, AUTH_FAILURE_LIMIT: '1' }), bed.h.services, bed.client));
    try {
      const results = await Promise.all(Array.from({ length: 30 }, (_, n) => post(limited.base, delivery(transactionEvent(org, `tx-flight-${n}`)))));
      expect(results.map((r) => r.status)).toEqual(Array(30).fill(202));
    } finally {
      await limited.close();
    }
  });

  it('answers 503 when Temporal cannot take the signal, within the budget, and records nothing: the retry is taken', async () => {
    const unreachable = await blackHoleTemporal();
    // A budget of 300 ms, so that a loaded machine still answers within Qonto's 1 s: the budget, not
    // the client's 10 s connection timeout, ends the wait.
    const deps = apiDeps(bed.config, bed.h.services, unreachable.client);
    const down = await serve({ ...deps, webhooks: { ...deps.webhooks, budgetMs: 300 } });
    const d = delivery(transactionEvent(org, 'tx-retry'));
    try {
      const res = await post(down.base, d);
      expect(res).toMatchObject({ status: 503, body: { error: { code: 'unavailable' } } });
      expect(res.ms).toBeLessThan(1_000);
      // Copies arriving while the first waits are not taken for duplicates of an event nobody holds.
      const copies = await Promise.all(Array.from({ length: 5 }, () => post(down.base, d)));
      expect(copies.map((r) => [r.status, r.body?.error?.code])).toEqual(Array(5).fill([503, 'unavailable']));
    } finally {
      await down.close();
      await unreachable.close();
    }
    expect(await post(one.base, d)).toMatchObject({ status: 202, body: { status: 'accepted' } });
  });

});

describe('OAuth mode (one subscription per integration, its secret sealed in the store)', () => {
  let bed: ApiBed;
  let app: Served;
  let org: string;
  let id: string;
  let cookie: string;
  const secret = 'oauth-subscription-secret-0123456789abcdefghij';
  const subscriptionId = `sub-${randomUUID()}`;
  const signed = (event: Record<string, unknown>) => delivery(event, { secret });
  const revocation = (clientId: string) => ({
    id: randomUUID(),
    subscription_id: subscriptionId,
    organization_id: org,
    membership_id: 'membership-1',
    type: 'v1/consent-revocations',
    created_at: new Date().toISOString(),
    data: { client_id: clientId },
  });

  /** Signs in with Qonto as the owner, as a browser would; returns the session cookie. */
  async function ownerSession(): Promise<string> {
    const cookieOf = (res: Response, name: string) =>
      res.headers
        .getSetCookie()
        .map((c) => c.split(';')[0]!)
        .find((c) => c.startsWith(`${name}=`));
    const login = await fetch(`${app.base}/auth/qonto/login`, { redirect: 'manual' });
    const authorize = new URL(login.headers.get('location')!);
    authorize.searchParams.set('login_hint', bed.h.sims.demo!.membershipIds.owner);
    const back = new URL((await fetch(authorize, { redirect: 'manual' })).headers.get('location')!);
    const callback = await fetch(`${app.base}${back.pathname}${back.search}`, { redirect: 'manual', headers: { cookie: cookieOf(login, 'qonto_oauth_state')! } });
    return cookieOf(callback, 'session')!;
  }

  beforeAll(async () => {
    bed = await startApiBed({ qontoMode: 'oauth', demo: { seed: 22, accounts: 1, months: 1, receipts: 3 } });
    app = await serve(apiDeps(bed.config, bed.h.services, bed.client));
    org = bed.h.sims.qonto.data.organization.id;
    cookie = await ownerSession();
    id = await startIntegration(bed, app.base, { cookie });
    await until(async () => (await (await fetch(`${app.base}/api/integrations/${id}`, { headers: { cookie } })).json()) as { status: string; nextRunAt: string | null }, (s) => s.status === 'idle' && s.nextRunAt !== null, 'the backfill');
    await bed.h.services.store.putWebhookSubscription(id, {
      subscriptionId,
      organizationId: org,
      sealedSecret: bed.h.services.sealer.seal(Buffer.from(secret), `webhook-secret:${id}`),
      state: 'active',
      updatedAt: new Date().toISOString(),
    });
  });

  afterAll(async () => {
    await app?.close();
    await bed?.close();
  });

  it('answers 401 to a subscription it has no secret for', async () => {
    const res = await post(app.base, signed(transactionEvent(org, 'tx-1', { subscriptionId: 'sub-unknown' })));
    expect(res).toMatchObject({ status: 401, body: { error: { code: 'unknown_subscription' } } });
  });

  it("does not count unknown subscriptions toward the address's failure limit (Qonto's sender is shared), and looks each up once", async () => {
    // Ten times AUTH_FAILURE_LIMIT: 10 refused deliveries.
    const { store, calls } = counting(bed.h.services.store, 'webhookSecrets');
    const limited = await serve({ ...apiDeps(loadConfig({ ...bed.h.env, TEMPORAL_TASK_QUEUE: bed.config.TEMPORAL_TASK_QUEUE, AUTH_FAILURE_LIMIT: '1' }), bed.h.services, bed.client), store });
    try {
      const orphan = signed(transactionEvent(org, 'tx-orphan', { subscriptionId: 'sub-deleted-here' }));
      for (let i = 0; i < 12; i++) expect(await post(limited.base, orphan)).toMatchObject({ status: 401, body: { error: { code: 'unknown_subscription' } } });
      expect(calls()).toBe(1);
      expect(await post(limited.base, signed(transactionEvent(org, 'tx-after-orphans', { subscriptionId })))).toMatchObject({ status: 202, body: { status: 'accepted' } });
      // Forged signatures still count.
      for (let i = 0; i < 10; i++) expect((await post(limited.base, delivery(transactionEvent(org, 'tx-forged', { subscriptionId })))).status).toBe(401);
      expect(await post(limited.base, signed(transactionEvent(org, 'tx-after-forged', { subscriptionId })))).toMatchObject({ status: 429 });
    } finally {
      await limited.close();
    }
  });

  it("verifies a delivery with its subscription's secret and signals that integration", async () => {
    expect(await post(app.base, delivery(transactionEvent(org, 'tx-oauth', { subscriptionId })))).toMatchObject({ status: 401, body: { error: { code: 'invalid_signature' } } });
    expect(await post(app.base, signed(transactionEvent(org, 'tx-oauth', { subscriptionId })))).toMatchObject({ status: 202, body: { status: 'accepted' } });
    expect((await signalsOf(bed.client, id)).flatMap((s) => s.changes).map((c) => c.transactionId)).toContain('tx-oauth');
  });

  it('ignores a consent revocation of another OAuth client', async () => {
    expect(await post(app.base, signed(revocation('someone-elses-client')))).toMatchObject({ status: 200, body: { status: 'ignored' } });
    expect(await bed.h.services.store.getTokenCache(id, 'qonto')).not.toBeNull();
    expect((await bed.h.services.store.getIntegration(id))?.status).not.toBe('revoked');
  });

  it('withdraws the integration on a consent revocation of ours, as the revoke endpoint does, without calling Qonto; Temporal down first: 503, and the retry stops the workflow', async () => {
    const qontoBefore = bed.h.sims.qonto.requests.length;
    const store = bed.h.services.store;
    const d = signed(revocation(bed.config.QONTO_CLIENT_ID!));
    // A Temporal that refuses the signal at once (here: a namespace it does not know). The store steps
    // are done, the workflow was not told: Qonto must retry.
    const refusing = await serve(apiDeps(bed.config, bed.h.services, new Client({ connection: bed.client.connection, namespace: `missing-${randomUUID()}`, dataConverter })));
    try {
      expect(await post(refusing.base, d)).toMatchObject({ status: 503, body: { error: { code: 'unavailable' } } });
      expect(await store.getIntegration(id)).toMatchObject({ status: 'revoked', revokedReason: 'withdrawn_in_qonto' });
    } finally {
      await refusing.close();
    }
    // The retry meets a Temporal that never answers: the budget ends it, 503 again.
    const unreachable = await blackHoleTemporal();
    const deps = apiDeps(bed.config, bed.h.services, unreachable.client);
    const down = await serve({ ...deps, webhooks: { ...deps.webhooks, budgetMs: 300 } });
    try {
      expect(await post(down.base, d)).toMatchObject({ status: 503, body: { error: { code: 'unavailable' } } });
    } finally {
      await down.close();
      await unreachable.close();
    }
    // Qonto's retry reaches another API process (nothing cached): the row is already revoked, the
    // workflow is told again.
    const other = await serve(apiDeps(bed.config, bed.h.services, bed.client));
    try {
      expect(await post(other.base, d)).toMatchObject({ status: 202, body: { status: 'accepted' } });
    } finally {
      await other.close();
    }
    expect(await store.getTokenCache(id, 'qonto')).toBeNull();
    expect(await store.getTokenCache(id, 'microsoft')).toBeNull();
    expect(await store.getIntegration(id)).toMatchObject({ status: 'revoked', revokedReason: 'withdrawn_in_qonto' });
    expect(((await bed.client.workflow.getHandle(`integration-${id}`).result()) as { status: string }).status).toBe('revoked');
    expect((await store.getWebhookSubscription(id))?.state).toBe('revoked');
    // Neither the withdrawal nor the workflow's stop asked Qonto anything: it withdrew the consent itself.
    expect(bed.h.sims.qonto.requests.slice(qontoBefore)).toEqual([]);
    // A late retry still verifies (the secret stays as a tombstone) and is acknowledged, doing nothing.
    expect(await post(app.base, signed(transactionEvent(org, 'tx-late', { subscriptionId })))).toMatchObject({ status: 200, body: { status: 'ignored' } });
  });
});
