/**
 * `@microsoft/microsoft-graph-client` with our own middleware chain. The SDK's default chain drops the
 * bearer token for http:// or non-Graph hosts (simulators), so the chain here is:
 *
 *   FailureCapture → BearerAuth (token for the Graph base URL only; a new one once on 401)
 *                  → TransientRetry (withRetry, honours Retry-After) → FetchHandler
 *
 * Every non-2xx answer becomes a typed error inside the chain. The SDK rewraps anything thrown in the
 * chain as a GraphError, so the outermost middleware parks the typed error in a per-request
 * RequestState for `GraphApi.send` to rethrow as is.
 */
import { Client, type Context, type GraphRequest, type Middleware, type MiddlewareOptions } from '@microsoft/microsoft-graph-client';
import { FatalError, ReconnectRequiredError, SyncError } from '../errors.js';
import { withRetry, type RetryOptions } from '../http/retry.js';
import { errorFromResponse, networkError } from './graph-errors.js';

/** `rejected`: the token Graph just refused (401) before its expiry; the getter hands out a new one,
 * refreshing only if the stored token is still that one (other workers may have met the same 401). */
export type AccessTokenGetter = (opts: { rejected?: string }) => Promise<string>;

export interface GraphApiOptions {
  /** e.g. https://graph.microsoft.com/v1.0 or http://127.0.0.1:P/v1.0 */
  graphUrl: string;
  getAccessToken: AccessTokenGetter;
  retry: RetryOptions;
  fetch: typeof fetch;
}

/** Per-request middleware option: where the chain leaves the typed error it threw, and how many
 * times the request was sent. */
class RequestState implements MiddlewareOptions {
  failure?: unknown;
  sent = 0;
}

abstract class Link implements Middleware {
  protected next!: Middleware;
  setNext(next: Middleware): void {
    this.next = next;
  }
  abstract execute(context: Context): Promise<void>;
}

class FailureCapture extends Link {
  async execute(context: Context): Promise<void> {
    try {
      await this.next.execute(context);
    } catch (error) {
      const state = context.middlewareControl?.getMiddlewareOptions(RequestState);
      if (state instanceof RequestState) state.failure = error;
      throw error;
    }
  }
}

/** How long one access token serves this client's requests. MSAL hands out tokens valid at least five
 * more minutes; asking it per request would read and decrypt the token cache each time, one request
 * at a time (it serialises per integration), which holds back concurrent uploads. */
const TOKEN_REUSE_MS = 60_000;

class BearerAuth extends Link {
  private token: { value: Promise<string>; at: number } | null = null;

  constructor(
    private readonly base: URL,
    private readonly getAccessToken: AccessTokenGetter,
  ) {
    super();
  }

  async execute(context: Context): Promise<void> {
    if (!isUnder(requestUrl(context), this.base)) return this.next.execute(context);
    // A getter failure (e.g. ReconnectRequiredError from the token cache) propagates untouched.
    const used = this.current();
    const token = await used;
    setHeader(context, 'Authorization', `Bearer ${token}`);
    try {
      await this.next.execute(context);
    } catch (error) {
      if (!(error instanceof ReconnectRequiredError && error.status === 401)) throw error;
      setHeader(context, 'Authorization', `Bearer ${await this.replaced(used, token)}`);
      await this.next.execute(context); // a second 401 propagates as ReconnectRequiredError
    }
  }

  /** The token in use, asked for again after TOKEN_REUSE_MS; concurrent requests share one ask. */
  private current(): Promise<string> {
    if (this.token === null || Date.now() - this.token.at >= TOKEN_REUSE_MS) this.remember(this.getAccessToken({}));
    return this.token!.value;
  }

  /** After a 401 for `rejected` (asked for as `used`): a new token, unless another request of this
   * client already asked for one. */
  private replaced(used: Promise<string>, rejected: string): Promise<string> {
    if (this.token === null || this.token.value === used) this.remember(this.getAccessToken({ rejected }));
    return this.token!.value;
  }

  private remember(value: Promise<string>): void {
    const token = { value, at: Date.now() };
    this.token = token;
    // A failed ask is not kept: the next request asks again.
    value.catch(() => {
      if (this.token === token) this.token = null;
    });
  }
}

class TransientRetry extends Link {
  constructor(private readonly retry: RetryOptions) {
    super();
  }

  async execute(context: Context): Promise<void> {
    const what = describe(context);
    await withRetry(
      async () => {
        await this.next.execute(context);
        const response = context.response;
        if (!response) throw new FatalError(`${what}: no response`);
        if (!response.ok) throw await errorFromResponse(response, what);
      },
      { ...this.retry, signal: context.options?.signal ?? undefined },
    );
  }
}

/** Statuses whose Response may not carry a body. */
const NULL_BODY = new Set([101, 204, 205, 304]);

class FetchHandler implements Middleware {
  constructor(private readonly fetchImpl: typeof fetch) {}

  async execute(context: Context): Promise<void> {
    const signal = context.options?.signal;
    const state = context.middlewareControl?.getMiddlewareOptions(RequestState);
    if (state instanceof RequestState) state.sent += 1;
    try {
      const response = await this.fetchImpl(requestOf(context), withStreamedBody(context.options));
      // Graph answers here are small JSON: read them whole so a connection cut mid-body is a network
      // error inside the retry loop rather than a parse error after it.
      const body = NULL_BODY.has(response.status) ? null : await response.arrayBuffer();
      context.response = new Response(body, { status: response.status, statusText: response.statusText, headers: response.headers });
    } catch (error) {
      // Aborted, or refused before sending (the drive's back-off gate): not a network failure.
      if (signal?.aborted || error instanceof SyncError) throw error;
      throw networkError(describe(context), error);
    }
  }
}

export class GraphApi {
  /** The Graph base URL without a trailing slash. */
  readonly baseUrl: string;
  private readonly client: Client;

  constructor(opts: GraphApiOptions) {
    this.baseUrl = opts.graphUrl.replace(/\/+$/, '');
    const base = new URL(this.baseUrl);
    // The SDK joins baseUrl + defaultVersion + path: split the configured URL at its last segment.
    const cut = this.baseUrl.lastIndexOf('/');
    const hasVersion = base.pathname.length > 1;
    this.client = Client.initWithMiddleware({
      baseUrl: hasVersion ? this.baseUrl.slice(0, cut) : this.baseUrl,
      defaultVersion: hasVersion ? this.baseUrl.slice(cut + 1) : '',
      middleware: [
        new FailureCapture(),
        new BearerAuth(base, opts.getAccessToken),
        new TransientRetry(opts.retry),
        new FetchHandler(opts.fetch),
      ],
    });
  }

  /**
   * Sends one request. `path` is relative to the Graph base URL (`/me/drive`), or an absolute link
   * under it (`@odata.nextLink`). Resolves to the parsed JSON body (undefined for 204). `sent`, when
   * given, learns how many times the request went out (retries included).
   */
  async send(path: string, run: (request: GraphRequest) => Promise<unknown>, signal?: AbortSignal, sent?: { times: number }): Promise<unknown> {
    const state = new RequestState();
    const request = this.client.api(this.relativePath(path)).middlewareOptions([state]);
    if (signal) request.option('signal', signal);
    try {
      return await run(request);
    } catch (error) {
      // eslint-disable-next-line @typescript-eslint/only-throw-error -- rethrows what the chain threw, untouched
      if (state.failure !== undefined) throw state.failure;
      throw new FatalError(`Graph ${path}: unreadable response`, { cause: error });
    } finally {
      if (sent) sent.times = state.sent;
    }
  }

  private relativePath(path: string): string {
    if (!/^https?:\/\//i.test(path)) return path;
    if (path.startsWith(`${this.baseUrl}/`)) return path.slice(this.baseUrl.length);
    throw new FatalError(`Graph link outside ${this.baseUrl}: ${new URL(path).origin}`);
  }
}

/**
 * A file body (simple upload) handed to fetch as a one-chunk stream with its Content-Length: fetch
 * copies a Buffer body before sending it, a stream chunk goes to the socket as it is. A fresh stream
 * per attempt, so a retried request sends the same bytes again.
 */
function withStreamedBody(options: RequestInit | undefined): RequestInit | undefined {
  const body = options?.body;
  if (!(body instanceof Uint8Array)) return options;
  const headers = new Headers(options!.headers);
  headers.set('Content-Length', String(body.byteLength));
  const stream = new ReadableStream<Uint8Array>({
    start(controller) {
      controller.enqueue(body);
      controller.close();
    },
  });
  return { ...options, headers, body: stream, duplex: 'half' };
}

/** The Graph client types it with the DOM's RequestInfo, which Node's type declarations lack. */
function requestOf(context: Context): string | Request {
  return context.request as string | Request;
}

function requestUrl(context: Context): URL {
  const request = requestOf(context);
  return new URL(typeof request === 'string' ? request : request.url);
}

function isUnder(url: URL, base: URL): boolean {
  const prefix = base.pathname.replace(/\/+$/, '');
  return url.origin === base.origin && (url.pathname === prefix || url.pathname.startsWith(`${prefix}/`));
}

function setHeader(context: Context, name: string, value: string): void {
  const options = (context.options ??= {});
  const headers = new Headers(options.headers);
  headers.set(name, value);
  options.headers = headers;
}

function describe(context: Context): string {
  const url = requestUrl(context);
  return `Graph ${context.options?.method ?? 'GET'} ${url.pathname}`;
}
