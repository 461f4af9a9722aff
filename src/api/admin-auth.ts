import { createHash, timingSafeEqual } from 'node:crypto';
import type { Context, MiddlewareHandler } from 'hono';
import { deleteCookie, setSignedCookie } from 'hono/cookie';
import { ApiError } from './errors.js';
import { readSignedCookie, signingSecrets } from './signed-cookie.js';

const digest = (value: string) => createHash('sha256').update(value).digest();

const ADMIN_COOKIE = 'admin_session';
const ADMIN_SESSION_TTL_MS = 8 * 3600_000;

/**
 * API-key mode: API callers present `Authorization: Bearer $ADMIN_TOKEN` (compared in constant time);
 * the pages sign in once with the same token and then carry a signed, httpOnly session cookie.
 */
export class AdminAuth {
  private readonly expected: Buffer;
  private readonly secrets: [string, ...string[]];

  constructor(
    adminToken: string,
    keys: Buffer[],
    private readonly secure: boolean,
  ) {
    this.expected = digest(adminToken);
    this.secrets = signingSecrets(keys, 'admin-cookie-signing');
  }

  matches(token: string): boolean {
    return timingSafeEqual(digest(token), this.expected);
  }

  async startSession(c: Context): Promise<void> {
    const expiresAt = Date.now() + ADMIN_SESSION_TTL_MS;
    await setSignedCookie(c, ADMIN_COOKIE, String(expiresAt), this.secrets[0], {
      httpOnly: true,
      sameSite: 'Lax',
      secure: this.secure,
      path: '/',
      maxAge: ADMIN_SESSION_TTL_MS / 1000,
    });
  }

  async hasSession(c: Context): Promise<boolean> {
    const raw = await readSignedCookie(c, this.secrets, ADMIN_COOKIE);
    return typeof raw === 'string' && Number(raw) > Date.now();
  }

  endSession(c: Context): void {
    deleteCookie(c, ADMIN_COOKIE, { path: '/' });
  }

  require(): MiddlewareHandler {
    return async (c, next) => {
      const header = c.req.header('authorization');
      if (header === undefined && (await this.hasSession(c))) return next();
      const match = /^Bearer (.+)$/.exec(header ?? '');
      if (!match) throw new ApiError(401, 'unauthenticated', 'Send Authorization: Bearer <ADMIN_TOKEN>');
      if (!this.matches(match[1]!)) throw new ApiError(403, 'forbidden', 'The admin token is not valid');
      await next();
    };
  }
}
