/**
 * Microsoft sign-in for an integration (personal accounts only) and access tokens for Graph.
 *
 * MSAL (`ConfidentialClientApplication`, auth code + PKCE) does the protocol; its token cache, which
 * holds the refresh token, lives sealed in the store per integration (token-cache.ts). Every
 * operation builds a fresh MSAL client around the stored cache, so any process (or host) sharing
 * the store can serve any integration, and MSAL's in-memory throttle memory never outlives a call:
 * retry timing belongs to our callers, who get the server's Retry-After in RetryableError.
 *
 * Every read-refresh-store of an integration's cache runs under its token lock (token-lock.ts), and
 * the cache is read again under the lock: a caller that waited, here or in another process, finds
 * what the one before it stored and does not refresh again. An access token MSAL would hand out
 * without a request is read without the lock (cachedAccessToken).
 */
import {
  AuthError,
  ConfidentialClientApplication,
  CryptoProvider,
  InteractionRequiredAuthError,
  LogLevel,
  type ICachePlugin,
  type INetworkModule,
} from '@azure/msal-node';
import type { Sealer } from './crypto.js';
import { MICROSOFT_LOGIN_URL, MsalNetworkClient, OfflineNetworkClient, rewriteLoginUrl, type LastResponse } from './msal-network.js';
import { microsoftCacheAad, saveMicrosoftCache, sealedCachePlugin } from './token-cache.js';
import { TokenLock } from './token-lock.js';
import { FatalError, ReconnectRequiredError, RetryableError, isSyncError } from '../errors.js';
import { parseRetryAfter } from '../http/retry.js';
import type { MicrosoftAccount, Store } from '../store/types.js';

/** Tenant id of every personal Microsoft account (outlook.com, hotmail.com, live.com). */
export const CONSUMER_TENANT_ID = '9188040d-6c67-4c5b-b112-36a304b66dad';

export const DEFAULT_MICROSOFT_SCOPES = ['Files.ReadWrite.AppFolder', 'User.Read'];

export class WorkOrSchoolAccountError extends FatalError {
  constructor() {
    super(
      'Only personal Microsoft accounts (outlook.com, hotmail.com, live.com) can be connected: the account used is a work or school account. Sign in again with a personal Microsoft account.',
      { code: 'work_or_school_account' },
    );
  }
}

export interface MicrosoftAuthOptions {
  clientId: string;
  clientSecret: string;
  /** Base of the identity endpoints; default https://login.microsoftonline.com. May be http:// (simulator). */
  loginUrl?: string;
  redirectUri: string;
  store: Pick<Store, 'getTokenCache' | 'putTokenCache' | 'deleteTokenCaches' | 'withTokenLock'>;
  sealer: Sealer;
  scopes?: string[];
}

type Phase = 'sign-in' | 'silent';

export interface AccessTokenRequest {
  /** An access token the API refused (401) before its expiry: a new one is fetched, unless the stored
   * one already differs (another caller, here or in another process, refreshed meanwhile). */
  rejected?: string;
}

export class MicrosoftAuth {
  private readonly loginUrl: string;
  private readonly scopes: string[];
  private readonly lock: TokenLock;

  constructor(private readonly opts: MicrosoftAuthOptions) {
    this.loginUrl = (opts.loginUrl ?? MICROSOFT_LOGIN_URL).replace(/\/+$/, '');
    const { protocol } = new URL(this.loginUrl);
    if (protocol !== 'https:' && protocol !== 'http:') throw new Error(`MICROSOFT_LOGIN_URL must be an http(s) URL, got ${this.loginUrl}`);
    this.scopes = opts.scopes ?? DEFAULT_MICROSOFT_SCOPES;
    this.lock = new TokenLock(opts.store, 'microsoft');
  }

  /** The URL to send the browser to, and the PKCE verifier to keep (server side) until the callback. */
  async beginSignIn(state: string): Promise<{ authorizationUrl: string; codeVerifier: string }> {
    const { verifier, challenge } = await new CryptoProvider().generatePkceCodes();
    const url = await this.msal(new MsalNetworkClient(this.loginUrl)).getAuthCodeUrl({
      scopes: this.scopes,
      redirectUri: this.opts.redirectUri,
      codeChallenge: challenge,
      codeChallengeMethod: 'S256',
      state,
      prompt: 'select_account',
    });
    return { authorizationUrl: rewriteLoginUrl(url, this.loginUrl), codeVerifier: verifier };
  }

  /** Redeems the code; stores the sealed token cache only for a personal account (replacing any earlier
   * one). TokensRefusedError when the integration was revoked meanwhile. */
  async completeSignIn(integrationId: string, p: { code: string; codeVerifier: string }): Promise<MicrosoftAccount> {
    const network = new MsalNetworkClient(this.loginUrl);
    // No cache plugin: nothing reaches the store before the account is accepted.
    const msal = this.msal(network);
    const result = await msal
      .acquireTokenByCode({ code: p.code, codeVerifier: p.codeVerifier, redirectUri: this.opts.redirectUri, scopes: this.scopes })
      .catch((error: unknown) => {
        throw toSyncError(error, network.lastResponse, 'sign-in');
      });
    const account = result.account;
    if (!account) throw new FatalError('Microsoft sign-in returned no account', { code: 'no_account' });
    const tenantId = result.tenantId || account.tenantId;
    if (tenantId !== CONSUMER_TENANT_ID) throw new WorkOrSchoolAccountError();
    const serialized = msal.getTokenCache().serialize();
    await this.lock.run(integrationId, () => saveMicrosoftCache(this.opts.store, this.opts.sealer, integrationId, serialized));
    return { homeAccountId: account.homeAccountId, tenantId, username: account.username };
  }

  /**
   * A valid Graph access token: from the stored cache while fresh, else refreshed (the refresh token
   * rotates). With `rejected`, see AccessTokenRequest. TokensRefusedError when the integration was
   * revoked meanwhile: the refreshed tokens are then neither stored nor handed out.
   */
  async getAccessToken(integrationId: string, opts: AccessTokenRequest = {}): Promise<string> {
    // Double-checked: most calls find a valid token in the cache and never touch the lock. Anything
    // else (a refresh, a refused token, re-sealing, an error to report) goes under the lock, where the
    // cache is read again: the caller before may have refreshed meanwhile.
    if (opts.rejected === undefined) {
      const cached = await this.cachedAccessToken(integrationId);
      if (cached !== null) return cached;
    }
    return this.lock.run(integrationId, async () => {
      const network = new MsalNetworkClient(this.loginUrl);
      const plugin = sealedCachePlugin(this.opts.store, this.opts.sealer, integrationId);
      const msal = this.msal(network, plugin);
      const cache = msal.getTokenCache();
      const [account] = await cache.getAllAccounts();
      if (!account) throw new ReconnectRequiredError('No Microsoft account is connected to this integration: sign in again.', { code: 'no_account', provider: 'microsoft' });
      const silent = async (forceRefresh: boolean): Promise<string> => {
        const result = await msal.acquireTokenSilent({ account, scopes: this.scopes, forceRefresh });
        const failure = plugin.failure();
        // eslint-disable-next-line @typescript-eslint/only-throw-error -- rethrows what the store threw, untouched
        if (failure !== undefined) throw failure;
        return result.accessToken;
      };
      try {
        const stored = await silent(false);
        return stored === opts.rejected ? await silent(true) : stored;
      } catch (error) {
        // The store's own failure (a refusal) rather than whatever MSAL made of it.
        const mapped = toSyncError(plugin.failure() ?? error, network.lastResponse, 'silent');
        if (mapped instanceof ReconnectRequiredError) {
          // If the removal fails, the next call just meets the same refusal from the server.
          await cache.removeAccount(account).catch(() => undefined);
        }
        throw mapped;
      }
    });
  }

  /**
   * The access token MSAL hands out from the stored cache without asking the identity service, read
   * without the lock; null when it would ask (expired, or past its `refresh_on`), or anything else is
   * in the way. MSAL decides, on a copy of the cache that nothing writes back, with a network module
   * that sends nothing: this path can neither spend a refresh token nor store anything.
   */
  private async cachedAccessToken(integrationId: string): Promise<string | null> {
    const { store, sealer } = this.opts;
    const sealed = await store.getTokenCache(integrationId, 'microsoft');
    // None, or due for re-sealing with the current key: under the lock.
    if (!sealed || !sealer.isCurrent(sealed)) return null;
    const network = new OfflineNetworkClient();
    const msal = this.msal(network);
    try {
      const cache = msal.getTokenCache();
      cache.deserialize(sealer.open(sealed, microsoftCacheAad(integrationId)).toString('utf8'));
      const [account] = await cache.getAllAccounts();
      if (!account) return null;
      const result = await msal.acquireTokenSilent({ account, scopes: this.scopes });
      return network.asked ? null : result.accessToken;
    } catch {
      return null; // unreadable, or a refresh needed: the locked path reports or does it
    }
  }

  /** Moves the stored sign-in of one integration to another (re-sealed for its new owner): connecting
   * again with the same Microsoft account resumes the existing integration. */
  transfer(fromIntegrationId: string, toIntegrationId: string): Promise<void> {
    return this.lock.run(toIntegrationId, async () => {
      const { store, sealer } = this.opts;
      const sealed = await store.getTokenCache(fromIntegrationId, 'microsoft');
      if (!sealed) throw new ReconnectRequiredError('No Microsoft sign-in to transfer', { code: 'no_tokens', provider: 'microsoft' });
      const serialized = sealer.open(sealed, microsoftCacheAad(fromIntegrationId)).toString();
      await saveMicrosoftCache(store, sealer, toIntegrationId, serialized);
      await store.deleteTokenCaches(fromIntegrationId);
    });
  }

  /** Consent withdrawn: the stored token caches of the integration are deleted (after a refresh in flight). */
  forget(integrationId: string): Promise<void> {
    return this.lock.run(integrationId, () => this.opts.store.deleteTokenCaches(integrationId));
  }

  private msal(network: INetworkModule, cachePlugin?: ICachePlugin): ConfidentialClientApplication {
    return new ConfidentialClientApplication({
      // Always the real https authority (MSAL refuses http ones); the network client reroutes.
      auth: { clientId: this.opts.clientId, clientSecret: this.opts.clientSecret, authority: `${MICROSOFT_LOGIN_URL}/consumers` },
      cache: cachePlugin ? { cachePlugin } : undefined,
      // Silent logger: MSAL's verbose logs can carry personal data.
      system: { networkClient: network, loggerOptions: { piiLoggingEnabled: false, logLevel: LogLevel.Error, loggerCallback: () => undefined } },
    });
  }
}

const RETRYABLE_CODES = new Set(['temporarily_unavailable', 'server_error', 'network_error']);

/**
 * What an MSAL failure means for the caller. Messages carry codes only, never the server's text
 * verbatim beyond its error code, and never a token.
 */
function toSyncError(error: unknown, last: LastResponse | undefined, phase: Phase): unknown {
  if (isSyncError(error) || !(error instanceof AuthError)) return error;
  const code = error.errorCode || 'unknown_error';
  const sub = error.subError ? `/${error.subError}` : '';
  const status = last?.status;
  if (status === 429 || (status !== undefined && status >= 500) || RETRYABLE_CODES.has(code)) {
    return new RetryableError(`Microsoft sign-in service unavailable (${status === undefined ? code : `HTTP ${status}, ${code}`})`, {
      status,
      code,
      retryAfterMs: parseRetryAfter(last?.retryAfter),
    });
  }
  if (code === 'invalid_client' || code === 'unauthorized_client') {
    return new FatalError(`Microsoft rejected the application credentials (${code}): check MICROSOFT_CLIENT_ID and MICROSOFT_CLIENT_SECRET`, { status, code });
  }
  const mustSignIn = error instanceof InteractionRequiredAuthError || code === 'invalid_grant';
  if (mustSignIn && phase === 'silent') {
    return new ReconnectRequiredError(`Microsoft consent expired or was withdrawn (${code}${sub}): sign in again`, { status, code, provider: 'microsoft' });
  }
  if (mustSignIn) {
    return new FatalError(`Microsoft sign-in could not be completed (${code}${sub}): start the sign-in again`, { status, code });
  }
  return new FatalError(`Microsoft sign-in failed (${code}${sub})`, { status, code });
}
