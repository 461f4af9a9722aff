/**
 * The Qonto OAuth 2.0 server (docs/contracts-qonto.md, OAuth 2.0), served by the Qonto simulator on the same port as
 * the API so that `QONTO_OAUTH_URL` can be the simulator's URL.
 *
 * - `GET /oauth2/auth`: with `login_hint` (a membership id or email, in any of the simulator's
 *   organizations) consent is given at once and
 *   the browser is sent back with a code; without it a small page lists the memberships (name and
 *   role) as links, plus a "Refuse" link (`error=access_denied`), so a person can use the sandbox.
 * - `POST /oauth2/token` (also `/v2/oauth2/token`, the path of Qonto's reference samples): codes are
 *   single use, live 10 min and are bound to the client and redirect URI; refresh tokens live
 *   90 days and rotate: each refresh returns a new one, and the old one keeps working for a grace
 *   period after its first use (60 s, as at Qonto; 0 = strict: never again), then is refused.
 * - `POST /oauth2/revoke`: revokes the whole refresh-token family and the membership's access
 *   tokens (consent withdrawn). Always 200 for an unknown token, as RFC 7009 asks.
 *
 * Access tokens come from the API simulator's own machinery, so the API accepts them for the
 * consenting membership with exactly the granted scopes.
 */
import { redirectUriAllowed } from '../redirect-uri.js';
import { randomBytes, randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { readBody, sendJson } from '../http.js';
import type { TokenOptions } from './access.js';
import type { SimMembership } from './data.js';
import type { QontoTenants } from './tenants.js';

export interface QontoOAuthClient {
  clientId: string;
  clientSecret: string;
  /** Accepted redirect URIs; any absolute http(s) URI when omitted. */
  redirectUris?: string[];
}

export interface QontoOAuthDeps {
  /** Consent is given by a member of any organization; the sign-in page lists the primary's. */
  tenants: QontoTenants;
  now: () => number;
  /** Registered clients; when omitted any client id and secret are accepted. */
  clients?: QontoOAuthClient[];
  issueAccessToken(membershipId: string, opts: TokenOptions): string;
  revokeAccessTokens(membershipId: string): number;
  /** Lifetime of the access tokens it issues; default an hour, as at Qonto. */
  accessTokenTtlSec?: number;
  /** How long a spent refresh token is still accepted; default 60 s as at Qonto, 0 = strict rotation
   * (a token presented twice is refused however close the two uses: catches racing refreshes). */
  refreshTokenReuseGraceSec?: number;
}

/** What the token endpoint answered: tests assert that no client ever spent a rotated refresh token. */
export interface TokenAnswer {
  grantType: string | null;
  status: number;
  /** The OAuth error code of a refusal (`invalid_grant`, …). */
  error?: string;
}

export const OAUTH_PATHS = ['/oauth2/auth', '/oauth2/token', '/v2/oauth2/token', '/oauth2/revoke'];

const CODE_TTL_MS = 10 * 60 * 1000;
const ACCESS_TTL_SEC = 3600;
const REFRESH_TTL_MS = 90 * 24 * 3600 * 1000;
const DEFAULT_REUSE_GRACE_SEC = 60;

interface Grant {
  clientId: string;
  membershipId: string;
  scopes: string[];
}

interface IssuedCode extends Grant {
  redirectUri: string;
  expiresAt: number;
}

interface IssuedRefreshToken extends Grant {
  family: string;
  expiresAt: number;
  /** When it was first spent; it stays usable for the grace period after that. */
  firstUsedAt?: number;
}

class OAuthError extends Error {
  constructor(
    readonly status: number,
    readonly error: string,
    description: string,
  ) {
    super(description);
  }
}

/** An OAuth2 error body (RFC 6749 §5.2), as Qonto's Ory Hydra answers. */
export function sendOAuthError(res: ServerResponse, status: number, error: string, description: string, headers: Record<string, string> = {}): void {
  sendJson(res, status, { error, error_description: description }, { 'cache-control': 'no-store', ...headers });
}

const escapeHtml = (text: string): string => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function sendHtml(res: ServerResponse, status: number, title: string, body: string): void {
  const html = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title></head><body><h1>${escapeHtml(title)}</h1>${body}</body></html>`;
  res.writeHead(status, { 'content-type': 'text/html; charset=utf-8', 'content-length': Buffer.byteLength(html), 'cache-control': 'no-store' });
  res.end(html);
}

function withParams(base: string, params: Record<string, string | undefined>): string {
  const url = new URL(base);
  for (const [name, value] of Object.entries(params)) if (value !== undefined) url.searchParams.set(name, value);
  return url.toString();
}

function redirect(res: ServerResponse, location: string): void {
  res.writeHead(302, { location, 'cache-control': 'no-store', 'content-length': 0 });
  res.end();
}

const splitScopes = (scope: string): string[] => scope.split(/\s+/).filter((s) => s !== '');

export class QontoOAuthServer {
  private readonly codes = new Map<string, IssuedCode>();
  private readonly refreshTokens = new Map<string, IssuedRefreshToken>();
  private readonly revokedFamilies = new Set<string>();
  /** Every answer of the token endpoint, oldest first (injected faults never reach this server). */
  readonly tokenAnswers: TokenAnswer[] = [];

  constructor(private readonly deps: QontoOAuthDeps) {}

  handles(pathname: string): boolean {
    return OAUTH_PATHS.includes(pathname);
  }

  async handle(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    try {
      if (url.pathname === '/oauth2/auth') {
        if (req.method !== 'GET') throw new OAuthError(405, 'invalid_request', 'Use GET to authorize');
        return this.authorize(res, url.searchParams);
      }
      if (req.method !== 'POST') throw new OAuthError(405, 'invalid_request', 'Use POST with a form body');
      const form = new URLSearchParams((await readBody(req, 64 * 1024)).toString('utf8'));
      const client = this.authenticateClient(req, form);
      if (url.pathname === '/oauth2/revoke') return this.revoke(res, form, client);
      return this.token(res, form, client);
    } catch (error) {
      if (!(error instanceof OAuthError)) throw error;
      sendOAuthError(res, error.status, error.error, error.message);
    }
  }

  private findClient(clientId: string): Partial<QontoOAuthClient> | undefined {
    if (!this.deps.clients) return { clientId };
    return this.deps.clients.find((c) => c.clientId === clientId);
  }

  private authorize(res: ServerResponse, q: URLSearchParams): void {
    const clientId = q.get('client_id') ?? '';
    const redirectUri = q.get('redirect_uri') ?? '';
    const state = q.get('state') ?? undefined;
    // Without a known client and an allowed redirect URI the error cannot be sent back: show it here.
    const client = clientId ? this.findClient(clientId) : undefined;
    if (!client) return sendHtml(res, 400, 'Authorization error', `<p>Unknown client_id ${escapeHtml(clientId)}</p>`);
    if (!redirectUriAllowed(client, redirectUri)) {
      return sendHtml(res, 400, 'Authorization error', `<p>The redirect_uri ${escapeHtml(redirectUri)} is not registered for this client</p>`);
    }
    const fail = (error: string, description: string): void => redirect(res, withParams(redirectUri, { error, error_description: description, state }));
    if (q.get('response_type') !== 'code') return fail('unsupported_response_type', 'response_type must be code');
    const scopes = splitScopes(q.get('scope') ?? '');
    if (scopes.length === 0) return fail('invalid_request', 'scope is required');
    if (!state) return fail('invalid_request', 'state is required');

    const hint = q.get('login_hint');
    const member = hint ? this.deps.tenants.memberByHint(hint) : undefined;
    if (member) {
      if (member.role === null || member.status !== 'active') return fail('access_denied', 'This membership cannot give consent');
      const code = `ory_ac_${randomBytes(32).toString('base64url')}`;
      this.codes.set(code, { clientId, redirectUri, membershipId: member.id, scopes, expiresAt: this.deps.now() + CODE_TTL_MS });
      return redirect(res, withParams(redirectUri, { code, state, scope: scopes.join(' ') }));
    }

    const choose = (m: SimMembership): string => {
      const link = new URLSearchParams(q);
      link.set('login_hint', m.id);
      return `<li><a href="/oauth2/auth?${escapeHtml(link.toString())}">${escapeHtml(`${m.firstName} ${m.lastName}`)}</a> (${escapeHtml(m.role ?? 'invited')})</li>`;
    };
    const refuse = withParams(redirectUri, { error: 'access_denied', error_description: 'The user refused consent', state });
    sendHtml(
      res,
      200,
      'Qonto - Authorize',
      `<p>Sign in as:</p><ul>${this.deps.tenants.primary.memberships().map(choose).join('')}</ul><p><a href="${escapeHtml(refuse)}">Refuse</a></p>`,
    );
  }

  /** Client credentials from the form (client_secret_post) or HTTP Basic (client_secret_basic). */
  private authenticateClient(req: IncomingMessage, form: URLSearchParams): string {
    let clientId = form.get('client_id') ?? '';
    let secret = form.get('client_secret') ?? '';
    const basic = /^Basic (.+)$/i.exec(req.headers.authorization ?? '');
    if (basic) {
      const [id, pass] = Buffer.from(basic[1]!, 'base64').toString('utf8').split(':');
      clientId = decodeURIComponent(id ?? '');
      secret = decodeURIComponent(pass ?? '');
    }
    if (!clientId) throw new OAuthError(401, 'invalid_client', 'Client authentication failed: client_id is missing');
    const client = this.findClient(clientId);
    if (!client || (client.clientSecret !== undefined && client.clientSecret !== secret)) {
      throw new OAuthError(401, 'invalid_client', 'Client authentication failed (unknown client or wrong secret)');
    }
    return clientId;
  }

  private token(res: ServerResponse, form: URLSearchParams, clientId: string): void {
    const grantType = form.get('grant_type');
    try {
      this.grant(res, grantType, form, clientId);
      this.tokenAnswers.push({ grantType, status: res.statusCode });
    } catch (error) {
      if (error instanceof OAuthError) this.tokenAnswers.push({ grantType, status: error.status, error: error.error });
      throw error;
    }
  }

  private grant(res: ServerResponse, grantType: string | null, form: URLSearchParams, clientId: string): void {
    if (grantType === 'authorization_code') return this.respond(res, this.redeemCode(form, clientId));
    if (grantType === 'refresh_token') return this.respond(res, this.rotate(form, clientId));
    if (!grantType) throw new OAuthError(400, 'invalid_request', 'grant_type is required');
    throw new OAuthError(400, 'unsupported_grant_type', `grant_type ${grantType} is not supported`);
  }

  private redeemCode(form: URLSearchParams, clientId: string): { grant: Grant; family: string } {
    const code = form.get('code');
    const redirectUri = form.get('redirect_uri');
    if (!code || !redirectUri) throw new OAuthError(400, 'invalid_request', 'code and redirect_uri are required');
    const issued = this.codes.get(code);
    // Single use: whatever happens next, this code is spent.
    this.codes.delete(code);
    if (!issued || this.deps.now() >= issued.expiresAt) {
      throw new OAuthError(400, 'invalid_grant', 'The authorization code is invalid, expired or already used');
    }
    if (issued.clientId !== clientId || issued.redirectUri !== redirectUri) {
      throw new OAuthError(400, 'invalid_grant', 'The authorization code was issued to another client or redirect_uri');
    }
    return { grant: issued, family: randomUUID() };
  }

  private rotate(form: URLSearchParams, clientId: string): { grant: Grant; family: string } {
    const token = form.get('refresh_token');
    if (!token) throw new OAuthError(400, 'invalid_request', 'refresh_token is required');
    const issued = this.refreshTokens.get(token);
    const now = this.deps.now();
    const invalid = (why: string): OAuthError => new OAuthError(400, 'invalid_grant', `The refresh token is ${why}`);
    if (!issued || this.revokedFamilies.has(issued.family)) throw invalid('invalid or revoked');
    if (issued.clientId !== clientId) throw invalid('issued to another client');
    if (now >= issued.expiresAt) throw invalid('expired');
    if (issued.firstUsedAt !== undefined && !this.withinGrace(now - issued.firstUsedAt)) throw invalid('already used (rotated)');
    issued.firstUsedAt ??= now;
    return { grant: issued, family: issued.family };
  }

  /** A spent refresh token is accepted again up to the grace period after its first use, never when it is 0. */
  private withinGrace(sinceFirstUseMs: number): boolean {
    const graceMs = (this.deps.refreshTokenReuseGraceSec ?? DEFAULT_REUSE_GRACE_SEC) * 1000;
    return graceMs > 0 && sinceFirstUseMs <= graceMs;
  }

  private respond(res: ServerResponse, { grant, family }: { grant: Grant; family: string }): void {
    const member = this.deps.tenants.membership(grant.membershipId);
    if (!member) throw new OAuthError(400, 'invalid_grant', 'The consenting membership no longer exists');
    const ttlSec = this.deps.accessTokenTtlSec ?? ACCESS_TTL_SEC;
    const accessToken = this.deps.issueAccessToken(member.id, { scopes: grant.scopes, ttlSec, clientId: grant.clientId });
    const body: Record<string, unknown> = { access_token: accessToken, expires_in: ttlSec, scope: grant.scopes.join(' '), token_type: 'bearer' };
    // As at Qonto: a refresh token only when offline_access was granted.
    if (grant.scopes.includes('offline_access')) {
      const refreshToken = `ory_rt_${randomBytes(32).toString('base64url')}`;
      this.refreshTokens.set(refreshToken, {
        clientId: grant.clientId,
        membershipId: grant.membershipId,
        scopes: grant.scopes,
        family,
        expiresAt: this.deps.now() + REFRESH_TTL_MS,
      });
      body['refresh_token'] = refreshToken;
    }
    sendJson(res, 200, body, { 'cache-control': 'no-store', pragma: 'no-cache' });
  }

  private revoke(res: ServerResponse, form: URLSearchParams, clientId: string): void {
    const token = form.get('token');
    if (!token) throw new OAuthError(400, 'invalid_request', 'token is required');
    const issued = this.refreshTokens.get(token);
    if (issued && issued.clientId === clientId) {
      this.revokedFamilies.add(issued.family);
      this.deps.revokeAccessTokens(issued.membershipId);
    }
    sendJson(res, 200, {}, { 'cache-control': 'no-store' });
  }
}
