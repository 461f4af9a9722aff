/**
 * Who is calling the simulated Qonto API (docs/contracts-qonto.md, Authentication): an organization API key sent as
 * `Authorization: login:secret` (no scheme, no Base64), or an OAuth access token sent as
 * `Authorization: Bearer <token>`, acting as one membership with the scopes it was granted.
 */
import { randomBytes } from 'node:crypto';

export type Principal =
  | { kind: 'apiKey'; login: string }
  | { kind: 'oauth'; membershipId: string; scopes: ReadonlySet<string>; clientId: string | null };

export interface ApiKey {
  login: string;
  secret: string;
}

export interface TokenOptions {
  /** Default: organization.read, membership.read, attachment.read, offline_access. */
  scopes?: string[];
  /** Default 3600 (Qonto access tokens live one hour). */
  ttlSec?: number;
  /** The OAuth app the token was issued to (the OAuth server sets it); default none. */
  clientId?: string;
}

interface IssuedToken {
  membershipId: string;
  clientId: string | null;
  scopes: ReadonlySet<string>;
  expiresAt: number;
}

export const DEFAULT_SCOPES = ['organization.read', 'membership.read', 'attachment.read', 'offline_access'];

export class AccessControl {
  private readonly tokens = new Map<string, IssuedToken>();

  private readonly apiKeys: ApiKey[];

  constructor(
    private readonly now: () => number,
    apiKeys: ApiKey[],
  ) {
    this.apiKeys = [...apiKeys];
  }

  addApiKey(key: ApiKey): void {
    this.apiKeys.push(key);
  }

  issueAccessToken(membershipId: string, opts: TokenOptions = {}): string {
    const token = `ory_at_${randomBytes(32).toString('base64url')}`;
    this.tokens.set(token, {
      membershipId,
      clientId: opts.clientId ?? null,
      scopes: new Set(opts.scopes ?? DEFAULT_SCOPES),
      expiresAt: this.now() + (opts.ttlSec ?? 3600) * 1000,
    });
    return token;
  }

  /** Invalidates every token of a membership (consent withdrawn); returns how many there were. */
  revokeAccessTokens(membershipId: string): number {
    let revoked = 0;
    for (const [token, issued] of this.tokens) {
      if (issued.membershipId === membershipId) {
        this.tokens.delete(token);
        revoked++;
      }
    }
    return revoked;
  }

  /** The caller, or the reason (a Qonto error detail) the credentials are refused. */
  authenticate(header: string | undefined): Principal | { refused: string } {
    if (!header) return { refused: 'Missing Authorization header' };
    const bearer = /^Bearer (.+)$/.exec(header);
    if (bearer) {
      const issued = this.tokens.get(bearer[1]!);
      if (!issued) return { refused: 'Invalid access token' };
      if (this.now() >= issued.expiresAt) return { refused: 'Access token expired' };
      return { kind: 'oauth', membershipId: issued.membershipId, scopes: issued.scopes, clientId: issued.clientId };
    }
    const key = this.apiKeys.find((k) => header === `${k.login}:${k.secret}`);
    return key ? { kind: 'apiKey', login: key.login } : { refused: 'Invalid API key: expected "Authorization: <login>:<secret-key>"' };
  }
}
