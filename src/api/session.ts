import { randomUUID } from 'node:crypto';
import type { Context, MiddlewareHandler } from 'hono';
import { deleteCookie, setSignedCookie } from 'hono/cookie';
import { z } from 'zod';
import type { Sealer } from '../auth/crypto.js';
import type { QontoTokens } from '../auth/qonto-oauth.js';
import type { Store } from '../store/types.js';
import { ApiError } from './errors.js';
import { readSignedCookie, signingSecrets } from './signed-cookie.js';

/** Roles allowed to connect, finish, reconfigure and revoke (like Qonto's own integration). */
export const ALLOWED_ROLES = ['owner', 'admin', 'accountant'] as const;

const SESSION_COOKIE = 'session';
const SESSION_TTL_MS = 8 * 3600_000;

const sessionSchema = z.object({
  membershipId: z.string(),
  organizationId: z.string(),
  name: z.string(),
  role: z.string(),
  expiresAt: z.number(),
  /** Where the store keeps this sign-in's Qonto tokens until one integration takes them ('' afterwards).
   * They stay on the server: a cookie sent twice at once, or replayed, must not hand them over twice. */
  qontoSignIn: z.string(),
});
export type Session = z.infer<typeof sessionSchema>;

export type SessionEnv = { Variables: { session: Session } };

/** Signed, httpOnly, SameSite=Lax cookies; the signing keys are derived from the encryption keys
 * (the first signs, all verify). */
export class Sessions {
  private readonly secrets: [string, ...string[]];

  constructor(
    keys: Buffer[],
    private readonly sealer: Sealer,
    private readonly store: Store,
    private readonly secure: boolean,
  ) {
    this.secrets = signingSecrets(keys, 'session-cookie-signing');
  }

  async start(c: Context, who: Omit<Session, 'expiresAt' | 'qontoSignIn'>, tokens: QontoTokens): Promise<void> {
    const qontoSignIn = randomUUID();
    const expiresAt = Date.now() + SESSION_TTL_MS;
    await this.store.putQontoSignIn(qontoSignIn, { sealed: this.sealer.seal(Buffer.from(JSON.stringify(tokens)), `qonto-sign-in:${qontoSignIn}`), expiresAt });
    await this.write(c, { ...who, expiresAt, qontoSignIn });
  }

  private async write(c: Context, session: Session): Promise<void> {
    await setSignedCookie(c, SESSION_COOKIE, Buffer.from(JSON.stringify(session)).toString('base64url'), this.secrets[0], {
      httpOnly: true,
      sameSite: 'Lax',
      secure: this.secure,
      path: '/',
      maxAge: Math.max(0, Math.floor((session.expiresAt - Date.now()) / 1000)),
    });
  }

  async read(c: Context): Promise<Session | null> {
    const raw = await readSignedCookie(c, this.secrets, SESSION_COOKIE);
    if (!raw) return null;
    try {
      const session = sessionSchema.parse(JSON.parse(Buffer.from(raw, 'base64url').toString()));
      return session.expiresAt > Date.now() ? session : null;
    } catch {
      return null;
    }
  }

  /** Hands the sign-in's Qonto tokens over once (atomically, in the store); null when an integration
   * already took them. */
  async takeTokens(c: Context, session: Session): Promise<QontoTokens | null> {
    if (!session.qontoSignIn) return null;
    const sealed = await this.store.takeQontoSignIn(session.qontoSignIn, Date.now());
    await this.write(c, { ...session, qontoSignIn: '' });
    if (!sealed) return null;
    return JSON.parse(this.sealer.open(sealed, `qonto-sign-in:${session.qontoSignIn}`).toString()) as QontoTokens;
  }

  /** Signing out also drops the sign-in's Qonto tokens still waiting in the store, so a copy of the
   * cookie cannot Connect with them afterwards. They are not revoked at Qonto: a revocation ends the
   * member's consent, which integrations they connected earlier still use. */
  async end(c: Context): Promise<void> {
    const session = await this.read(c);
    if (session?.qontoSignIn) await this.store.takeQontoSignIn(session.qontoSignIn, Date.now());
    deleteCookie(c, SESSION_COOKIE, { path: '/' });
  }

  /** OAuth mode: only a signed-in owner, admin or accountant gets through. */
  require(): MiddlewareHandler<SessionEnv> {
    return async (c, next) => {
      const session = await this.read(c);
      if (!session) throw new ApiError(401, 'unauthenticated', 'Sign in with Qonto first: GET /auth/qonto/login');
      if (!(ALLOWED_ROLES as readonly string[]).includes(session.role)) {
        throw new ApiError(403, 'forbidden_role', `Your Qonto role is ${session.role}; only owners, admins and accountants can manage the OneDrive integration`);
      }
      c.set('session', session);
      await next();
    };
  }
}
