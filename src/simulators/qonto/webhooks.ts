/**
 * The simulated Qonto's webhook deliveries (docs/webhooks.md): every change of the simulator's data
 * becomes one event per matching subscription, POSTed to its callback URL with `X-Qonto-Signature`
 * (a fresh `t` on every attempt). Qonto's behaviour as documented: anything but a 2xx within the
 * time limit is retried with exponential back-off; deliveries are sometimes duplicated and never
 * ordered. All draws come from one seeded generator, so a run repeats.
 *
 * Faults (`faults`, the simulators' shared rules) apply to the outgoing POSTs. A rule matches method
 * `POST` and the path `/<type>/<subject>`, e.g. `/v1/transactions/<transaction uuid>` or
 * `/v1/consent-revocations/<membership id>`: `drop` fails the attempt as a reset connection, `status`
 * as that answer, `stall` as a receiver that never answers (after `timeoutMs`). The receiver is not
 * contacted. A rule added with `times: Infinity` loses every delivery of that subject.
 */
import { request as httpRequest, type ClientRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { randomUUID } from 'node:crypto';
import { qontoSignatureHeader } from '../../webhooks/signature.js';
import { Faults } from '../faults.js';
import { mulberry32 } from '../prng.js';
import type { QontoData, SimChange, SimTransaction, SimWebhookSubscription } from './data.js';

export const TRANSACTIONS_TYPE = 'v1/transactions';
export const CONSENT_REVOCATIONS_TYPE = 'v1/consent-revocations';

export interface WebhookDispatcherOptions {
  /** First retry after about this long, doubling each time (with jitter); default 1000. */
  retryBaseMs?: number;
  /** Attempts per delivery before it is given up; default 10. */
  maxAttempts?: number;
  /** An answer later than this is a failure (Qonto waits 1 s); default 1000. */
  timeoutMs?: number;
  /** Share of events delivered twice (independently); default 0.02. */
  duplicateRate?: number;
  /** Each delivery starts after a random wait up to this, so events arrive out of order; default 500. */
  reorderJitterMs?: number;
  /** The generator of every draw (jitter, duplicates); default a fixed seed. */
  random?: () => number;
  /** Clock of `created_at` and of the signature's `t`; default Date.now. */
  now?: () => number;
}

/** An event as Qonto POSTs it. */
export interface QontoWebhookEvent {
  id: string;
  subscription_id: string;
  organization_id: string;
  membership_id: string | null;
  type: string;
  created_at: string;
  data: Record<string, unknown>;
}

export interface DeliveryAttempt {
  eventId: string;
  type: string;
  subscriptionId: string;
  /** The transaction uuid, or the membership id of a consent revocation. */
  subject: string;
  /** 1 for the first attempt of a delivery. */
  attempt: number;
  /** The receiver's status, `timeout` (no answer within timeoutMs) or `error` (connection failed). */
  status: number | 'timeout' | 'error';
  ms: number;
}

interface Delivery {
  event: QontoWebhookEvent;
  subject: string;
  callbackUrl: string;
  secret: string;
  attempt: number;
}

export class WebhookDispatcher {
  readonly faults = new Faults();
  /** Every attempt, in the order they ended. */
  readonly deliveries: DeliveryAttempt[] = [];
  /** Every event emitted, once each (duplicates share the event). */
  readonly events: QontoWebhookEvent[] = [];
  /** Ids of the events of deliveries that ran out of attempts. */
  readonly gaveUp: string[] = [];

  private readonly retryBaseMs: number;
  private readonly maxAttempts: number;
  private readonly timeoutMs: number;
  private readonly duplicateRate: number;
  private readonly reorderJitterMs: number;
  private readonly random: () => number;
  private readonly now: () => number;
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly inFlight = new Set<ClientRequest>();
  private busy = 0;
  private waiters: (() => void)[] = [];
  private stopped = false;
  private readonly unsubscribe: () => void;

  constructor(
    private readonly data: QontoData,
    opts: WebhookDispatcherOptions = {},
  ) {
    this.retryBaseMs = opts.retryBaseMs ?? 1000;
    this.maxAttempts = opts.maxAttempts ?? 10;
    this.timeoutMs = opts.timeoutMs ?? 1000;
    this.duplicateRate = opts.duplicateRate ?? 0.02;
    this.reorderJitterMs = opts.reorderJitterMs ?? 500;
    this.random = opts.random ?? mulberry32(1);
    this.now = opts.now ?? Date.now;
    this.unsubscribe = data.onChange((change) => this.emit(change));
  }

  /** Resolves once no delivery is waiting or under way (every one succeeded or gave up). */
  idle(): Promise<void> {
    if (this.busy === 0) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /** Cancels every pending delivery and aborts those under way; later changes send nothing. */
  stop(): void {
    this.stopped = true;
    this.unsubscribe();
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    for (const req of this.inFlight) req.destroy();
    this.inFlight.clear();
    this.busy = 0;
    this.settle();
  }

  private emit(change: SimChange): void {
    if (this.stopped) return;
    if (change.type === 'transaction') {
      for (const sub of this.subscribed(TRANSACTIONS_TYPE)) {
        this.send(sub, TRANSACTIONS_TYPE, change.tx.id, transactionData(change.event, change.tx));
      }
      return;
    }
    // The app loses the membership's consent: it hears of it once, then hears nothing more.
    const revoked = this.data.webhookSubscriptions().filter((s) => s.membershipId === change.membershipId && s.clientId !== null);
    for (const sub of revoked) {
      if (sub.types.includes(CONSENT_REVOCATIONS_TYPE)) {
        this.send(sub, CONSENT_REVOCATIONS_TYPE, change.membershipId, { client_id: sub.clientId, revoked_at: new Date(this.now()).toISOString() });
      }
      this.data.deleteWebhookSubscription(sub.id);
    }
  }

  private subscribed(type: string): SimWebhookSubscription[] {
    return this.data.webhookSubscriptions().filter((s) => s.types.includes(type));
  }

  private send(sub: SimWebhookSubscription, type: string, subject: string, data: Record<string, unknown>): void {
    const event: QontoWebhookEvent = {
      id: randomUUID(),
      subscription_id: sub.id,
      organization_id: this.data.organization.id,
      membership_id: sub.membershipId,
      type,
      created_at: new Date(this.now()).toISOString(),
      data,
    };
    this.events.push(event);
    const copies = this.random() < this.duplicateRate ? 2 : 1;
    for (let i = 0; i < copies; i++) {
      this.schedule({ event, subject, callbackUrl: sub.callbackUrl, secret: sub.secret, attempt: 1 }, this.random() * this.reorderJitterMs);
    }
  }

  private schedule(delivery: Delivery, delayMs: number): void {
    this.busy++;
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      void this.attempt(delivery).finally(() => {
        if (this.stopped) return;
        this.busy--;
        this.settle();
      });
    }, delayMs);
    this.timers.add(timer);
  }

  private async attempt(delivery: Delivery): Promise<void> {
    const started = performance.now();
    const status = await this.post(delivery);
    if (this.stopped) return;
    const { event, subject, attempt } = delivery;
    this.deliveries.push({
      eventId: event.id,
      type: event.type,
      subscriptionId: event.subscription_id,
      subject,
      attempt,
      status,
      ms: Math.round(performance.now() - started),
    });
    if (typeof status === 'number' && status >= 200 && status < 300) return;
    if (attempt >= this.maxAttempts) {
      this.gaveUp.push(event.id);
      return;
    }
    // Exponential back-off, each wait drawn within ±50 % so retries of a burst spread out.
    const backoff = this.retryBaseMs * 2 ** (attempt - 1) * (0.5 + this.random());
    this.schedule({ ...delivery, attempt: attempt + 1 }, backoff);
  }

  private post(delivery: Delivery): Promise<DeliveryAttempt['status']> {
    const fault = this.faults.take('POST', `/${delivery.event.type}/${delivery.subject}`);
    if (fault?.kind === 'drop') return Promise.resolve('error');
    if (fault?.kind === 'status') return Promise.resolve(fault.status);
    if (fault?.kind === 'stall') return new Promise((resolve) => this.later(() => resolve('timeout'), this.timeoutMs));

    const body = JSON.stringify(delivery.event);
    const url = new URL(delivery.callbackUrl);
    const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
    return new Promise((resolve) => {
      let done = false;
      const finish = (status: DeliveryAttempt['status']): void => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        this.inFlight.delete(req);
        resolve(status);
      };
      const req = send(url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(body),
          'user-agent': 'Qonto-Webhooks-Simulator',
          'x-qonto-signature': qontoSignatureHeader(delivery.secret, Math.floor(this.now() / 1000), body),
        },
        // One connection per attempt: a timed-out one is destroyed, nothing lingers after stop().
        agent: false,
      });
      const timer = setTimeout(() => {
        req.destroy();
        finish('timeout');
      }, this.timeoutMs);
      req.on('response', (res) => {
        res.resume();
        res.on('end', () => finish(res.statusCode ?? 0));
        res.on('error', () => finish('error'));
      });
      req.on('error', () => finish('error'));
      this.inFlight.add(req);
      req.end(body);
    });
  }

  private later(fn: () => void, ms: number): void {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      fn();
    }, ms);
    this.timers.add(timer);
  }

  private settle(): void {
    if (this.busy !== 0) return;
    const waiters = this.waiters;
    this.waiters = [];
    for (const resolve of waiters) resolve();
  }
}

/** `data` of a `v1/transactions` event: the transaction as it is now, with every attachment id,
 * processed or not (the API may not return the newest yet). */
function transactionData(event: 'created' | 'updated', tx: SimTransaction): Record<string, unknown> {
  return {
    event,
    id: tx.id,
    transaction_id: tx.transactionId,
    amount: tx.amount,
    currency: tx.currency,
    local_amount: tx.amount,
    local_currency: tx.currency,
    side: tx.side,
    operation_type: tx.operationType,
    status: tx.status,
    label: tx.label,
    clean_counterparty_name: tx.counterpartyName,
    note: tx.note,
    reference: tx.reference,
    settled_at: tx.settledAt,
    emitted_at: tx.emittedAt,
    updated_at: tx.updatedAt,
    attachment_ids: [...tx.attachmentIds],
    subject_type: tx.operationType === 'card' ? 'Card' : 'Transfer',
    bank_account_id: tx.bankAccountId,
  };
}
