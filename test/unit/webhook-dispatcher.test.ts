import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { mulberry32 } from '../../src/simulators/prng.js';
import { verifyQontoSignature } from '../../src/webhooks/signature.js';
import type { QontoWebhookEvent, WebhookDispatcherOptions } from '../../src/simulators/qonto/webhooks.js';
import { useQontoSimulators } from '../support/qonto-sim.js';

/** What the receiver got: the raw body, its signature check, and the parsed event. */
interface Received {
  event: QontoWebhookEvent;
  signed: boolean;
  t: number;
}

/** A real local receiver; `answer` decides each response (default 200 at once). */
async function startReceiver(answer: (n: number, req: IncomingMessage, res: ServerResponse) => void = (_n, _req, res) => void res.writeHead(200).end()) {
  const received: Received[] = [];
  let secret = '';
  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const raw = Buffer.concat(chunks);
    const header = req.headers['x-qonto-signature'] as string;
    const check = verifyQontoSignature({ header, body: raw, secrets: [secret], nowSec: Math.floor(Date.now() / 1000) });
    received.push({ event: JSON.parse(raw.toString('utf8')), signed: check.ok, t: Number(/t=(\d+)/.exec(header)?.[1]) });
    answer(received.length, req, res);
  };
  const server: Server = createServer((req, res) => void handle(req, res));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  receivers.push(server);
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/webhooks/qonto`,
    received,
    useSecret: (s: string) => void (secret = s),
  };
}

let receivers: Server[] = [];
afterEach(async () => {
  for (const server of receivers) {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
  receivers = [];
});

const simulator = useQontoSimulators();
const FAST: WebhookDispatcherOptions = { retryBaseMs: 20, reorderJitterMs: 0, duplicateRate: 0, timeoutMs: 1000, random: mulberry32(7) };

async function setup(receiver: Awaited<ReturnType<typeof startReceiver>>, webhooks: WebhookDispatcherOptions = FAST) {
  const { sim, account } = await simulator({ webhooks, allowHttpCallbacks: true });
  const sub = sim.data.addWebhookSubscription({ callbackUrl: receiver.url, types: ['v1/transactions', 'v1/consent-revocations'] });
  receiver.useSecret(sub.secret);
  return { sim, account, sub };
}

describe('Qonto simulator: webhook deliveries', () => {
  it('posts a signed v1/transactions event for a new transaction and for a receipt attached to it', async () => {
    const receiver = await startReceiver();
    const { sim, account, sub } = await setup(receiver);
    const tx = sim.data.addTransaction({ bankAccountId: account.id, amount: 52.4, label: 'Amazon EU' });
    await sim.webhooks.idle();
    const receipt = sim.data.attachReceipt(tx.id, { fileName: 'r.pdf', contentType: 'application/pdf', size: 100, visibleAfterMs: 60_000 });
    await sim.webhooks.idle();

    expect(receiver.received.map((r) => r.signed)).toEqual([true, true]);
    const [created, updated] = receiver.received.map((r) => r.event);
    expect(created).toMatchObject({
      subscription_id: sub.id,
      organization_id: sim.data.organization.id,
      membership_id: null,
      type: 'v1/transactions',
      data: { event: 'created', id: tx.id, transaction_id: tx.transactionId, amount: 52.4, side: 'debit', attachment_ids: [], bank_account_id: account.id },
    });
    // The event names the receipt although the API does not show it yet.
    expect(updated!.data).toMatchObject({ event: 'updated', id: tx.id, attachment_ids: [receipt.id] });
    expect(created!.id).not.toBe(updated!.id);
    expect(sim.webhooks.deliveries.map((d) => [d.attempt, d.status])).toEqual([[1, 200], [1, 200]]);
  });

  it('retries a failing or slow receiver with back-off, signing every attempt afresh, then gives up', async () => {
    // Fails twice, answers too late once, then accepts.
    const receiver = await startReceiver((n, _req, res) => {
      if (n <= 2) return void res.writeHead(503).end();
      if (n === 3) return void setTimeout(() => res.writeHead(200).end(), 1500);
      res.writeHead(202).end();
    });
    const { sim, account } = await setup(receiver);
    sim.data.addTransaction({ bankAccountId: account.id, amount: 1, label: 'Retry me' });
    await sim.webhooks.idle();
    expect(sim.webhooks.deliveries.map((d) => [d.attempt, d.status])).toEqual([[1, 503], [2, 503], [3, 'timeout'], [4, 202]]);
    expect(receiver.received.every((r) => r.signed)).toBe(true);
    expect(new Set(receiver.received.map((r) => r.event.id)).size).toBe(1);

    const failing = await startReceiver((_n, _req, res) => void res.writeHead(500).end());
    const { sim: hopeless, account: acc } = await setup(failing, { ...FAST, maxAttempts: 3 });
    hopeless.data.addTransaction({ bankAccountId: acc.id, amount: 1, label: 'Lost' });
    await hopeless.webhooks.idle();
    expect(failing.received).toHaveLength(3);
    expect(hopeless.webhooks.gaveUp).toEqual([hopeless.webhooks.events[0]!.id]);
  });

  it('duplicates deliveries at duplicateRate and does not keep their order', async () => {
    const receiver = await startReceiver();
    const { sim, account } = await setup(receiver, { ...FAST, duplicateRate: 1, reorderJitterMs: 200 });
    const txs = Array.from({ length: 10 }, (_, i) => sim.data.addTransaction({ bankAccountId: account.id, amount: i + 1, label: `T${i}` }));
    await sim.webhooks.idle();
    const ids = receiver.received.map((r) => r.event.data.id as string);
    expect(ids).toHaveLength(20);
    for (const tx of txs) expect(ids.filter((id) => id === tx.id)).toHaveLength(2);
    const firstSeen = [...new Set(ids)];
    expect(firstSeen).not.toEqual(txs.map((t) => t.id));
    expect(receiver.received.every((r) => r.signed)).toBe(true);
  });

  it('faults: drops every delivery of one transaction, fails N times, stalls', async () => {
    const receiver = await startReceiver();
    const { sim, account } = await setup(receiver, { ...FAST, maxAttempts: 4 });
    const lost = sim.data.addTransaction({ bankAccountId: account.id, amount: 1, label: 'Lost' });
    await sim.webhooks.idle();
    sim.webhooks.faults.add({ path: lost.id }, { kind: 'drop' }, Number.POSITIVE_INFINITY);
    sim.data.attachReceipt(lost.id, { fileName: 'r.pdf', contentType: 'application/pdf', size: 1 });
    const flaky = sim.data.addTransaction({ bankAccountId: account.id, amount: 2, label: 'Flaky' });
    await sim.webhooks.idle();
    // `lost`'s created event was sent before the rule; its update never arrives.
    expect(receiver.received.map((r) => [r.event.data.id, r.event.data.event])).toEqual([[lost.id, 'created'], [flaky.id, 'created']]);
    expect(sim.webhooks.gaveUp).toHaveLength(1);

    sim.webhooks.faults.add({ path: flaky.id }, { kind: 'status', status: 502 }, 2);
    sim.webhooks.faults.add({ path: flaky.id }, { kind: 'stall' }, 1);
    sim.data.setStatus(flaky.id, 'completed');
    await sim.webhooks.idle();
    const flakyAttempts = sim.webhooks.deliveries.filter((d) => d.subject === flaky.id).slice(1).map((d) => d.status);
    expect(flakyAttempts).toEqual([502, 502, 'timeout', 200]);
    expect(receiver.received).toHaveLength(3);
  });

  it("tells the membership's subscriptions of a consent withdrawn in Qonto, then sends them nothing more", async () => {
    const receiver = await startReceiver();
    const { sim, account } = await simulator({ webhooks: FAST, allowHttpCallbacks: true });
    const owner = sim.data.addMembership({ firstName: 'Camille', lastName: 'Martin', role: 'owner' });
    const token = sim.issueAccessToken(owner.id, { scopes: ['organization.read', 'webhook'], clientId: 'app-1' });
    const res = await fetch(`${sim.url}/v2/webhook_subscriptions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ callback_url: receiver.url, types: ['v1/transactions', 'v1/consent-revocations'] }),
    });
    const sub = (await res.json()) as { id: string; secret: string };
    receiver.useSecret(sub.secret);

    expect(sim.revokeAccessTokens(owner.id)).toBe(1);
    sim.data.addTransaction({ bankAccountId: account.id, amount: 1, label: 'After' });
    await sim.webhooks.idle();
    expect(receiver.received).toHaveLength(1);
    expect(receiver.received[0]!.signed).toBe(true);
    expect(receiver.received[0]!.event).toMatchObject({
      subscription_id: sub.id,
      membership_id: owner.id,
      type: 'v1/consent-revocations',
      data: { client_id: 'app-1', revoked_at: expect.any(String) },
    });
    expect(sim.data.webhookSubscriptions()).toEqual([]);
  });

  it('stop() abandons pending deliveries and an attempt under way, so the simulator closes at once', async () => {
    const receiver = await startReceiver(() => {}); // never answers
    const { sim, account } = await setup(receiver, { ...FAST, timeoutMs: 60_000 });
    sim.data.addTransaction({ bankAccountId: account.id, amount: 1, label: 'Hanging' });
    while (receiver.received.length === 0) await new Promise((resolve) => setImmediate(resolve));
    const idle = sim.webhooks.idle();
    await sim.close();
    await idle;
    sim.data.addTransaction({ bankAccountId: account.id, amount: 1, label: 'After close' });
    expect(sim.webhooks.events).toHaveLength(1);
  });
});
