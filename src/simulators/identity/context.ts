/** State shared by the identity simulator's endpoints: clients, issued authorization codes, clock. */
import type { MicrosoftDirectory } from './directory.js';

export interface ClientRegistration {
  clientId: string;
  clientSecret: string;
  /** Accepted redirect URIs; any absolute http(s) URI when omitted. */
  redirectUris?: string[];
}

/** An authorization code: single use, short-lived, bound to who asked for it and how. */
export interface IssuedCode {
  clientId: string;
  redirectUri: string;
  codeChallenge: string;
  userId: string;
  nonce?: string;
  expiresAt: number;
  redeemed: boolean;
}

export interface IdentityContext {
  directory: MicrosoftDirectory;
  now: () => number;
  accessTokenTtlSec: number;
  refreshTokenTtlSec: number;
  refreshTokenReuseGraceSec: number;
  /** Undefined: any client id is accepted and secrets are not checked. */
  clients?: ClientRegistration[];
  codes: Map<string, IssuedCode>;
  /** HMAC key of the simulated id tokens. */
  idTokenKey: Buffer;
  /** Every answer of the token endpoint but injected faults, oldest first. */
  tokenAnswers: TokenAnswer[];
}

/** What the token endpoint answered: tests assert that no client ever spent a rotated refresh token. */
export interface TokenAnswer {
  grantType: string | null;
  status: number;
  /** The OAuth error code of a refusal (`invalid_grant`, …) with its AADSTS number. */
  error?: string;
  code?: number;
}

export const CODE_TTL_MS = 10 * 60 * 1000;

/** The registration for a client id: `null` when clients are configured and this one is unknown;
 * an open registration (no secret check) when none are configured. */
export function findClient(ctx: IdentityContext, clientId: string): Partial<ClientRegistration> | null {
  if (!ctx.clients) return { clientId };
  return ctx.clients.find((c) => c.clientId === clientId) ?? null;
}

/** Scopes as the client wrote them (short form kept: MSAL caches the response's scope string). */
export function splitScopes(scope: string): string[] {
  return scope.split(/\s+/).filter((s) => s !== '');
}

export const OIDC_SCOPES = ['openid', 'profile', 'offline_access', 'email'];
