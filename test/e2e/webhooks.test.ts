import { randomUUID } from 'node:crypto';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import { apiDeps } from '../../src/api/deps.js';
import { createApp } from '../../src/api/app.js';
import { listen } from '../../src/api/listen.js';
import { loadConfig, type Config } from '../../src/config.js';
import type { SimulatorsOptions } from '../../src/simulators/index.js';
import type { SimAttachment, SimTransaction } from '../../src/simulators/qonto/data.js';
import { TRANSACTIONS_TYPE } from '../../src/simulators/qonto/webhooks.js';
import { settingsFrom, startIntegration } from '../../src/temporal/integrations.js';
import { bundleWorkflows, createWorker } from '../../src/temporal/worker.js';
import type { IntegrationSettings, IntegrationView } from '../../workflows/state.js';
import { driveMismatches, expectedReceipts } from '../support/expectations.js';
import { ADMIN_TOKEN, dataConverter, freePort, startHarness, type Harness, type HarnessOptions } from '../support/harness.js';
import { SYNC_FROM, Testbed, ZONE, sleepingAfter } from '../support/testbed.js';
import { handleOf, waitForStatus } from '../support/workflow.js';

/**
 * Qonto's webhooks end to end: the simulated Qonto's dispatcher POSTs real signed deliveries over HTTP
 * to the product's API (`POST /webhooks/qonto`, served on a port), which signals the workflow run by a
 * real worker with the real activities. The daily run's safety net needs the time-skipping server;
 * everything else runs on the run's Temporal dev server. Waits are on observable state (the status
 * query, the store, the dispatcher's record), never on a sleep.
 */
const SECRET = 'e2e-webhook-secret-0123456789abcdef0123456789';
/** Lowered so that a test waits in real time no longer than it must (production: 10 s). */
const DEBOUNCE_MS = 300;

interface Served {
  base: string;
  close(): Promise<void>;
}

/** The product's API on a real port (what Qonto POSTs to). */
async function serveApi(config: Config, h: Harness, client: Client, port = 0): Promise<Served> {
  const { server, port: bound } = await listen(createApp(apiDeps(config, h.services, client)), port, '127.0.0.1');
  return { base: `http://127.0.0.1:${bound}`, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

/** Harness, API and an in-process worker of the real workflow and activities on the run's dev server. */
interface DevBed {
  h: Harness;
  client: Client;
  config: Config;
  api: Served;
  taskQueue: string;
  close(): Promise<void>;
}

async function openDevBed(opts: SimulatorsOptions & Pick<HarnessOptions, 'qontoMode' | 'extraEnv'>, apiPort = 0): Promise<DevBed> {
  const h = await startHarness(opts);
  const address = inject('temporalAddress');
  const client = new Client({ connection: await Connection.connect({ address }), dataConverter });
  const nativeConnection = await NativeConnection.connect({ address });
  const taskQueue = `tq-wh-${randomUUID().slice(0, 8)}`;
  const worker = await createWorker({ connection: nativeConnection, namespace: 'default', taskQueue, deps: h.services.deps, workflowBundle: await bundleWorkflows(), dataConverter });
  const running = worker.run();
  const config = loadConfig({ ...h.env, TEMPORAL_TASK_QUEUE: taskQueue });
  const api = await serveApi(config, h, client, apiPort);
  return {
    h,
    client,
    config,
    api,
    taskQueue,
    async close() {
      await api.close();
      worker.shutdown();
      await running;
      await nativeConnection.close();
      await client.connection.close();
      await h.close();
    },
  };
}

/** A new payment in the first account, now, with a receipt attached in Qonto; `beforeAttach` runs
 * between the two (before either event is delivered: deliveries start on a timer). */
function payWithReceipt(h: Harness, label: string, visibleAfterMs?: number, beforeAttach?: (tx: SimTransaction) => void): { tx: SimTransaction; attachment: SimAttachment } {
  const data = h.sims.qonto.data;
  const tx = data.addTransaction({ bankAccountId: data.bankAccounts()[0]!.id, amount: 12.5, label, side: 'debit' });
  beforeAttach?.(tx);
  const attachment = data.attachReceipt(tx.id, { fileName: `${label}.pdf`, contentType: 'application/pdf', size: 2_000, ...(visibleAfterMs ? { visibleAfterMs } : {}) });
  return { tx, attachment };
}

/** The operator's registration in Qonto's web app (API-key mode), with the secret QONTO_WEBHOOK_SECRET holds. */
function registerCallback(h: Harness, base: string): void {
  h.sims.qonto.data.addWebhookSubscription({ callbackUrl: `${base}/webhooks/qonto`, types: [TRANSACTIONS_TYPE], secret: SECRET });
}

async function entryState(h: Harness, id: string, attachmentId: string): Promise<string | undefined> {
  return (await h.services.store.getEntry(id, attachmentId))?.state;
}

/** Polls the store until every receipt's manifest row is uploaded. */
async function uploaded(h: Harness, id: string, attachmentIds: string[], timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const states = await Promise.all(attachmentIds.map((a) => entryState(h, id, a)));
    if (states.every((s) => s === 'uploaded')) return;
    if (Date.now() > deadline) throw new Error(`timed out waiting for uploads: ${JSON.stringify(states)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const settled = (v: IntegrationView) => v.phase.startsWith('sleeping') && v.pendingChanges === 0;

describe('API-key mode on the dev server (operator-registered callback, QONTO_WEBHOOK_SECRET)', { timeout: 120_000 }, () => {
  let bed: DevBed;
  const ID = `wh-e2e-${Date.now().toString(36)}`;
  const status = (done: (v: IntegrationView) => boolean, what: string) => waitForStatus(bed.client, ID, done, what);
  let backfilled: IntegrationView;
  let user: ReturnType<Harness['newUser']>;

  beforeAll(async () => {
    // Every event delivered twice: duplicates are normal at Qonto, and must export once.
    bed = await openDevBed({
      demo: { seed: 31, accounts: 1, months: 1, receipts: 6 },
      qontoWebhooks: { duplicateRate: 1 },
      extraEnv: { QONTO_WEBHOOK_SECRET: SECRET },
    });
    registerCallback(bed.h, bed.api.base);
    user = bed.h.newUser(ID);
    await bed.h.connect(ID, user);
    const settings: IntegrationSettings = { ...settingsFrom(bed.h.config), webhookDebounceMs: DEBOUNCE_MS, webhookRecheckMs: [5_000, 10_000] };
    await startIntegration(bed.client, bed.taskQueue, { integrationId: ID, syncFrom: SYNC_FROM, timeZone: ZONE, settings });
    backfilled = await status(sleepingAfter(1), 'the backfill');
  });

  afterAll(async () => {
    await handleOf(bed.client, ID).terminate('suite over').catch(() => {});
    await bed?.close();
  });

  it('subscribes by hand in API-key mode: the full run records the organization to match events by', async () => {
    expect(await bed.h.services.store.getWebhookSubscription(ID)).toMatchObject({ state: 'manual', organizationId: bed.h.sims.qonto.data.organization.id });
  });

  it('exports a receipt attached in Qonto through an incremental run, with no daily run or sync now', async () => {
    const { attachment } = payWithReceipt(bed.h, 'Boulangerie');
    await uploaded(bed.h, ID, [attachment.id]);
    const after = await status((v) => settled(v) && v.lastIncremental !== null, 'the incremental run');
    expect(after.lastIncremental).toMatchObject({ kind: 'incremental', outcome: 'completed' });
    // The daily run did not run: its record and its plan are the backfill's.
    expect(after.lastRun).toEqual(backfilled.lastRun);
    expect(after.nextRunAt).toBe(backfilled.nextRunAt);
    expect((await bed.h.services.store.getWebhookSubscription(ID))?.lastEventAt).not.toBeNull();
    // The status API says so too.
    const res = await fetch(`${bed.api.base}/api/integrations/${ID}`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
    const body = (await res.json()) as { lastIncremental: unknown; lastRun: unknown; webhook: { state: string; lastEventAt: string | null } };
    expect(body.lastIncremental).toEqual(after.lastIncremental);
    expect(body.lastRun).toEqual(backfilled.lastRun);
    expect(body.webhook).toMatchObject({ state: 'manual', lastEventAt: expect.any(String) });
  });

  it('exports each receipt once although every event is delivered twice', async () => {
    const receipts = [payWithReceipt(bed.h, 'Papeterie'), payWithReceipt(bed.h, 'Garage'), payWithReceipt(bed.h, 'Traiteur')];
    await bed.h.sims.qonto.webhooks.idle();
    const ids = new Set(receipts.map((r) => r.tx.id));
    const theirs = bed.h.sims.qonto.webhooks.deliveries.filter((d) => ids.has(d.subject));
    // Each event twice, both acknowledged: one taken, one answered as a duplicate.
    const byEvent = new Map<string, Array<number | string>>();
    for (const d of theirs) byEvent.set(d.eventId, [...(byEvent.get(d.eventId) ?? []), d.status]);
    // Two events per payment (created, then updated with the receipt).
    expect(byEvent.size).toBe(6);
    for (const statuses of byEvent.values()) expect(statuses.sort()).toEqual([200, 202]);

    await uploaded(bed.h, ID, receipts.map((r) => r.attachment.id));
    await status(settled, 'the incremental runs');
    const drive = bed.h.sims.graph.drive(user.id);
    expect(await driveMismatches(drive, bed.h.services.store, ID, expectedReceipts(bed.h.sims.qonto.data, SYNC_FROM, ZONE))).toEqual([]);
  });

  it('looks again at an attachment Qonto is still processing and exports it at the recheck', async () => {
    // Visible 3 s after the event: after the first incremental run (debounce 300 ms), before the
    // first recheck (5 s after that run).
    const { attachment } = payWithReceipt(bed.h, 'Scan lent', 3_000);
    const first = await status((v) => v.phase.startsWith('sleeping') && v.pendingChanges === 1 && v.lastIncremental?.exported === 0, 'the run that finds it not visible');
    expect(await entryState(bed.h, ID, attachment.id)).toBeUndefined();
    await uploaded(bed.h, ID, [attachment.id]);
    const done = await status(settled, 'the recheck');
    expect(done.lastIncremental).toMatchObject({ kind: 'incremental', outcome: 'completed', exported: 1 });
    expect(Date.parse(done.lastIncremental!.startedAt)).toBeGreaterThan(Date.parse(first.lastIncremental!.startedAt));
    expect(done.lastRun).toEqual(backfilled.lastRun);
  });
});

describe('a missed event, on the time-skipping server', { timeout: 120_000 }, () => {
  let bed: Testbed;
  let api: Served;
  beforeAll(async () => {
    // Few, quick retries, so that a lost delivery is given up in moments.
    bed = await Testbed.create('time-skipping', {
      qontoWebhooks: { duplicateRate: 0, retryBaseMs: 20, maxAttempts: 3 },
      extraEnv: { QONTO_WEBHOOK_SECRET: SECRET },
    });
    api = await serveApi(loadConfig(bed.h.env), bed.h, bed.env.client);
    registerCallback(bed.h, api.base);
  });
  afterEach(() => bed.terminateStarted());
  afterAll(async () => {
    await api?.close();
    await bed?.close();
  });

  it('is exported by the 23:30 run when every delivery for its transaction was lost', async () => {
    const t = await bed.start('missed', { webhookDebounceMs: DEBOUNCE_MS });
    await t.run(async () => {
      const backfilled = await t.status(sleepingAfter(1), 'the backfill');
      const { webhooks } = bed.h.sims.qonto;
      // Every delivery about this transaction is lost: its creation, and both receipts.
      const lost = payWithReceipt(bed.h, 'Perdu', undefined, (tx) => webhooks.faults.add({ method: 'POST', path: `/${TRANSACTIONS_TYPE}/${tx.id}` }, { kind: 'drop' }, Infinity));
      const lostAgain = bed.h.sims.qonto.data.attachReceipt(lost.tx.id, { fileName: 'second.pdf', contentType: 'application/pdf', size: 3_000 });
      const heard = payWithReceipt(bed.h, 'Entendu');
      await webhooks.idle();
      expect(webhooks.gaveUp.length).toBe(3);
      expect(webhooks.deliveries.filter((d) => d.subject === lost.tx.id && d.status !== 'error')).toEqual([]);

      await uploaded(bed.h, t.id, [heard.attachment.id]);
      const incremental = await t.status((v) => settled(v) && v.lastIncremental !== null, 'the incremental run of the event heard');
      expect(await entryState(bed.h, t.id, lost.attachment.id)).toBeUndefined();
      expect(incremental.lastRun).toEqual(backfilled.lastRun);

      await bed.skipToNextRun(incremental);
      const daily = await t.status(sleepingAfter(2), 'the daily run');
      expect(daily.lastRun).toMatchObject({ kind: 'sync', outcome: 'completed', exported: 2 });
      expect(await entryState(bed.h, t.id, lost.attachment.id)).toBe('uploaded');
      expect(await entryState(bed.h, t.id, lostAgain.id)).toBe('uploaded');
      const drive = bed.h.sims.graph.drive(t.user.id);
      expect(await driveMismatches(drive, bed.h.services.store, t.id, expectedReceipts(bed.h.sims.qonto.data, SYNC_FROM, ZONE))).toEqual([]);
    });
  });
});

describe('OAuth mode: consent withdrawn in Qonto', { timeout: 120_000 }, () => {
  let bed: DevBed;
  beforeAll(async () => {
    // The product subscribes only to an https PUBLIC_URL or in the sandbox. The simulator's deliveries
    // cannot be made to trust a test certificate in this process (each opens its own TLS agent, and
    // Node 20 cannot add a CA at run time), so the sandbox's rule is used: http allowed.
    const port = await freePort();
    bed = await openDevBed(
      {
        qontoMode: 'oauth',
        demo: { seed: 32, accounts: 1, months: 1, receipts: 3 },
        qontoWebhooks: { allowHttpCallbacks: true },
        extraEnv: { SANDBOX: 'true', PUBLIC_URL: `http://127.0.0.1:${port}` },
      },
      port,
    );
  });
  afterAll(() => bed?.close());

  const cookieOf = (res: Response, name: string) =>
    res.headers
      .getSetCookie()
      .map((c) => c.split(';')[0]!)
      .find((c) => c.startsWith(`${name}=`));

  /** Signs in with Qonto as `membershipId`, as a browser would; returns the session cookie. */
  async function session(membershipId: string): Promise<string> {
    const login = await fetch(`${bed.api.base}/auth/qonto/login`, { redirect: 'manual' });
    const authorize = new URL(login.headers.get('location')!);
    authorize.searchParams.set('login_hint', membershipId);
    const back = new URL((await fetch(authorize, { redirect: 'manual' })).headers.get('location')!);
    const callback = await fetch(`${bed.api.base}${back.pathname}${back.search}`, { redirect: 'manual', headers: { cookie: cookieOf(login, 'qonto_oauth_state')! } });
    return cookieOf(callback, 'session')!;
  }

  /** Connect (a fresh Microsoft user) and Finish through the API, as the pages do. */
  async function connectAndFinish(cookie: string): Promise<string> {
    const headers = { cookie };
    const created = await fetch(`${bed.api.base}/api/integrations`, { method: 'POST', headers });
    expect(created.status).toBe(201);
    const { id, authorizationUrl } = (await created.json()) as { id: string; authorizationUrl: string };
    const authorize = new URL(authorizationUrl);
    authorize.searchParams.set('login_hint', bed.h.newUser(`wh-${id.slice(0, 8)}`).username);
    const back = new URL((await fetch(authorize, { redirect: 'manual' })).headers.get('location')!);
    await fetch(`${bed.api.base}${back.pathname}${back.search}`, { headers, redirect: 'manual' });
    const finish = await fetch(`${bed.api.base}/api/integrations/${id}/finish`, {
      method: 'POST',
      headers: { ...headers, 'content-type': 'application/json' },
      body: JSON.stringify({ syncFrom: SYNC_FROM }),
    });
    expect(finish.status).toBe(202);
    return id;
  }

  it('deletes the tokens, marks the integration revoked (withdrawn in Qonto) and ends the workflow', async () => {
    const owner = bed.h.sims.demo!.membershipIds.owner;
    const id = await connectAndFinish(await session(owner));
    await waitForStatus(bed.client, id, sleepingAfter(1), 'the backfill');
    const store = bed.h.services.store;
    // The backfill's full run subscribed with the member's tokens, to our callback.
    expect(await store.getWebhookSubscription(id)).toMatchObject({ state: 'active' });
    const [subscription] = bed.h.sims.qonto.data.webhookSubscriptions();
    expect(subscription).toMatchObject({ membershipId: owner, callbackUrl: `${bed.config.PUBLIC_URL}/webhooks/qonto` });

    expect(bed.h.sims.qonto.revokeAccessTokens(owner)).toBeGreaterThan(0);
    const result = (await handleOf(bed.client, id).result()) as { status: string };
    expect(result.status).toBe('revoked');
    await bed.h.sims.qonto.webhooks.idle();
    expect(bed.h.sims.qonto.webhooks.deliveries.filter((d) => d.type === 'v1/consent-revocations').map((d) => d.status)).toContain(202);
    expect(await store.getTokenCache(id, 'qonto')).toBeNull();
    expect(await store.getTokenCache(id, 'microsoft')).toBeNull();
    expect(await store.getIntegration(id)).toMatchObject({ status: 'revoked', revokedReason: 'withdrawn_in_qonto' });
    expect((await store.getWebhookSubscription(id))?.state).toBe('revoked');
  });
});
