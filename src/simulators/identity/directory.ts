/**
 * The simulated Microsoft account directory: users and the tokens issued to them. Shared in-process
 * by the identity simulator (which issues tokens) and the Graph simulator (which resolves them), so
 * revoking a user or expiring tokens here is seen by both at once.
 */
import { randomBytes, randomUUID } from 'node:crypto';

/** Tenant of every personal Microsoft account (MSA). Kept apart from the client's copy on purpose:
 * the simulator plays Microsoft and must not depend on product code. */
export const CONSUMER_TENANT_ID = '9188040d-6c67-4c5b-b112-36a304b66dad';

export type AccountKind = 'personal' | 'work';

export interface SimUser {
  /** Object id (`oid`), stable across apps; personal ones look like 00000000-0000-0000-xxxx-xxxxxxxxxxxx. */
  id: string;
  tenantId: string;
  username: string;
  name: string;
  kind: AccountKind;
}

interface AccessTokenRecord {
  userId: string;
  scopes: string[];
  expiresAt: number;
}

/** A refresh token: the grant it continues (client, user, scopes) and how long it lives. */
export interface RefreshTokenRecord {
  userId: string;
  clientId: string;
  scopes: string[];
  expiresAt: number;
  /** When it was exchanged for a successor (rotation); undefined while unused. */
  usedAt?: number;
  /** Consent was withdrawn: kept (not deleted) so the token endpoint can say so precisely. */
  revoked?: boolean;
}

export class MicrosoftDirectory {
  readonly now: () => number;
  /** Tenant that work/school users belong to (one organisation is enough to test refusal). */
  readonly workTenantId = randomUUID();
  private readonly users = new Map<string, SimUser>();
  private readonly accessTokens = new Map<string, AccessTokenRecord>();
  private readonly refreshTokens = new Map<string, RefreshTokenRecord>();

  constructor(opts: { now?: () => number } = {}) {
    this.now = opts.now ?? Date.now;
  }

  addUser(u: { username: string; name?: string; kind?: AccountKind }): SimUser {
    if (this.findUserByUsername(u.username)) throw new Error(`user ${u.username} already exists`);
    const kind = u.kind ?? 'personal';
    const user: SimUser = {
      id: kind === 'personal' ? `00000000-0000-0000-${randomBytes(2).toString('hex')}-${randomBytes(6).toString('hex')}` : randomUUID(),
      tenantId: kind === 'personal' ? CONSUMER_TENANT_ID : this.workTenantId,
      username: u.username,
      name: u.name ?? u.username.split('@')[0] ?? u.username,
      kind,
    };
    this.users.set(user.id, user);
    return user;
  }

  getUser(id: string): SimUser | undefined {
    return this.users.get(id);
  }

  findUserByUsername(username: string): SimUser | undefined {
    const wanted = username.toLowerCase();
    return [...this.users.values()].find((u) => u.username.toLowerCase() === wanted);
  }

  listUsers(): SimUser[] {
    return [...this.users.values()];
  }

  issueAccessToken(userId: string, scopes: string[], ttlSec: number): string {
    // Opaque like real MSA access tokens: clients must not parse them.
    const token = `EwA${randomBytes(48).toString('base64url')}`;
    this.accessTokens.set(token, { userId, scopes, expiresAt: this.now() + ttlSec * 1000 });
    return token;
  }

  /** Who an access token belongs to; null if unknown, expired or revoked. */
  resolveAccessToken(token: string): { userId: string; scopes: string[] } | null {
    const record = this.accessTokens.get(token);
    if (!record || record.expiresAt <= this.now()) return null;
    return { userId: record.userId, scopes: record.scopes };
  }

  issueRefreshToken(record: Omit<RefreshTokenRecord, 'usedAt' | 'revoked'>): string {
    const token = `M.C5${randomBytes(64).toString('base64url')}`;
    this.refreshTokens.set(token, { ...record });
    return token;
  }

  /** The record of a refresh token (the token endpoint applies rotation, expiry and revocation); undefined if unknown. */
  getRefreshToken(token: string): RefreshTokenRecord | undefined {
    return this.refreshTokens.get(token);
  }

  /** Consent withdrawn: every refresh and access token of the user stops working. The user can sign in again. */
  revokeUser(userId: string): void {
    for (const record of this.refreshTokens.values()) if (record.userId === userId) record.revoked = true;
    for (const [token, record] of this.accessTokens) if (record.userId === userId) this.accessTokens.delete(token);
  }

  /** Ends the life of access tokens (of one user, or all) while clients still think them valid: forces the refresh path. */
  expireAccessTokens(userId?: string): void {
    const past = this.now() - 1;
    for (const record of this.accessTokens.values()) if (userId === undefined || record.userId === userId) record.expiresAt = past;
  }
}
