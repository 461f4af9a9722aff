import { createHmac, randomUUID } from 'node:crypto';
import type { Context, MiddlewareHandler } from 'hono';
import { deleteCookie, getSignedCookie, setSignedCookie } from 'hono/cookie';
import { z } from 'zod';
import type { Sealer } from '../auth/crypto.js';
import type { QontoTokens } from '../auth/qonto-oauth.js';
import type { Store } from '../store/types.js';
import { ApiError } from './errors.js';

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

/** Signed, httpOnly, SameSite=Lax cookies; the signing key is derived from the encryption key. */
export class Sessions {
  private readonly secret: string;

  constructor(
    key: Buffer,
    private readonly sealer: Sealer,
    private readonly store: Store,
    private readonly secure: boolean,
  ) {
    this.secret = createHmac('sha256', key).update('session-cookie-signing').digest('base64');
  }

  async start(c: Context, who: Omit<Session, 'expiresAt' | 'qontoSignIn'>, tokens: QontoTokens): Promise<void> {
    const qontoSignIn = randomUUID();
    const expiresAt = Date.now() + SESSION_TTL_MS;
    await this.store.putQontoSignIn(qontoSignIn, { sealed: this.sealer.seal(Buffer.from(JSON.stringify(tokens)), `qonto-sign-in:${qontoSignIn}`), expiresAt });
    await this.write(c, { ...who, expiresAt, qontoSignIn });
  }

  private async write(c: Context, session: Session): Promise<void> {
    await setSignedCookie(c, SESSION_COOKIE, Buffer.from(JSON.stringify(session)).toString('base64url'), this.secret, {
      httpOnly: true,
      sameSite: 'Lax',
      secure: this.secure,
      path: '/',
      maxAge: Math.max(0, Math.floor((session.expiresAt - Date.now()) / 1000)),
    });
  }

  async read(c: Context): Promise<Session | null> {
    const raw = await getSignedCookie(c, this.secret, SESSION_COOKIE);
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

  end(c: Context): void {
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
