import { randomBytes } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createSealer, type Sealer } from '../../src/auth/crypto.js';
import { QontoClient, type QontoClientOptions } from '../../src/qonto/client.js';
import type { QontoSimulator } from '../../src/simulators/qonto/server.js';
import { openSqliteStore } from '../../src/store/sqlite.js';
import type { Store } from '../../src/store/types.js';
import { webhookSecretAad } from '../../src/webhooks/secret.js';
import { WebhookSubscriptions, type WebhookSettings } from '../../src/webhooks/subscription.js';
import { useQontoSimulators } from '../support/qonto-sim.js';

const FAST_RETRY = { attempts: 3, baseDelayMs: 1, maxDelayMs: 5 };
const OAUTH: WebhookSettings = { publicUrl: 'https://receipts.example.com', sandbox: false, qontoMode: 'oauth', webhookSecrets: [] };

const simulator = useQontoSimulators();

/** A promise to hold a request back with, and the function that lets it go. */
function gate(): { wait: Promise<void>; open: () => void; reached: Promise<void>; arrive: () => void } {
  let open!: () => void;
  let arrive!: () => void;
  const wait = new Promise<void>((resolve) => (open = resolve));
  const reached = new Promise<void>((resolve) => (arrive = resolve));
  return { wait, open, reached, arrive };
}

/**
 * Attempts of the subscription activity that overlap (one timed out in Temporal's eyes but still
 * running while its retry starts), and answers lost on the way: whatever the order, the row that
 * says `active` names a subscription Qonto has, with the secret the row holds.
 */
describe('WebhookSubscriptions: overlapping attempts and lost answers', () => {
  let store: Store;
  let sealer: Sealer;
  let sim: QontoSimulator;
  let token: string;

  beforeEach(async () => {
    store = openSqliteStore(':memory:');
    sealer = createSealer(randomBytes(32));
    ({ sim } = await simulator({ allowHttpCallbacks: true }));
    const member = sim.data.addMembership({ firstName: 'Camille', lastName: 'Martin', role: 'owner' });
    token = sim.issueAccessToken(member.id, { scopes: ['organization.read', 'webhook'], clientId: 'app-1' });
    await store.createIntegration({ id: 'i1', status: 'idle', organizationId: sim.data.organization.id });
  });
  afterEach(async () => {
    await store.close();
  });

  const client = (signal?: AbortSignal, opts: Partial<QontoClientOptions> = {}) =>
    new QontoClient({ baseUrl: sim.url, retry: { ...FAST_RETRY, signal }, auth: { kind: 'oauth', getAccessToken: async () => token }, ...opts });
  const subscriptions = (qonto: (signal?: AbortSignal) => QontoClient = client) =>
    new WebhookSubscriptions({ store, sealer, settings: OAUTH, qonto: (_id, signal) => qonto(signal) });
  /** An attempt whose `method` call waits at `held` before it is made. */
  const heldAt = (method: 'listWebhookSubscriptions' | 'createWebhookSubscription', held: ReturnType<typeof gate>) =>
    subscriptions(() => {
      const qonto = client();
      const original = qonto[method].bind(qonto) as (...args: unknown[]) => Promise<unknown>;
      let first = true;
      Object.assign(qonto, {
        [method]: async (...args: unknown[]) => {
          if (first) {
            first = false;
            held.arrive();
            await held.wait;
          }
          return original(...args);
        },
      });
      return qonto;
    });

  /** The row is active, names the one subscription Qonto has, and holds that subscription's secret. */
  const expectConsistent = async () => {
    const row = await store.getWebhookSubscription('i1');
    const [only, ...more] = sim.data.webhookSubscriptions();
    expect(more).toEqual([]);
    expect(row).toMatchObject({ state: 'active', subscriptionId: only!.id });
    expect(sealer.open(row!.sealedSecret!, webhookSecretAad('i1')).toString()).toBe(only!.secret);
    expect(await store.webhookSecrets(only!.id)).toMatchObject({ integrationId: 'i1', state: 'active' });
  };

  it('a first attempt that posts after its retry subscribed: its subscription goes again, the retry stays in force', async () => {
    const held = gate();
    const first = heldAt('createWebhookSubscription', held).ensure('i1');
    await held.reached;
    // Temporal gave up on the first attempt; its retry runs to the end.
    expect(await subscriptions().ensure('i1')).toMatchObject({ state: 'active' });
    held.open();
    await first;
    await expectConsistent();
  });

  it("a first attempt that looks for stale subscriptions after its retry subscribed leaves the retry's alone", async () => {
    const held = gate();
    const first = heldAt('listWebhookSubscriptions', held).ensure('i1');
    await held.reached;
    expect(await subscriptions().ensure('i1')).toMatchObject({ state: 'active' });
    held.open();
    await first;
    await expectConsistent();
  });

  it('a retry that starts while the first attempt waits for its answer: whichever writes last, the row matches', async () => {
    const held = gate();
    const first = heldAt('createWebhookSubscription', held).ensure('i1');
    await held.reached;
    const retryHeld = gate();
    const retry = heldAt('createWebhookSubscription', retryHeld).ensure('i1');
    await retryHeld.reached;
    held.open();
    await first;
    retryHeld.open();
    await retry;
    await expectConsistent();
  });

  it("a POST whose answer is lost: the subscription it made is found at once by its attempt's description and recorded", async () => {
    sim.faults.add({ method: 'POST', path: '/v2/webhook_subscriptions' }, { kind: 'stall-body', bytes: 0 });
    const impatient = subscriptions((signal) => client(signal, { deadlines: { idleMs: 300 } }));
    expect(await impatient.ensure('i1')).toMatchObject({ state: 'active' });
    expect(sim.faults.served).toBe(1);
    await expectConsistent();
  });

  it('a POST that never reached Qonto: the attempt fails, and the next one subscribes', async () => {
    sim.faults.add({ method: 'POST', path: '/v2/webhook_subscriptions' }, { kind: 'drop' });
    await expect(subscriptions().ensure('i1')).rejects.toThrow();
    expect(await store.getWebhookSubscription('i1')).toMatchObject({ state: 'creating', subscriptionId: null });
    expect(sim.data.webhookSubscriptions()).toEqual([]);
    expect(await subscriptions().ensure('i1')).toMatchObject({ state: 'active' });
    await expectConsistent();
  });

  it('stops when its signal aborts, even while Qonto does not answer', async () => {
    sim.faults.add({ method: 'GET', path: '/v2/webhook_subscriptions' }, { kind: 'stall' });
    const patient = subscriptions((signal) => client(signal, { deadlines: { idleMs: 20_000 } }));
    const controller = new AbortController();
    const attempt = patient.ensure('i1', controller.signal);
    // Qonto holds the listing, unanswered, when the activity runs out of time.
    await vi.waitFor(() => expect(sim.faults.served).toBe(1));
    controller.abort(new Error('the activity is out of time'));
    await expect(attempt).rejects.toThrow();
    expect(sim.data.webhookSubscriptions()).toEqual([]);
  });
});
