/**
 * POST /{tenant}/oauth2/v2.0/token — the form body msal-node 7.2.3 sends (authorization_code and
 * refresh_token grants), answered in the identity platform's JSON shape.
 *
 * Refresh tokens rotate: every refresh returns a new one and the one presented is spent. A spent
 * token is rejected once `refreshTokenReuseGraceSec` (default 0, strict) has passed since its first
 * use. The real service is more tolerant than the strict default; strictness proves the client
 * persists the newest token, and a grace period models the tolerance when several hosts share a
 * token cache and may race on a refresh.
 */
import { createHash } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import { sendAadError, type AadError } from './aad-error.js';
import { findClient, OIDC_SCOPES, splitScopes, type IdentityContext } from './context.js';
import type { SimUser } from './directory.js';
import { base64urlJson, signJwt } from './jwt.js';
import { sendJson } from '../http.js';

const missing = (name: string): AadError => ({
  error: 'invalid_request',
  code: 900144,
  description: `The request body must contain the following parameter: '${name}'.`,
});

/** Expired or revoked consent, exactly as personal accounts report it. */
const REVOKED: AadError = {
  error: 'invalid_grant',
  code: 70000,
  suberror: 'bad_token',
  description: 'The user could not be authenticated as the grant is expired. The user must sign in again.',
};

function pkceChallenge(verifier: string): string {
  return createHash('sha256').update(verifier).digest('base64url');
}

/** A pairwise subject, like the real `sub`: stable per user and app, different across apps. */
function pairwiseSub(user: SimUser, clientId: string): string {
  return createHash('sha256').update(`${user.id}|${clientId}`).digest('base64url').slice(0, 43);
}

class TokenError extends Error {
  constructor(
    readonly status: number,
    readonly body: AadError,
  ) {
    super(body.description);
  }
}

interface Grant {
  user: SimUser;
  clientId: string;
  /** Scopes consented in the grant (what a refresh may ask for). */
  grantedScopes: string[];
  nonce?: string;
}

export function handleToken(ctx: IdentityContext, res: ServerResponse, form: URLSearchParams, correlationId: string): void {
  const grantType = form.get('grant_type');
  try {
    const answer = exchange(ctx, form);
    ctx.tokenAnswers.push({ grantType, status: 200 });
    sendJson(res, 200, answer, { 'cache-control': 'no-store', pragma: 'no-cache', 'client-request-id': correlationId });
  } catch (error) {
    if (!(error instanceof TokenError)) throw error;
    ctx.tokenAnswers.push({ grantType, status: error.status, error: error.body.error, code: error.body.code });
    sendAadError(res, error.status, error.body, correlationId, ctx.now());
  }
}

function required(form: URLSearchParams, name: string): string {
  const value = form.get(name);
  if (!value) throw new TokenError(400, missing(name));
  return value;
}

function exchange(ctx: IdentityContext, form: URLSearchParams): Record<string, unknown> {
  const grantType = required(form, 'grant_type');
  if (grantType !== 'authorization_code' && grantType !== 'refresh_token') {
    throw new TokenError(400, { error: 'unsupported_grant_type', code: 70003, description: `The app requested an unsupported grant type '${grantType}'.` });
  }
  const clientId = required(form, 'client_id');
  const client = findClient(ctx, clientId);
  if (!client) throw new TokenError(400, { error: 'unauthorized_client', code: 700016, description: `Application with identifier '${clientId}' was not found in the directory.` });
  if (client.clientSecret !== undefined) {
    const secret = form.get('client_secret');
    if (!secret) throw new TokenError(400, { error: 'invalid_client', code: 7000218, description: "The request body must contain the following parameter: 'client_assertion' or 'client_secret'." });
    if (secret !== client.clientSecret) throw new TokenError(400, { error: 'invalid_client', code: 7000215, description: 'Invalid client secret provided.' });
  }
  const scope = required(form, 'scope');
  const grant = grantType === 'authorization_code' ? redeemCode(ctx, form, clientId) : redeemRefreshToken(ctx, form, clientId);

  const asked = splitScopes(scope);
  const notGranted = asked.filter((s) => !OIDC_SCOPES.includes(s) && !grant.grantedScopes.some((g) => g.toLowerCase() === s.toLowerCase()));
  if (notGranted.length > 0) {
    throw new TokenError(400, {
      error: 'invalid_grant',
      code: 65001,
      suberror: 'consent_required',
      description: `The user has not consented to use the application for: ${notGranted.join(' ')}.`,
    });
  }
  return tokenResponse(ctx, grant, asked);
}

function redeemCode(ctx: IdentityContext, form: URLSearchParams, clientId: string): Grant {
  const codeValue = required(form, 'code');
  const redirectUri = required(form, 'redirect_uri');
  const verifier = required(form, 'code_verifier');
  const code = ctx.codes.get(codeValue);
  if (!code) throw new TokenError(400, { error: 'invalid_grant', code: 9002313, description: 'Invalid request. The authorization code is malformed or unknown.' });
  if (code.redeemed) throw new TokenError(400, { error: 'invalid_grant', code: 54005, description: 'OAuth2 Authorization code was already redeemed, please retry with a new valid code or use an existing refresh token.' });
  // Any redemption attempt spends the code, so a verifier cannot be guessed over several tries.
  code.redeemed = true;
  if (code.expiresAt <= ctx.now()) throw new TokenError(400, { error: 'invalid_grant', code: 70008, description: 'The provided authorization code or refresh token has expired due to inactivity.' });
  if (code.clientId !== clientId) throw new TokenError(400, { error: 'invalid_grant', code: 70000, description: 'The authorization code was issued to another application.' });
  if (code.redirectUri !== redirectUri) throw new TokenError(400, { error: 'invalid_grant', code: 500112, description: 'The reply address does not match the reply address provided when requesting the authorization code.' });
  if (pkceChallenge(verifier) !== code.codeChallenge) throw new TokenError(400, { error: 'invalid_grant', code: 501481, description: 'The Code_Verifier does not match the code_challenge supplied in the authorization request.' });
  const user = ctx.directory.getUser(code.userId);
  if (!user) throw new TokenError(400, REVOKED);
  return { user, clientId, grantedScopes: splitScopes(required(form, 'scope')), nonce: code.nonce };
}

function redeemRefreshToken(ctx: IdentityContext, form: URLSearchParams, clientId: string): Grant {
  const token = required(form, 'refresh_token');
  const record = ctx.directory.getRefreshToken(token);
  const now = ctx.now();
  if (!record) throw new TokenError(400, { error: 'invalid_grant', code: 9002313, description: 'Invalid request. The refresh token is malformed or unknown.' });
  if (record.revoked) throw new TokenError(400, REVOKED);
  if (record.clientId !== clientId) throw new TokenError(400, { error: 'invalid_grant', code: 70000, description: 'The refresh token was issued to another application.' });
  if (record.expiresAt <= now) throw new TokenError(400, { error: 'invalid_grant', code: 700082, description: 'The refresh token has expired due to inactivity.' });
  if (record.usedAt !== undefined && now - record.usedAt >= ctx.refreshTokenReuseGraceSec * 1000) {
    throw new TokenError(400, { error: 'invalid_grant', code: 70000, description: 'The refresh token was already used: refresh tokens rotate, present the newest one.' });
  }
  record.usedAt ??= now;
  const user = ctx.directory.getUser(record.userId);
  if (!user) throw new TokenError(400, REVOKED);
  return { user, clientId, grantedScopes: record.scopes };
}

function tokenResponse(ctx: IdentityContext, grant: Grant, asked: string[]): Record<string, unknown> {
  const { user, clientId } = grant;
  const nowSec = Math.floor(ctx.now() / 1000);
  const body: Record<string, unknown> = {
    token_type: 'Bearer',
    // Echo the scopes as asked: MSAL caches this string and matches later requests against it.
    scope: asked.join(' '),
    expires_in: ctx.accessTokenTtlSec,
    ext_expires_in: ctx.accessTokenTtlSec,
    access_token: ctx.directory.issueAccessToken(user.id, asked, ctx.accessTokenTtlSec),
  };
  if (asked.includes('offline_access')) {
    body.refresh_token = ctx.directory.issueRefreshToken({
      userId: user.id,
      clientId,
      scopes: grant.grantedScopes,
      expiresAt: ctx.now() + ctx.refreshTokenTtlSec * 1000,
    });
  }
  if (asked.includes('openid')) {
    body.id_token = signJwt(
      {
        ver: '2.0',
        iss: `https://login.microsoftonline.com/${user.tenantId}/v2.0`,
        sub: pairwiseSub(user, clientId),
        aud: clientId,
        exp: nowSec + 3600,
        iat: nowSec,
        nbf: nowSec,
        name: user.name,
        preferred_username: user.username,
        oid: user.id,
        tid: user.tenantId,
        ...(grant.nonce ? { nonce: grant.nonce } : {}),
      },
      ctx.idTokenKey,
    );
  }
  body.client_info = base64urlJson({ uid: user.id, utid: user.tenantId });
  return body;
}
