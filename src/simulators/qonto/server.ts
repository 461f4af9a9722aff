/**
 * A local Qonto Business API (read endpoints) plus the S3-style host of its attachment downloads,
 * on one plain HTTP server. Follows docs/contracts-qonto.md, What the simulator implements: key and bearer auth,
 * optional sandbox staging token, per-IP rate limits, Qonto's error format, pre-signed download
 * URLs that expire, and fault injection on every path (API and downloads alike). The OAuth server
 * (oauth.ts) shares the port, so the simulator's URL is also QONTO_OAUTH_URL.
 *
 * Faults: `status` answers in the host's own error format (Qonto JSON, or S3 XML on downloads)
 * with Retry-After when given; `drop` destroys the connection before answering; `drop-after-bytes`
 * has no request body to cut here, so on a download it sends the headers and that many body bytes
 * before destroying the connection (a download that breaks midway), and elsewhere acts as `drop`.
 * `stall` never answers; `stall-body` sends the headers and that many body bytes, then nothing more.
 */
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import { once } from 'node:events';
import { pipeline } from 'node:stream/promises';
import { Faults } from '../faults.js';
import { readBody, sendJson, stallAfter, startHttpServer } from '../http.js';
import { AccessControl, type ApiKey, type Principal, type TokenOptions } from './access.js';
import { attachmentBytes } from './content.js';
import { QontoOAuthServer, sendOAuthError, type QontoOAuthClient, type TokenAnswer } from './oauth.js';
import { QontoTenants } from './tenants.js';
import { type QontoData, probativeContentKey, type SimAttachment, type SimOrganization, type SimWebhookSubscription } from './data.js';
import { paginate, parsePaging } from './paging.js';
import { QONTO_RATE_LIMIT, IpThrottle, type RateLimit } from './rate-limit.js';
import {
  defaultQontoCode,
  defaultS3Code,
  sendLoginPage,
  sendQontoError,
  sendS3Error,
  type QontoErrorItem,
} from './respond.js';
import { DOWNLOAD_PATH_PREFIX, PROBATIVE_PATH_PREFIX, UrlSigner } from './signed-url.js';
import { parseIncludes, parseTransactionQuery, selectTransactions } from './transaction-query.js';
import { parseSubscriptionBody, subscriptionView } from './webhook-subscriptions.js';
import { WebhookDispatcher, type WebhookDispatcherOptions } from './webhooks.js';
import {
  attachmentView,
  bankAccountView,
  membershipView,
  organizationView,
  transactionView,
  type AmountFormat,
  type ViewContext,
} from './views.js';

export interface QontoSimulatorOptions {
  port?: number;
  /** Organization API keys accepted as `Authorization: login:secret`. */
  apiKeys?: ApiKey[];
  /** Clock for timestamps, token and URL expiry, and rate limits. Default Date.now. */
  now?: () => number;
  /** Lifetime of download URLs; default 1800 s as in Qonto. */
  urlTtlSec?: number;
  /** Sandbox mode: API requests without this X-Qonto-Staging-Token get 200 text/html. */
  stagingToken?: string;
  /** Per-IP limits; default Qonto's 1 000 / 10 s and 10 000 / 10 min. */
  rateLimit?: RateLimit;
  /** Record every API request's arrival time in `arrivals` (sliding-window peaks in tests and
   * benchmarks); default off, since the list grows without bound. */
  recordArrivals?: boolean;
  /** How amounts are written; default numbers (see views.ts for the documented variants). */
  amountFormat?: AmountFormat;
  organization?: Partial<SimOrganization>;
  /** Clients registered with the OAuth server (oauth.ts); default: any client id and secret. */
  oauthClients?: QontoOAuthClient[];
  /** Lifetime of the access tokens the OAuth server issues; default 3600 s as at Qonto. */
  oauthAccessTokenTtlSec?: number;
  /** How long a rotated OAuth refresh token is still accepted (oauth.ts); default 60 s, 0 = strict. */
  refreshTokenReuseGraceSec?: number;
  /** Added before every answer (benchmarks). */
  latencyMs?: number;
  /** How events are delivered (webhooks.ts): retries, duplicates, reordering, seed. */
  webhooks?: WebhookDispatcherOptions;
  /** Accept `http://` callback URLs (the sandbox, the benchmark); Qonto demands https. */
  allowHttpCallbacks?: boolean;
  /** Let API keys manage webhook subscriptions; by default they get 403, as on Qonto without the
   * permission (the operator then registers the subscription by hand: `data.addWebhookSubscription`). */
  webhooksForApiKeys?: boolean;
}

export interface RecordedRequest {
  method: string;
  /** Path with query string, as received. */
  path: string;
  headers: IncomingHttpHeaders;
}

export interface QontoSimulator {
  /** Base URL, e.g. http://127.0.0.1:40123 (the API is under /v2). */
  url: string;
  faults: Faults;
  /** The primary organization (the only one unless `tenants.add` made more). */
  data: QontoData;
  /** Every organization this Qonto serves, behind the one rate limit (one egress address). */
  tenants: QontoTenants;
  /** An organization API key of `tenant` (default the primary), besides those given at start. */
  addApiKey(key: ApiKey, tenant?: QontoData): void;
  /** The most recent requests (at most 1 000), oldest first, for assertions on what a client sent. */
  requests: RecordedRequest[];
  /** Every answer of the OAuth token endpoint but injected faults, oldest first. */
  readonly tokenAnswers: readonly TokenAnswer[];
  /** An OAuth access token acting as this membership (what the OAuth token endpoint would issue). */
  issueAccessToken(membershipId: string, opts?: TokenOptions): string;
  /** The membership withdraws its consent in Qonto: its tokens stop working, and the apps it had
   * subscribed get a `v1/consent-revocations` event; returns how many tokens there were. */
  revokeAccessTokens(membershipId: string): number;
  /** Sends the signed events of every change to the subscriptions' callback URLs. */
  webhooks: WebhookDispatcher;
  /** API requests its rate limit answered 429, since start. */
  rateLimited(): number;
  /** TCP connections accepted since start (connection reuse shows as few connections). */
  connections(): number;
  /** With `recordArrivals`: when each API request arrived (the rate limit's clock), oldest first,
   * those it refused included. Downloads and OAuth are not API requests, and injected faults answer
   * before the limiter: neither is recorded. */
  readonly arrivals?: readonly number[];
  close(): Promise<void>;
}

const MAX_RECORDED = 1_000;
const KEEP_ALIVE_MS = 5_000;

interface RequestContext {
  /** The caller's organization. */
  data: QontoData;
  view: ViewContext;
  who: Principal;
  query: URLSearchParams;
  res: ServerResponse;
  /** The parsed JSON body of a POST or PUT. */
  body: unknown;
}

interface Route {
  /** Default GET. */
  method?: 'GET' | 'POST' | 'PUT' | 'DELETE';
  pattern: RegExp;
  /** Any one of these OAuth scopes grants access; API keys pass unless `oauthOnly` or `webhooks`. */
  scopes: string[];
  oauthOnly?: boolean;
  /** Webhook subscriptions: API keys pass only with `webhooksForApiKeys`. */
  webhooks?: boolean;
  handle(ctx: RequestContext, params: string[]): void;
}

export async function startQontoSimulator(opts: QontoSimulatorOptions = {}): Promise<QontoSimulator> {
  const now = opts.now ?? Date.now;
  const tenants = new QontoTenants(now, opts.organization);
  // Webhook subscriptions and events are the primary organization's alone.
  const data = tenants.primary;
  const faults = new Faults();
  const access = new AccessControl(now, opts.apiKeys ?? []);
  const throttle = new IpThrottle(now, opts.rateLimit ?? QONTO_RATE_LIMIT, { recordArrivals: opts.recordArrivals });
  let rateLimited = 0;
  const signer = new UrlSigner(now, opts.urlTtlSec ?? 1800);
  const requests: RecordedRequest[] = [];
  const oauth = new QontoOAuthServer({
    tenants,
    now,
    clients: opts.oauthClients,
    accessTokenTtlSec: opts.oauthAccessTokenTtlSec,
    refreshTokenReuseGraceSec: opts.refreshTokenReuseGraceSec,
    issueAccessToken: (membershipId, tokenOpts) => access.issueAccessToken(membershipId, tokenOpts),
    revokeAccessTokens: (membershipId) => access.revokeAccessTokens(membershipId),
  });

  const unprocessable = (res: ServerResponse, errors: QontoErrorItem[]): void => sendQontoError(res, 422, errors);
  const notFound = (res: ServerResponse, what: string): void =>
    sendQontoError(res, 404, [{ code: 'not_found', detail: `${what} not found` }]);

  const routes: Route[] = [
    {
      pattern: /^\/v2\/organization$/,
      scopes: ['organization.read'],
      handle: ({ view, res }) => sendJson(res, 200, { organization: organizationView(view) }),
    },
    {
      pattern: /^\/v2\/bank_accounts$/,
      scopes: ['organization.read'],
      handle: ({ data, view, query, res }) => {
        const errors: QontoErrorItem[] = [];
        const paging = parsePaging(query, errors);
        if (errors.length > 0) return unprocessable(res, errors);
        const { items, meta } = paginate(data.bankAccounts(), paging);
        sendJson(res, 200, { bank_accounts: items.map((a) => bankAccountView(view, a)), meta });
      },
    },
    {
      pattern: /^\/v2\/bank_accounts\/([^/]+)$/,
      scopes: ['organization.read'],
      handle: ({ data, view, res }, [id]) => {
        const account = data.bankAccount(id!);
        if (!account) return notFound(res, 'Bank account');
        sendJson(res, 200, { bank_account: bankAccountView(view, account) });
      },
    },
    {
      pattern: /^\/v2\/transactions$/,
      scopes: ['organization.read'],
      handle: ({ data, view, query, res }) => {
        const parsed = parseTransactionQuery(query, data);
        if (!parsed.ok) return sendQontoError(res, parsed.status, parsed.errors);
        const { filter } = parsed;
        const { items, meta } = paginate(selectTransactions(data, filter), filter.paging);
        sendJson(res, 200, { transactions: items.map((t) => transactionView(view, t, filter.includes)), meta });
      },
    },
    {
      pattern: /^\/v2\/transactions\/([^/]+)$/,
      scopes: ['organization.read'],
      handle: ({ data, view, query, res }, [id]) => {
        const errors: QontoErrorItem[] = [];
        const includes = parseIncludes(query, errors);
        if (errors.length > 0) return unprocessable(res, errors);
        const tx = data.transaction(id!);
        if (!tx) return notFound(res, 'Transaction');
        sendJson(res, 200, { transaction: transactionView(view, tx, includes) });
      },
    },
    {
      pattern: /^\/v2\/transactions\/([^/]+)\/attachments$/,
      scopes: ['organization.read', 'attachment.read'],
      handle: ({ data, view, res }, [id]) => {
        if (!data.transaction(id!)) return notFound(res, 'Transaction');
        sendJson(res, 200, { attachments: data.attachmentsOf(id!).filter((a) => data.isVisible(a)).map((a) => attachmentView(view, a)) });
      },
    },
    {
      pattern: /^\/v2\/attachments\/([^/]+)$/,
      scopes: ['organization.read', 'attachment.read'],
      handle: ({ data, view, res }, [id]) => {
        const attachment = data.attachment(id!);
        if (!attachment || !data.isVisible(attachment)) return notFound(res, 'Attachment');
        sendJson(res, 200, { attachment: attachmentView(view, attachment) });
      },
    },
    {
      pattern: /^\/v2\/membership$/,
      scopes: ['membership.read'],
      oauthOnly: true,
      handle: ({ data, who, res }) => {
        const member = who.kind === 'oauth' ? data.membership(who.membershipId) : undefined;
        if (!member) return notFound(res, 'Membership');
        sendJson(res, 200, { membership: membershipView(member) });
      },
    },
    {
      pattern: /^\/v2\/memberships$/,
      scopes: ['organization.read'],
      handle: ({ data, query, res }) => {
        const errors: QontoErrorItem[] = [];
        const paging = parsePaging(query, errors);
        if (errors.length > 0) return unprocessable(res, errors);
        const { items, meta } = paginate(data.memberships(), paging);
        sendJson(res, 200, { memberships: items.map(membershipView), meta });
      },
    },
  ];

  /** The subscriptions a caller sees: an OAuth app its own, an API key those made without OAuth. */
  const ownedBy = (who: Principal) => (s: SimWebhookSubscription): boolean =>
    who.kind === 'oauth' ? s.clientId === who.clientId && s.membershipId === who.membershipId : s.clientId === null;
  const subscriptionOf = (data: QontoData, who: Principal, id: string): SimWebhookSubscription | undefined => {
    const s = data.webhookSubscription(id);
    return s && ownedBy(who)(s) ? s : undefined;
  };
  const allowHttpCallbacks = opts.allowHttpCallbacks ?? false;

  routes.push(
    {
      method: 'POST',
      pattern: /^\/v2\/webhook_subscriptions$/,
      scopes: ['webhook'],
      webhooks: true,
      handle: ({ data, who, body, res }) => {
        const parsed = parseSubscriptionBody(body, { allowHttpCallbacks, create: true });
        if (!parsed.ok) return unprocessable(res, parsed.errors);
        const { callbackUrl, types, secret, description } = parsed.input;
        const created = data.addWebhookSubscription({
          callbackUrl,
          types: types!,
          ...(secret === undefined ? {} : { secret }),
          description: description ?? null,
          membershipId: who.kind === 'oauth' ? who.membershipId : null,
          clientId: who.kind === 'oauth' ? who.clientId : null,
        });
        sendJson(res, 201, subscriptionView(data.organization.id, created));
      },
    },
    {
      pattern: /^\/v2\/webhook_subscriptions$/,
      scopes: ['webhook'],
      webhooks: true,
      handle: ({ data, who, query, res }) => {
        const errors: QontoErrorItem[] = [];
        const paging = parsePaging(query, errors);
        if (errors.length > 0) return unprocessable(res, errors);
        const { items, meta } = paginate(data.webhookSubscriptions().filter(ownedBy(who)), paging);
        sendJson(res, 200, { subscriptions: items.map((s) => subscriptionView(data.organization.id, s)), meta });
      },
    },
    {
      pattern: /^\/v2\/webhook_subscriptions\/([^/]+)$/,
      scopes: ['webhook'],
      webhooks: true,
      handle: ({ data, who, res }, [id]) => {
        const s = subscriptionOf(data, who, id!);
        if (!s) return notFound(res, 'Webhook subscription');
        sendJson(res, 200, subscriptionView(data.organization.id, s));
      },
    },
    {
      method: 'PUT',
      pattern: /^\/v2\/webhook_subscriptions\/([^/]+)$/,
      scopes: ['webhook'],
      webhooks: true,
      handle: ({ data, who, body, res }, [id]) => {
        const s = subscriptionOf(data, who, id!);
        if (!s) return notFound(res, 'Webhook subscription');
        const parsed = parseSubscriptionBody(body, { allowHttpCallbacks, create: false });
        if (!parsed.ok) return unprocessable(res, parsed.errors);
        const { callbackUrl, types, secret, description } = parsed.input;
        const updated = data.updateWebhookSubscription(s.id, {
          callbackUrl,
          ...(types === undefined ? {} : { types }),
          ...(secret === undefined ? {} : { secret }),
          ...(description === undefined ? {} : { description }),
        });
        sendJson(res, 200, subscriptionView(data.organization.id, updated));
      },
    },
    {
      method: 'DELETE',
      pattern: /^\/v2\/webhook_subscriptions\/([^/]+)$/,
      scopes: ['webhook'],
      webhooks: true,
      handle: ({ data, who, res }, [id]) => {
        const s = subscriptionOf(data, who, id!);
        if (!s) return notFound(res, 'Webhook subscription');
        data.deleteWebhookSubscription(s.id);
        res.writeHead(204).end();
      },
    },
  );

  function forbidden(who: Principal, route: Route): string | undefined {
    if (who.kind === 'apiKey') {
      if (route.oauthOnly) return 'This endpoint requires an OAuth access token';
      if (route.webhooks && !opts.webhooksForApiKeys) return 'This API key may not manage webhook subscriptions';
      return undefined;
    }
    if (route.scopes.some((s) => who.scopes.has(s))) return undefined;
    return `missing required OAuth scope: ${route.scopes.join(' or ')}`;
  }

  /** The organization a caller acts for: its membership's (none: a token of a membership no
   * organization has, refused), or its API key's (keys given at start belong to the primary). */
  function tenantOf(who: Principal): QontoData | undefined {
    return who.kind === 'oauth' ? tenants.byMembership(who.membershipId) : (tenants.byApiKey(who.login) ?? tenants.primary);
  }

  async function serveApi(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    if (opts.stagingToken !== undefined && req.headers['x-qonto-staging-token'] !== opts.stagingToken) {
      return sendLoginPage(res);
    }
    const ip = req.socket.remoteAddress ?? 'unknown';
    if (!throttle.admit(ip)) {
      rateLimited += 1;
      return sendQontoError(res, 429, [{ code: 'too_many_requests', detail: 'Too many requests, slow down' }]);
    }
    const who = access.authenticate(req.headers.authorization);
    if ('refused' in who) {
      throttle.recordUnauthorized(ip);
      return sendQontoError(res, 401, [{ code: 'unauthorized', detail: who.refused }]);
    }
    const matching = routes.filter((r) => r.pattern.test(url.pathname));
    if (matching.length > 0) {
      const route = matching.find((r) => (r.method ?? 'GET') === req.method);
      if (!route) {
        return sendQontoError(res, 405, [{ code: 'method_not_allowed', detail: `${req.method} is not supported here` }]);
      }
      const match = route.pattern.exec(url.pathname)!;
      const denied = forbidden(who, route);
      if (denied) return sendQontoError(res, 403, [{ code: 'forbidden', detail: denied }]);
      const host = req.headers.host ?? new URL(running.url).host;
      const tenant = tenantOf(who);
      if (!tenant) return sendQontoError(res, 401, [{ code: 'unauthorized', detail: 'This access token belongs to no membership' }]);
      const view: ViewContext = {
        data: tenant,
        amountFormat: opts.amountFormat ?? 'number',
        downloadUrl: (id, kind) => signer.sign(`http://${host}`, id, kind === 'probative' ? PROBATIVE_PATH_PREFIX : DOWNLOAD_PATH_PREFIX),
      };
      let body: unknown;
      if (req.method === 'POST' || req.method === 'PUT') {
        const text = (await readBody(req, 64 * 1024).catch(() => null))?.toString('utf8');
        try {
          body = text === undefined ? undefined : JSON.parse(text);
        } catch {
          body = undefined;
        }
        if (body === undefined) return sendQontoError(res, 400, [{ code: 'bad_request', detail: 'The body must be JSON' }]);
      }
      return route.handle({ data: tenant, view, who, query: url.searchParams, res, body }, match.slice(1).map(decodeURIComponent));
    }
    notFound(res, `Route ${url.pathname}`);
  }

  async function serveDownload(req: IncomingMessage, res: ServerResponse, url: URL, cutAfter?: number): Promise<void> {
    const resource = url.pathname;
    const prefix = resource.startsWith(PROBATIVE_PATH_PREFIX) ? PROBATIVE_PATH_PREFIX : DOWNLOAD_PATH_PREFIX;
    const id = decodeURIComponent(resource.slice(prefix.length));
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      return sendS3Error(res, 405, 'MethodNotAllowed', 'The specified method is not allowed against this resource.', resource);
    }
    // S3 refuses a pre-signed URL that also carries an Authorization header.
    if (req.headers.authorization !== undefined) {
      return sendS3Error(
        res,
        400,
        'InvalidArgument',
        'Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter, Signature query string parameter or the Authorization header should be specified',
        resource,
      );
    }
    const check = signer.check(id, url.searchParams, prefix);
    if (!check.ok) return sendS3Error(res, 403, check.code, check.message, resource);
    const attachment = tenants.byAttachment(id)?.attachment(id);
    const object = attachment && objectOf(attachment, prefix === PROBATIVE_PATH_PREFIX);
    if (!attachment || !object) return sendS3Error(res, 404, 'NoSuchKey', 'The specified key does not exist.', resource);

    res.writeHead(200, {
      'content-type': object.contentType,
      'content-length': String(object.size),
      etag: `"${object.key.replace(/[^A-Za-z0-9]/g, '').slice(0, 40)}"`,
      'last-modified': new Date(attachment.createdAt).toUTCString(),
    });
    if (req.method === 'HEAD') return void res.end();
    if (cutAfter === undefined) {
      await pipeline(attachmentBytes(object.key, object.size), res).catch(() => res.destroy());
      return;
    }
    for await (const chunk of attachmentBytes(object.key, Math.min(cutAfter, object.size))) {
      if (!res.write(chunk)) await once(res, 'drain');
    }
    req.socket.destroy();
  }

  /** The stored object a download URL names: the attachment, or its probative copy while available. */
  function objectOf(attachment: SimAttachment, probative: boolean): { key: string; size: number; contentType: string } | null {
    if (!probative) return { key: attachment.id, size: attachment.size, contentType: attachment.contentType };
    if (attachment.probative.status !== 'available') return null;
    return { key: probativeContentKey(attachment.id), size: attachment.probative.size, contentType: 'application/pdf' };
  }

  const running = await startHttpServer(async (req, res) => {
    const method = req.method ?? 'GET';
    const target = req.url ?? '/';
    requests.push({ method, path: target, headers: req.headers });
    if (requests.length > MAX_RECORDED) requests.splice(0, requests.length - MAX_RECORDED);

    const url = new URL(target, 'http://simulator');
    const download = url.pathname.startsWith(DOWNLOAD_PATH_PREFIX) || url.pathname.startsWith(PROBATIVE_PATH_PREFIX);
    const fault = faults.take(method, target);
    if (fault?.kind === 'drop' || (fault?.kind === 'drop-after-bytes' && !download)) {
      req.socket.destroy();
      return;
    }
    // A hung server: the request is read, nothing is ever answered.
    if (fault?.kind === 'stall') return;
    if (fault?.kind === 'redirect') {
      res.writeHead(fault.status ?? 302, { location: fault.location, 'content-length': '0' });
      return void res.end();
    }
    if (fault?.kind === 'stall-body') stallAfter(res, fault.bytes);
    if (fault?.kind === 'status') {
      const headers: Record<string, string> = fault.retryAfterSec === undefined ? {} : { 'retry-after': String(fault.retryAfterSec) };
      if (oauth.handles(url.pathname)) {
        return sendOAuthError(res, fault.status, fault.code ?? (fault.status >= 500 ? 'server_error' : fault.status === 429 ? 'temporarily_unavailable' : 'invalid_request'), `Injected fault (HTTP ${fault.status})`, headers);
      }
      if (download) {
        return sendS3Error(res, fault.status, fault.code ?? defaultS3Code(fault.status), 'Injected fault', url.pathname, headers);
      }
      return sendQontoError(res, fault.status, [{ code: fault.code ?? defaultQontoCode(fault.status), detail: `Injected fault (HTTP ${fault.status})` }], headers);
    }
    if (oauth.handles(url.pathname)) return oauth.handle(req, res, url);
    if (download) return serveDownload(req, res, url, fault?.kind === 'drop-after-bytes' ? fault.bytes : undefined);
    await serveApi(req, res, url);
  }, opts.port ?? 0, '127.0.0.1', { latencyMs: opts.latencyMs });
  // fetch (undici) keeps a connection only if the server's keep-alive hint exceeds one second; S3,
  // which serves the attachments, keeps connections, so must the simulator.
  running.server.keepAliveTimeout = KEEP_ALIVE_MS;
  let connections = 0;
  running.server.on('connection', () => (connections += 1));

  const webhooks = new WebhookDispatcher(data, { now, ...opts.webhooks });

  return {
    url: running.url,
    faults,
    webhooks,
    data,
    tenants,
    addApiKey(key, tenant = data) {
      access.addApiKey(key);
      tenants.bindApiKey(key.login, tenant);
    },
    requests,
    tokenAnswers: oauth.tokenAnswers,
    rateLimited: () => rateLimited,
    connections: () => connections,
    arrivals: throttle.arrivals,
    issueAccessToken(membershipId, tokenOpts) {
      if (!tenants.membership(membershipId)) throw new Error(`unknown membership ${membershipId}`);
      return access.issueAccessToken(membershipId, tokenOpts);
    },
    revokeAccessTokens(membershipId) {
      const revoked = access.revokeAccessTokens(membershipId);
      (tenants.byMembership(membershipId) ?? data).revokeConsent(membershipId);
      return revoked;
    },
    close: async () => {
      webhooks.stop();
      await running.close();
    },
  };
}
