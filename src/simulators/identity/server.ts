/**
 * Identity simulator: the Microsoft identity platform's v2.0 authorize and token endpoints
 * (`/{consumers|common|organizations|<tenant id>}/oauth2/v2.0/{authorize,token}`) on a plain HTTP
 * server. MSAL reaches it through the network client of src/auth/msal-network.ts.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { faultError, sendAadError } from './aad-error.js';
import { handleAuthorize, sendHtml } from './authorize.js';
import type { ClientRegistration, IdentityContext, TokenAnswer } from './context.js';
import type { MicrosoftDirectory } from './directory.js';
import { handleToken } from './token.js';
import { Faults } from '../faults.js';
import { readBody, startHttpServer } from '../http.js';

export interface IdentitySimulatorOptions {
  directory: MicrosoftDirectory;
  port?: number;
  /** Clock for codes and token lifetimes; defaults to the directory's, which also judges access tokens. */
  now?: () => number;
  accessTokenTtlSec?: number;
  /** Refresh tokens die after this long unused (MSA: about 90 days). */
  refreshTokenTtlSec?: number;
  /** How long a spent refresh token is still accepted (see token.ts); 0 = strict rotation. */
  refreshTokenReuseGraceSec?: number;
  /** Registered clients; when omitted any client id is accepted and secrets are not checked. */
  clients?: ClientRegistration[];
  faults?: Faults;
}

export interface IdentitySimulator {
  /** Base URL, e.g. http://127.0.0.1:41234 (use as MICROSOFT_LOGIN_URL). */
  url: string;
  faults: Faults;
  /** Requests that reached the token endpoint (faulted ones included). */
  readonly tokenRequests: number;
  /** The token endpoint's answers, injected faults left out. */
  readonly tokenAnswers: readonly TokenAnswer[];
  close(): Promise<void>;
}

const ROUTE = /^\/([^/]+)\/oauth2\/v2\.0\/(authorize|token)$/;

/** Reads `bytes` of the body, then cuts the connection: a request lost in transit. */
async function dropAfter(req: IncomingMessage, bytes: number): Promise<void> {
  let seen = 0;
  for await (const chunk of req) {
    seen += (chunk as Buffer).length;
    if (seen >= bytes) break;
  }
  req.socket.destroy();
}

export async function startIdentitySimulator(opts: IdentitySimulatorOptions): Promise<IdentitySimulator> {
  const ctx: IdentityContext = {
    directory: opts.directory,
    now: opts.now ?? opts.directory.now,
    accessTokenTtlSec: opts.accessTokenTtlSec ?? 3600,
    refreshTokenTtlSec: opts.refreshTokenTtlSec ?? 90 * 24 * 3600,
    refreshTokenReuseGraceSec: opts.refreshTokenReuseGraceSec ?? 0,
    clients: opts.clients,
    codes: new Map(),
    idTokenKey: randomBytes(32),
    tokenAnswers: [],
  };
  const faults = opts.faults ?? new Faults();
  let tokenRequests = 0;

  const handler = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://identity.local');
    const method = req.method ?? 'GET';
    const route = ROUTE.exec(url.pathname);
    const endpoint = route?.[2];
    if (endpoint === 'token') tokenRequests += 1;
    const correlationId = url.searchParams.get('client-request-id') ?? headerValue(req, 'client-request-id') ?? randomUUID();

    const fault = faults.take(method, `${url.pathname}${url.search}`);
    if (fault?.kind === 'slow-answer') holdAnswer(res, fault.ms);
    if (fault?.kind === 'drop') return void req.socket.destroy();
    if (fault?.kind === 'drop-after-bytes') return dropAfter(req, fault.bytes);
    if (fault?.kind === 'status') {
      const headers: Record<string, string> = fault.retryAfterSec !== undefined ? { 'retry-after': String(fault.retryAfterSec) } : {};
      const e = faultError(fault.status, fault.code);
      if (endpoint === 'authorize') {
        for (const [name, value] of Object.entries(headers)) res.setHeader(name, value);
        return sendHtml(res, fault.status, 'Sign-in temporarily unavailable', `<p>AADSTS${e.code}: ${e.description}</p>`);
      }
      return sendAadError(res, fault.status, e, correlationId, ctx.now(), headers);
    }

    if (!route || !endpoint) {
      return sendAadError(res, 404, { error: 'invalid_request', code: 900561, description: `No endpoint at ${url.pathname}.` }, correlationId, ctx.now());
    }
    const tenant = route[1] ?? '';
    if (endpoint === 'authorize') {
      if (method !== 'GET') return sendHtml(res, 405, 'Method not allowed', '<p>Use GET.</p>');
      return handleAuthorize(ctx, res, tenant, url);
    }
    if (method !== 'POST') {
      return sendAadError(res, 400, { error: 'invalid_request', code: 900561, description: 'The endpoint only accepts POST requests.' }, correlationId, ctx.now());
    }
    const contentType = headerValue(req, 'content-type') ?? '';
    if (!contentType.toLowerCase().startsWith('application/x-www-form-urlencoded')) {
      return sendAadError(res, 400, { error: 'invalid_request', code: 900144, description: "The request body must be 'application/x-www-form-urlencoded'." }, correlationId, ctx.now());
    }
    const form = new URLSearchParams((await readBody(req, 64 * 1024)).toString('utf8'));
    handleToken(ctx, res, form, correlationId);
  };

  const server = await startHttpServer(handler, opts.port ?? 0);
  return {
    url: server.url,
    faults,
    get tokenRequests() {
      return tokenRequests;
    },
    tokenAnswers: ctx.tokenAnswers,
    close: () => server.close(),
  };
}

function headerValue(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** The request is handled as usual (a refresh token presented is spent at once) and its answer, headers
 * included, leaves `ms` later: an identity service that is slow to answer. */
function holdAnswer(res: ServerResponse, ms: number): void {
  const end = res.end.bind(res) as (...args: unknown[]) => ServerResponse;
  res.end = ((...args: unknown[]) => {
    setTimeout(() => end(...args), ms);
    return res;
  }) as ServerResponse['end'];
}
