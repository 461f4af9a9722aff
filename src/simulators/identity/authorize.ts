/**
 * GET /{tenant}/oauth2/v2.0/authorize — the browser leg of the auth-code flow.
 *
 * With `login_hint` naming a known user, sign-in completes at once (302 back with a code): tests and
 * scripted runs need no page. Without it, a small page lists the directory's users (each a link that
 * completes the same way) and a Decline link (access_denied), so a person can use the sandbox.
 *
 * Deviations from the real service, on purpose: PKCE with S256 is required (the product always
 * sends it); `/consumers` and `/common` let work accounts through, so that the client's own
 * tenant check can be exercised (the real `/consumers` page would refuse them).
 */
import { randomBytes } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import { redirectUriAllowed } from '../redirect-uri.js';
import { CODE_TTL_MS, findClient, type IdentityContext } from './context.js';
import { CONSUMER_TENANT_ID, type SimUser } from './directory.js';

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

export function sendHtml(res: ServerResponse, status: number, title: string, body: string): void {
  const html = `<!doctype html><html><head><meta charset="utf-8"><title>${escapeHtml(title)}</title></head><body><h1>${escapeHtml(title)}</h1>${body}</body></html>`;
  res.writeHead(status, { 'content-type': 'text/html; charset=utf-8', 'content-length': Buffer.byteLength(html), 'cache-control': 'no-store' });
  res.end(html);
}

function redirectTo(redirectUri: string, params: Record<string, string | undefined>): string {
  const target = new URL(redirectUri);
  for (const [name, value] of Object.entries(params)) if (value !== undefined) target.searchParams.set(name, value);
  return target.toString();
}

function redirect(res: ServerResponse, location: string): void {
  res.writeHead(302, { location, 'cache-control': 'no-store', 'content-length': 0 });
  res.end();
}

/** Which users a tenant segment admits. */
function tenantAdmits(tenant: string, user: SimUser): boolean {
  if (tenant === 'consumers' || tenant === 'common') return true;
  if (tenant === 'organizations') return user.tenantId !== CONSUMER_TENANT_ID;
  return tenant === user.tenantId;
}

export function handleAuthorize(ctx: IdentityContext, res: ServerResponse, tenant: string, url: URL): void {
  const q = url.searchParams;
  const clientId = q.get('client_id') ?? '';
  const redirectUri = q.get('redirect_uri') ?? '';
  const state = q.get('state') ?? undefined;

  // Without a trustworthy client and redirect URI the error cannot be sent back: show it here.
  const client = clientId ? findClient(ctx, clientId) : null;
  if (!client) {
    const detail = clientId ? `AADSTS700016: Application with identifier '${clientId}' was not found in the directory.` : "AADSTS900144: The request body must contain the following parameter: 'client_id'.";
    sendHtml(res, 400, 'Sign-in error', `<p>${escapeHtml(detail)}</p>`);
    return;
  }
  if (!redirectUri || !redirectUriAllowed(client, redirectUri)) {
    sendHtml(res, 400, 'Sign-in error', `<p>${escapeHtml(`AADSTS50011: The redirect URI '${redirectUri}' specified in the request does not match the redirect URIs configured for the application '${clientId}'.`)}</p>`);
    return;
  }

  const fail = (error: string, description: string) => redirect(res, redirectTo(redirectUri, { error, error_description: description, state }));
  if (q.get('response_type') !== 'code') return fail('unsupported_response_type', "AADSTS700054: response_type must be 'code'.");
  if (!q.get('scope')) return fail('invalid_request', "AADSTS900144: The request body must contain the following parameter: 'scope'.");
  const codeChallenge = q.get('code_challenge');
  if (!codeChallenge) return fail('invalid_request', 'AADSTS9002325: Proof Key for Code Exchange is required.');
  if (q.get('code_challenge_method') !== 'S256') return fail('invalid_request', "AADSTS501491: code_challenge_method must be 'S256'.");

  const hinted = q.get('login_hint');
  const user = hinted ? ctx.directory.findUserByUsername(hinted) : undefined;
  if (user) {
    if (!tenantAdmits(tenant, user)) return fail('access_denied', `AADSTS50020: User account '${user.username}' does not exist in tenant '${tenant}'.`);
    const code = `M.C5${randomBytes(32).toString('base64url')}`;
    ctx.codes.set(code, {
      clientId,
      redirectUri,
      codeChallenge,
      userId: user.id,
      nonce: q.get('nonce') ?? undefined,
      expiresAt: ctx.now() + CODE_TTL_MS,
      redeemed: false,
    });
    redirect(res, redirectTo(redirectUri, { code, state }));
    return;
  }

  const choose = (username: string) => {
    const next = new URL(url.toString());
    next.searchParams.set('login_hint', username);
    return `${next.pathname}${next.search}`;
  };
  const users = ctx.directory.listUsers().filter((u) => tenantAdmits(tenant, u));
  const items = users
    .map((u) => `<li><a href="${escapeHtml(choose(u.username))}">${escapeHtml(u.name)} &lt;${escapeHtml(u.username)}&gt;</a> (${u.kind})</li>`)
    .join('');
  const decline = redirectTo(redirectUri, { error: 'access_denied', error_description: 'AADSTS65004: User declined to consent to access the app.', state });
  const notice = hinted ? `<p>No account ${escapeHtml(hinted)} here.</p>` : '';
  sendHtml(
    res,
    200,
    'Sign in (identity simulator)',
    `${notice}<p>Choose an account to let the application access your files:</p><ul>${items || '<li>No accounts in this directory.</li>'}</ul><p><a href="${escapeHtml(decline)}">Decline</a></p>`,
  );
}
