/**
 * Client for the read side of the Qonto Business API (docs/contracts-qonto.md):
 * organization and accounts, transactions with their attachments, attachment downloads, and
 * memberships; and the integration's webhook subscriptions. Every answer is validated (schemas.ts); failures become the product's typed
 * errors (errors.ts); transient ones are retried here with back-off before they go up.
 */
import { z } from 'zod';
import { DEFAULT_MAX_BUDGET_WAIT_MS, type RateBudget } from '../budget/rate-budget.js';
import { FatalError, NotFoundError, SyncError } from '../errors.js';
import { isLoopbackHost } from '../http/address-guard.js';
import { BackoffGate } from '../http/backoff-gate.js';
import type { RequestDeadlines } from '../http/deadlines.js';
import { outboundFetch } from '../http/outbound.js';
import { withRetry, type RetryOptions } from '../http/retry.js';
import { meteredFetch, meteredRetry, windowWaits } from '../metrics/http.js';
import { probativeStateOf, type FileKind } from '../sync/probative.js';
import { authorizationHeader, type QontoAuth } from './auth.js';
import { fetchSignedUrl, guardStream, storageErrorText, type DownloadPolicy } from './download.js';
import { errorFromResponse, htmlInsteadOfJson, networkError } from './errors.js';
import {
  AttachmentResponseSchema,
  MembershipResponseSchema,
  MembershipsPageSchema,
  OrganizationResponseSchema,
  TransactionSchema,
  TransactionsPageSchema,
  WebhookSubscriptionResponseSchema,
  WebhookSubscriptionsPageSchema,
  type Attachment,
  type Membership,
  type Organization,
  type Transaction,
  type TransactionStatus,
  type WebhookSubscription,
  type WebhookType,
} from './schemas.js';

export type { QontoAuth } from './auth.js';

export interface QontoClientOptions {
  /** e.g. https://thirdparty.qonto.com (paths /v2/… are appended). */
  baseUrl: string;
  auth: QontoAuth;
  /** Sent as X-Qonto-Staging-Token (Qonto sandbox only). */
  stagingToken?: string;
  retry?: Partial<RetryOptions>;
  /** Connect and idle deadlines of every request, downloads included (default DEFAULT_DEADLINES). */
  deadlines?: Partial<RequestDeadlines>;
  /** Replaces the default fetch (and its deadlines); the gate still wraps it. */
  fetch?: typeof fetch;
  /**
   * One pause shared by every Qonto request of the process (services.ts makes one: Qonto limits per
   * IP address): a 429/503 holds back the other clients' requests too, downloads included.
   * Default: a gate of this client's own.
   */
  gate?: BackoffGate;
  /**
   * The fleet-wide budget of Qonto API requests (services.ts makes one per process, on the store):
   * every API request, each retry included, reserves its slot there first. Downloads (pre-signed
   * storage links Qonto's API gateway never sees) and OAuth stay outside it. Default: none.
   */
  budget?: RateBudget;
  /** The longest a request waits for its budget slot; beyond it the request is refused unsent with
   * a 429 RetryableError of code `budgetWait` (default: DEFAULT_MAX_BUDGET_WAIT_MS, 20 min). */
  maxBudgetWaitMs?: number;
  /**
   * Origins whose download links are followed over http and at private addresses. Default: the
   * API's own origin when `baseUrl` is http:// on a loopback host, which only a local simulator is
   * (it serves both; Qonto is https on public hosts), else none: an http base elsewhere (a
   * mistyped or intercepted setting) earns its links no trust.
   */
  trustedDownloadOrigins?: string[];
}

export interface TransactionQuery {
  bankAccountId: string;
  /** Incremental-sync cursor: only transactions updated at or after this ISO time. */
  updatedAtFrom?: string;
  emittedAtFrom?: string;
  /** Default completed and pending (Qonto itself defaults to completed only). */
  statuses?: TransactionStatus[];
  /** 1-based; default 1. */
  page?: number;
  /** 1..100; default 100. */
  perPage?: number;
}

export interface AttachmentDownload {
  /** Streamed from the signed URL as the reader pulls; never buffered whole. */
  body: ReadableStream<Uint8Array>;
  size: number;
  contentType: string;
  fileName: string;
}

/** A Retry-After longer than the back-off cap goes up to the caller (the activity) instead. */
const DEFAULT_RETRY: RetryOptions = { attempts: 5, baseDelayMs: 500, maxDelayMs: 30_000, maxRetryAfterMs: 30_000 };

type QueryParams = [name: string, value: string][];

/** Percent-encodes values but keeps `[]` in names readable: `status[]=a&status[]=b`. */
function queryString(params: QueryParams): string {
  if (params.length === 0) return '';
  const encodeName = (name: string): string => encodeURIComponent(name).replace(/%5B%5D$/, '[]');
  return `?${params.map(([k, v]) => `${encodeName(k)}=${encodeURIComponent(v)}`).join('&')}`;
}

export class QontoClient {
  private readonly baseUrl: string;
  private readonly retry: RetryOptions;
  /** API requests: the gate, then the budget. */
  private readonly fetchImpl: typeof fetch;
  /** Downloads from the origins trusted for them: the gate only. */
  private readonly downloadFetch: typeof fetch;
  private readonly downloadPolicy: DownloadPolicy;

  constructor(private readonly opts: QontoClientOptions) {
    this.baseUrl = opts.baseUrl.replace(/\/+$/, '');
    this.retry = meteredRetry('qonto', { ...DEFAULT_RETRY, ...opts.retry });
    const gate = opts.gate ?? new BackoffGate();
    // Metered inside the gate: what is counted is what was sent, and the answer it got.
    const gated = (inner: typeof fetch) => gate.wrap(inner, this.retry.maxRetryAfterMs, windowWaits('qonto'));
    const sent = meteredFetch('qonto', opts.fetch ?? outboundFetch(opts.deadlines));
    this.downloadFetch = gated(sent);
    // The gate outside the budget: a request waits out any window the process's gate has open, and
    // only then reserves its slot, so requests held by a window reach Qonto spaced by the budget
    // when it opens, not all at once on slots that passed while they waited.
    // And once more after the slot: a window the gate opened while the request slept for its slot (a
    // 503, which writes no fleet hold, or a Retry-After longer than the fleet's longest hold) is waited
    // out too, so nothing is sent into it (the slot is then wasted, never exceeded).
    const regated: typeof fetch = async (input, init) => {
      await gate.pass(init?.signal ?? undefined, this.retry.maxRetryAfterMs);
      return sent(input, init);
    };
    this.fetchImpl = opts.budget ? gated(opts.budget.wrap(regated, { maxBudgetWaitMs: opts.maxBudgetWaitMs ?? DEFAULT_MAX_BUDGET_WAIT_MS })) : this.downloadFetch;
    const base = new URL(this.baseUrl);
    this.downloadPolicy = {
      trustedOrigins: opts.trustedDownloadOrigins ?? (base.protocol === 'http:' && isLoopbackHost(base.hostname) ? [base.origin] : []),
      // Links we are handed connect only to public addresses (a trusted origin uses fetchImpl).
      publicFetch: gated(meteredFetch('qonto', opts.fetch ?? outboundFetch(opts.deadlines, { publicOnly: true }))),
    };
  }

  /** The organization of the credentials, with its bank accounts. */
  async getOrganization(): Promise<Organization> {
    return (await this.getJson('/v2/organization', [], OrganizationResponseSchema)).organization;
  }

  /** One page of an account's transactions, oldest update first, attachments embedded. */
  async listTransactionsPage(q: TransactionQuery): Promise<{ transactions: Transaction[]; nextPage: number | null }> {
    const params: QueryParams = [['bank_account_id', q.bankAccountId]];
    for (const status of q.statuses ?? ['completed', 'pending']) params.push(['status[]', status]);
    params.push(['includes[]', 'attachments'], ['sort_by', 'updated_at:asc']);
    if (q.updatedAtFrom !== undefined) params.push(['updated_at_from', q.updatedAtFrom]);
    if (q.emittedAtFrom !== undefined) params.push(['emitted_at_from', q.emittedAtFrom]);
    params.push(['per_page', String(q.perPage ?? 100)], ['page', String(q.page ?? 1)]);
    const body = await this.getJson('/v2/transactions', params, TransactionsPageSchema);
    return { transactions: body.transactions, nextPage: body.meta?.next_page ?? null };
  }

  /** Every page of the query, in order. */
  async *transactionPages(q: Omit<TransactionQuery, 'page'>): AsyncGenerator<{ transactions: Transaction[]; page: number }> {
    for (let page: number | null = 1; page !== null; ) {
      const { transactions, nextPage } = await this.listTransactionsPage({ ...q, page });
      yield { transactions, page };
      if (nextPage !== null && nextPage <= page) {
        throw new FatalError(`Qonto GET /v2/transactions: page ${page} points back to page ${nextPage}`);
      }
      page = nextPage;
    }
  }

  /** One transaction, with its attachments embedded when asked (`includes: ['attachments']`). */
  async getTransaction(id: string, opts: { includes?: 'attachments'[] } = {}): Promise<Transaction> {
    const params: QueryParams = (opts.includes ?? []).map((include) => ['includes[]', include]);
    const path = `/v2/transactions/${encodeURIComponent(id)}`;
    return (await this.getJson(path, params, z.object({ transaction: TransactionSchema }))).transaction;
  }

  /** The attachment with a fresh signed URL (valid 30 minutes). */
  async getAttachment(id: string, signal?: AbortSignal): Promise<Attachment> {
    const path = `/v2/attachments/${encodeURIComponent(id)}`;
    return (await this.getJson(path, [], AttachmentResponseSchema, signal)).attachment;
  }

  /**
   * Opens the attachment's body for streaming. Fetches the attachment first so the signed URL is
   * fresh, downloads it without any Qonto credentials, and if the storage host refuses the URL
   * (403, e.g. expired) fetches a new URL once and tries again. `probative`: the attachment's
   * probative copy instead (NotFoundError while it is not available).
   */
  async openAttachment(id: string, signal = this.retry.signal, kind: FileKind = 'original'): Promise<AttachmentDownload> {
    const what = kind === 'original' ? `download of attachment ${id}` : `download of the probative copy of attachment ${id}`;
    for (let round = 1; ; round++) {
      const attachment = await this.getAttachment(id, signal);
      const source = kind === 'original' ? { url: attachment.url, size: attachment.file_size } : probativeStateOf(attachment.probative_attachment);
      // A copy no longer available (withdrawn, or back to pending) has nothing to download.
      if (!('url' in source)) throw new NotFoundError(`The probative copy of attachment ${id} is ${source.status}`, { status: 404 });
      const download = () => this.fetchDownload(source.url, what, signal);
      const res = await withRetry(download, { ...this.retry, signal });
      if (res.ok) {
        const length = Number(res.headers.get('content-length') ?? Number.NaN);
        return {
          body: res.body ? guardStream(res.body, what, signal) : new ReadableStream({ start: (c) => c.close() }),
          size: Number.isSafeInteger(length) && length >= 0 ? length : source.size,
          contentType:
            (kind === 'original' ? attachment.file_content_type : attachment.probative_attachment?.file_content_type) ||
            res.headers.get('content-type') ||
            'application/octet-stream',
          fileName: (kind === 'original' ? attachment.file_name : attachment.probative_attachment?.file_name) ?? attachment.file_name,
        };
      }
      const reason = await storageErrorText(res);
      if (res.status === 403 && round === 1) continue;
      const message = `Qonto ${what} answered ${res.status}${reason}`;
      if (res.status === 404) throw new NotFoundError(message, { status: 404 });
      throw new FatalError(res.status === 403 ? `${message} even with a fresh URL` : message, { status: res.status });
    }
  }

  /** One GET of a signed download URL (no Qonto credentials), with this client's deadlines. */
  fetchDownload(url: string, what: string, signal?: AbortSignal): Promise<Response> {
    return fetchSignedUrl(this.downloadFetch, what, url, signal, this.downloadPolicy);
  }

  /** The caller's own membership (OAuth with membership.read only): how to learn the user's role. */
  async getMembership(): Promise<Membership> {
    return (await this.getJson('/v2/membership', [], MembershipResponseSchema)).membership;
  }

  /** Every membership of the organization, all pages. */
  async listMemberships(): Promise<Membership[]> {
    const all: Membership[] = [];
    for (let page: number | null = 1; page !== null; ) {
      const query: QueryParams = [['per_page', '100'], ['page', String(page)]];
      const body: z.output<typeof MembershipsPageSchema> = await this.getJson('/v2/memberships', query, MembershipsPageSchema);
      all.push(...body.memberships);
      const next: number | null = body.meta?.next_page ?? null;
      page = next !== null && next > page ? next : null;
    }
    return all;
  }

  /**
   * Subscribes the credentials' organization to webhook events. Sent once, never retried here: an
   * answer lost on the way may still have created it, and a second POST would make a second
   * subscription (the caller deletes its own stale ones before it subscribes again).
   */
  async createWebhookSubscription(input: {
    callbackUrl: string;
    types: WebhookType[];
    secret: string;
    description: string;
  }): Promise<WebhookSubscription> {
    const body = { callback_url: input.callbackUrl, types: input.types, secret: input.secret, description: input.description };
    return this.sendJson('POST', '/v2/webhook_subscriptions', [], WebhookSubscriptionResponseSchema, { body, attempts: 1 });
  }

  /** Every webhook subscription the credentials see, all pages. */
  async listWebhookSubscriptions(): Promise<WebhookSubscription[]> {
    const all: WebhookSubscription[] = [];
    for (let page: number | null = 1; page !== null; ) {
      const query: QueryParams = [['per_page', '100'], ['page', String(page)]];
      const body = await this.getJson('/v2/webhook_subscriptions', query, WebhookSubscriptionsPageSchema);
      all.push(...body.subscriptions);
      page = body.nextPage !== null && body.nextPage > page ? body.nextPage : null;
    }
    return all;
  }

  /** Deletes a webhook subscription (NotFoundError when Qonto does not know it). */
  async deleteWebhookSubscription(id: string): Promise<void> {
    await this.sendJson('DELETE', `/v2/webhook_subscriptions/${encodeURIComponent(id)}`, [], null);
  }

  private getJson<S extends z.ZodType>(path: string, params: QueryParams, schema: S, signal = this.retry.signal): Promise<z.output<S>> {
    return this.sendJson('GET', path, params, schema, { signal });
  }

  /** One request with the credentials, retried as `retry` says (`attempts` overrides it); the answer
   * validated by `schema`, or ignored when it is null (DELETE). */
  private async sendJson<S extends z.ZodType>(
    method: 'GET' | 'POST' | 'DELETE',
    path: string,
    params: QueryParams,
    schema: S | null,
    opts: { signal?: AbortSignal; body?: unknown; attempts?: number } = {},
  ): Promise<z.output<S>> {
    const { signal = this.retry.signal, body } = opts;
    const what = `${method} ${path}`;
    const url = `${this.baseUrl}${path}${queryString(params)}`;
    return withRetry(async () => {
      const headers: Record<string, string> = {
        accept: 'application/json',
        authorization: await authorizationHeader(this.opts.auth),
      };
      if (body !== undefined) headers['content-type'] = 'application/json';
      if (this.opts.stagingToken) headers['x-qonto-staging-token'] = this.opts.stagingToken;
      // Never follow redirects with credentials: the sandbox redirects to a login page
      // (docs/contracts-qonto.md, Sandbox staging token).
      const init: RequestInit = { method, headers, signal, redirect: 'manual', ...(body !== undefined ? { body: JSON.stringify(body) } : {}) };
      const res = await unlessOffline(what, signal, () => this.fetchImpl(url, init));
      if (res.status >= 300 && res.status < 400) {
        await res.body?.cancel();
        throw htmlInsteadOfJson(what);
      }
      if (!res.ok) throw await errorFromResponse(what, res);
      if (schema === null) {
        await res.body?.cancel();
        return undefined as z.output<S>;
      }
      const text = await unlessOffline(what, signal, () => res.text());
      if (/html/i.test(res.headers.get('content-type') ?? '') || /^\s*</.test(text)) throw htmlInsteadOfJson(what);
      let json: unknown;
      try {
        json = JSON.parse(text);
      } catch {
        throw new FatalError(`Qonto ${what} answered ${res.status} with a body that is not JSON`, { status: res.status });
      }
      const parsed = schema.safeParse(json);
      if (!parsed.success) {
        throw new FatalError(`Qonto ${what} answered an unexpected shape: ${z.prettifyError(parsed.error)}`, { status: res.status });
      }
      return parsed.data;
    }, { ...this.retry, ...(opts.attempts !== undefined ? { attempts: opts.attempts } : {}), signal });
  }
}

/** Runs a network step; a failure (other than the caller's abort, or the gate refusing a long
 * window) is a RetryableError. */
async function unlessOffline<T>(what: string, signal: AbortSignal | undefined, step: () => Promise<T>): Promise<T> {
  try {
    return await step();
  } catch (error) {
    if (signal?.aborted || error instanceof SyncError) throw error;
    throw networkError(what, error);
  }
}
