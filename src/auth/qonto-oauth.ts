/**
 * Qonto OAuth for an integration (docs/contracts-qonto.md, OAuth 2.0): the authorization URL, the code exchange, and
 * access tokens kept fresh from a refresh token sealed in the store.
 *
 * Tokens are refreshed before they expire rather than after a 401, because Qonto counts 401s
 * toward throttling. Refresh tokens rotate, so every read-refresh-store of an integration's tokens
 * runs under its token lock (token-lock.ts), in this process and across the processes sharing the
 * store, and the new refresh token is stored before the access token is handed out; a caller that
 * waited reads the tokens again, finds fresh ones and does not refresh again. A token that is still
 * fresh is read without the lock: reading spends nothing.
 */
import { outboundFetch } from '../http/outbound.js';
import { z } from 'zod';
import type { Sealer } from './crypto.js';
import { TokenLock } from './token-lock.js';
import { FatalError, ReconnectRequiredError, RetryableError } from '../errors.js';
import { parseRetryAfter } from '../http/retry.js';
import type { Store } from '../store/types.js';

/** `webhook`: the integration subscribes to its organization's events (docs/webhooks.md); a member who
 * signed in before it was asked for gets 403 there and keeps the daily run until signing in again. */
export const DEFAULT_QONTO_SCOPES = ['offline_access', 'organization.read', 'attachment.read', 'membership.read', 'webhook'];

/** Refresh when less than this remains of the access token's life. */
const REFRESH_MARGIN_MS = 5 * 60 * 1000;

export interface QontoTokens {
  accessToken: string;
  refreshToken: string;
  /** Epoch milliseconds at which the access token expires. */
  expiresAt: number;
  scopes: string[];
}

export interface QontoOAuthOptions {
  /** Base of the OAuth host, e.g. https://oauth.qonto.com (or the simulator's URL). */
  oauthUrl: string;
  clientId: string;
  clientSecret: string;
  redirectUri: string;
  store: Pick<Store, 'getTokenCache' | 'putTokenCache' | 'withTokenLock'>;
  sealer: Sealer;
  scopes?: string[];
  /** `/oauth2/token` in Qonto's guides, `/v2/oauth2/token` in its API samples (docs/contracts-qonto.md, OAuth 2.0). */
  tokenPath?: string;
  revokePath?: string;
  fetch?: typeof fetch;
  now?: () => number;
}

const TokenResponseSchema = z.looseObject({
  access_token: z.string().min(1),
  expires_in: z.coerce.number().positive(),
  refresh_token: z.string().min(1).optional(),
  scope: z.string().optional(),
  token_type: z.string(),
});

/** Only a plain OAuth error code is ever quoted: a server's free text could echo a credential. */
const OAuthErrorSchema = z.looseObject({ error: z.string().regex(/^[\w.-]{1,64}$/), error_description: z.string().optional() });

const StoredTokensSchema = z.object({
  accessToken: z.string(),
  refreshToken: z.string(),
  expiresAt: z.number(),
  scopes: z.array(z.string()),
});

/** Associated data binding the sealed tokens to their integration: they open nowhere else. */
export function qontoTokensAad(integrationId: string): string {
  return `token-cache:qonto:${integrationId}`;
}

type Phase = 'exchange' | 'refresh';

export class QontoOAuth {
  private readonly oauthUrl: string;
  private readonly scopes: string[];
  private readonly fetchImpl: typeof fetch;
  private readonly now: () => number;
  private readonly lock: TokenLock;

  constructor(private readonly opts: QontoOAuthOptions) {
    this.oauthUrl = opts.oauthUrl.replace(/\/+$/, '');
    const { protocol } = new URL(this.oauthUrl);
    if (protocol !== 'https:' && protocol !== 'http:') throw new Error(`QONTO_OAUTH_URL must be an http(s) URL, got ${this.oauthUrl}`);
    this.scopes = opts.scopes ?? DEFAULT_QONTO_SCOPES;
    this.fetchImpl = opts.fetch ?? outboundFetch();
    this.now = opts.now ?? Date.now;
    this.lock = new TokenLock(opts.store, 'qonto');
  }

  /** Where to send the browser; Qonto comes back to `redirectUri?code=…&state=…`. */
  authorizationUrl(state: string): string {
    const url = new URL(`${this.oauthUrl}/oauth2/auth`);
    url.search = new URLSearchParams({
      client_id: this.opts.clientId,
      redirect_uri: this.opts.redirectUri,
      scope: this.scopes.join(' '),
      response_type: 'code',
      state,
    }).toString();
    return url.toString();
  }

  /** Redeems an authorization code. Stores nothing: the caller saves once it accepts the member. */
  exchangeCode(code: string): Promise<QontoTokens> {
    return this.requestTokens({ grant_type: 'authorization_code', code, redirect_uri: this.opts.redirectUri }, 'exchange');
  }

  /** Stores the tokens of a sign-in; TokensRefusedError when the integration was revoked meanwhile. */
  save(integrationId: string, tokens: QontoTokens): Promise<void> {
    return this.lock.run(integrationId, () => this.put(integrationId, tokens));
  }

  /** Moves the stored tokens of one integration to another (re-sealed for it); the source keeps its copy
   * until the caller deletes it. */
  transfer(fromIntegrationId: string, toIntegrationId: string): Promise<void> {
    return this.lock.run(toIntegrationId, async () => {
      const tokens = await this.load(fromIntegrationId);
      if (!tokens) throw new ReconnectRequiredError('No Qonto sign-in to transfer', { code: 'no_tokens', provider: 'qonto' });
      await this.put(toIntegrationId, tokens);
    });
  }

  /** A valid access token, refreshed (and the rotated refresh token stored) when it nears expiry.
   * TokensRefusedError when the integration was revoked meanwhile: the new tokens are not handed out. */
  async getAccessToken(integrationId: string): Promise<string> {
    // Double-checked: most calls find a fresh token and never touch the lock (a database connection
    // and an advisory lock per Qonto request otherwise). Only a token due for refresh, or for re-sealing,
    // goes under the lock, where it is read again: the caller before may have refreshed meanwhile.
    const unlocked = await this.freshAccessToken(integrationId);
    if (unlocked !== null) return unlocked;
    return this.lock.run(integrationId, async () => {
      const tokens = await this.load(integrationId);
      if (!tokens) throw new ReconnectRequiredError('No Qonto account is connected to this integration: sign in with Qonto again.', { code: 'no_tokens', provider: 'qonto' });
      if (this.isFresh(tokens)) return tokens.accessToken;
      const fresh = await this.requestTokens({ grant_type: 'refresh_token', refresh_token: tokens.refreshToken }, 'refresh', tokens.refreshToken);
      await this.put(integrationId, fresh);
      return fresh.accessToken;
    });
  }

  /** Best effort: asks Qonto to revoke the stored refresh token (and with it the consent's access
   * tokens). True when Qonto confirmed. Deletes nothing: the caller removes the stored caches. */
  revoke(integrationId: string): Promise<boolean> {
    return this.lock.run(integrationId, async () => {
      // Read only: the integration is usually marked revoked already, so re-sealing would be refused.
      const tokens = await this.load(integrationId, { reseal: false }).catch(() => null);
      if (!tokens) return false;
      try {
        const res = await this.fetchImpl(`${this.oauthUrl}${this.opts.revokePath ?? '/oauth2/revoke'}`, {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
          body: new URLSearchParams({ token: tokens.refreshToken, client_id: this.opts.clientId, client_secret: this.opts.clientSecret }),
          redirect: 'manual',
          // Best effort: a hanging Qonto must not hold up deleting the tokens.
          signal: AbortSignal.timeout(5_000),
        });
        await res.body?.cancel();
        return res.ok;
      } catch {
        return false;
      }
    });
  }

  private isFresh(tokens: QontoTokens): boolean {
    return tokens.expiresAt - this.now() > REFRESH_MARGIN_MS;
  }

  /** The stored access token if it is fresh and sealed with the current key, read without the lock
   * (reading spends nothing, and writes nothing); else null: the caller goes under the lock. */
  private async freshAccessToken(integrationId: string): Promise<string | null> {
    const sealed = await this.opts.store.getTokenCache(integrationId, 'qonto');
    if (!sealed || !this.opts.sealer.isCurrent(sealed)) return null;
    const tokens = this.open(integrationId, sealed);
    return this.isFresh(tokens) ? tokens.accessToken : null;
  }

  private async put(integrationId: string, tokens: QontoTokens): Promise<void> {
    const plain = Buffer.from(JSON.stringify(StoredTokensSchema.parse(tokens)), 'utf8');
    await this.opts.store.putTokenCache(integrationId, 'qonto', this.opts.sealer.seal(plain, qontoTokensAad(integrationId)));
  }

  private async load(integrationId: string, { reseal } = { reseal: true }): Promise<QontoTokens | null> {
    const sealed = await this.opts.store.getTokenCache(integrationId, 'qonto');
    if (!sealed) return null;
    const tokens = this.open(integrationId, sealed);
    // Sealed with a key that is being rotated out: seal it again with the current one.
    if (reseal && !this.opts.sealer.isCurrent(sealed)) await this.put(integrationId, tokens);
    return tokens;
  }

  private open(integrationId: string, sealed: Buffer): QontoTokens {
    let json: unknown;
    try {
      json = JSON.parse(this.opts.sealer.open(sealed, qontoTokensAad(integrationId)).toString('utf8'));
    } catch (error) {
      // Unreadable tokens (key changed, or a damaged row) are as good as none: signing in again fixes it.
      throw new ReconnectRequiredError(`The stored Qonto sign-in cannot be decrypted: ${(error as Error).message}`, { code: 'token_cache_unreadable', provider: 'qonto' });
    }
    const parsed = StoredTokensSchema.safeParse(json);
    if (!parsed.success) throw new ReconnectRequiredError('The stored Qonto sign-in is damaged: sign in with Qonto again.', { code: 'token_cache_unreadable', provider: 'qonto' });
    return parsed.data;
  }

  /** One call to the token endpoint; failures become typed errors that never quote a token. */
  private async requestTokens(grant: Record<string, string>, phase: Phase, previousRefreshToken?: string): Promise<QontoTokens> {
    const what = phase === 'exchange' ? 'code exchange' : 'token refresh';
    const body = new URLSearchParams({ ...grant, client_id: this.opts.clientId, client_secret: this.opts.clientSecret });
    let res: Response;
    let text: string;
    try {
      res = await this.fetchImpl(`${this.oauthUrl}${this.opts.tokenPath ?? '/oauth2/token'}`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
        body,
        redirect: 'manual',
        signal: AbortSignal.timeout(30_000),
      });
      text = await res.text();
    } catch (error) {
      throw new RetryableError(`Qonto OAuth ${what} failed: network error (${(error as Error).name})`, { code: 'network_error', cause: error });
    }
    const json = parseJson(text);
    if (res.status === 429 || res.status >= 500) {
      throw new RetryableError(`Qonto OAuth ${what} unavailable (HTTP ${res.status})`, {
        status: res.status,
        code: OAuthErrorSchema.safeParse(json).data?.error,
        retryAfterMs: parseRetryAfter(res.headers.get('retry-after'), this.now()),
      });
    }
    if (!res.ok) throw this.refusal(what, phase, res.status, json);
    const parsed = TokenResponseSchema.safeParse(json);
    if (!parsed.success) {
      throw new FatalError(`Qonto OAuth ${what} answered HTTP ${res.status} with an unexpected body (is the OAuth URL right, or a sandbox staging token missing?)`, {
        status: res.status,
      });
    }
    const refreshToken = parsed.data.refresh_token ?? previousRefreshToken;
    if (!refreshToken) {
      throw new FatalError('Qonto returned no refresh token: the offline_access scope was not granted', { status: res.status, code: 'no_refresh_token' });
    }
    return {
      accessToken: parsed.data.access_token,
      refreshToken,
      expiresAt: this.now() + parsed.data.expires_in * 1000,
      scopes: parsed.data.scope === undefined ? this.scopes : parsed.data.scope.split(/\s+/).filter((s) => s !== ''),
    };
  }

  private refusal(what: string, phase: Phase, status: number, json: unknown): Error {
    const code = OAuthErrorSchema.safeParse(json).data?.error ?? `http_${status}`;
    if (code === 'invalid_client' || code === 'unauthorized_client') {
      return new FatalError(`Qonto rejected the application credentials (${code}): check QONTO_CLIENT_ID and QONTO_CLIENT_SECRET`, { status, code });
    }
    if (code === 'invalid_grant' && phase === 'refresh') {
      return new ReconnectRequiredError('Qonto consent expired or was withdrawn (invalid_grant): sign in with Qonto again', { status, code, provider: 'qonto' });
    }
    if (code === 'invalid_grant') {
      return new FatalError('Qonto refused the authorization code (invalid_grant: expired, already used or for another redirect URI): start the sign-in again', { status, code });
    }
    return new FatalError(`Qonto OAuth ${what} failed (HTTP ${status}, ${code})`, { status, code });
  }
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
