import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { Context, MiddlewareHandler } from 'hono';
import { deleteCookie, getSignedCookie, setSignedCookie } from 'hono/cookie';
import type { Store } from '../store/types.js';
import { ApiError } from './errors.js';

const digest = (value: string) => createHash('sha256').update(value).digest();

const ADMIN_COOKIE = 'admin_session';
const ADMIN_SESSION_TTL_MS = 8 * 3600_000;

/**
 * API-key mode: API callers present `Authorization: Bearer $ADMIN_TOKEN` (compared in constant time);
 * the pages sign in once with the same token and then carry a signed, httpOnly session cookie.
 *
 * The cookie is `<expiresAt>.<epoch>.<token tag>`: the tag (an HMAC of ADMIN_TOKEN) ends every cookie
 * when the token changes, and the epoch, kept in the store and bumped by signing out, ends every cookie
 * issued before a sign-out.
 */
export class AdminAuth {
  private readonly expected: Buffer;
  private readonly secret: string;
  private readonly tokenTag: string;

  constructor(
    adminToken: string,
    key: Buffer,
    private readonly secure: boolean,
    private readonly epochs: Pick<Store, 'adminSessionEpoch' | 'bumpAdminSessionEpoch'>,
  ) {
    this.expected = digest(adminToken);
    this.secret = createHmac('sha256', key).update('admin-cookie-signing').digest('base64');
    this.tokenTag = createHmac('sha256', key).update('admin-token-binding').update(adminToken).digest('base64url').slice(0, 22);
  }

  matches(token: string): boolean {
    return timingSafeEqual(digest(token), this.expected);
  }

  async startSession(c: Context): Promise<void> {
    const expiresAt = Date.now() + ADMIN_SESSION_TTL_MS;
    await setSignedCookie(c, ADMIN_COOKIE, `${expiresAt}.${await this.epochs.adminSessionEpoch()}.${this.tokenTag}`, this.secret, {
      httpOnly: true,
      sameSite: 'Lax',
      secure: this.secure,
      path: '/',
      maxAge: ADMIN_SESSION_TTL_MS / 1000,
    });
  }

  async hasSession(c: Context): Promise<boolean> {
    const raw = await getSignedCookie(c, this.secret, ADMIN_COOKIE);
    if (typeof raw !== 'string') return false;
    const [expiresAt, epoch, tag] = raw.split('.');
    return Number(expiresAt) > Date.now() && tag === this.tokenTag && Number(epoch) === (await this.epochs.adminSessionEpoch());
  }

  /** Signing out ends this browser's session and every other admin session issued before it. */
  async endSession(c: Context): Promise<void> {
    if (await this.hasSession(c)) await this.epochs.bumpAdminSessionEpoch();
    deleteCookie(c, ADMIN_COOKIE, { path: '/' });
  }

  /** The sign-in form's check; a refusal counts towards the address's limit of failed attempts. */
  check(c: Context, token: string): boolean {
    const ok = this.matches(token);
    if (!ok) c.set('authFailed', true);
    return ok;
  }

  require(): MiddlewareHandler {
    return async (c, next) => {
      const header = c.req.header('authorization');
      if (header === undefined && (await this.hasSession(c))) return next();
      const match = /^Bearer (.+)$/.exec(header ?? '');
      if (!match) throw new ApiError(401, 'unauthenticated', 'Send Authorization: Bearer <ADMIN_TOKEN>');
      if (!this.check(c, match[1]!)) throw new ApiError(403, 'forbidden', 'The admin token is not valid');
      await next();
    };
  }
}
