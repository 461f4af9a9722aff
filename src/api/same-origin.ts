import type { MiddlewareHandler } from 'hono';
import { ApiError } from './errors.js';

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * Refuses state-changing requests a browser sends from another origin. Browsers always send `Origin`
 * on POST and PATCH; API clients (curl, scripts) send none and authenticate with a bearer token.
 * With SameSite=Lax cookies this closes the cross-site and the same-site (other port) paths.
 */
export function sameOrigin(publicUrl: string): MiddlewareHandler {
  const allowed = new URL(publicUrl).origin;
  return async (c, next) => {
    const origin = c.req.header('origin');
    if (SAFE_METHODS.has(c.req.method) || origin === undefined) return next();
    const host = c.req.header('host');
    const own = host ? [`http://${host}`, `https://${host}`] : [];
    if (origin !== allowed && !own.includes(origin)) {
      throw new ApiError(403, 'cross_origin', `Requests from ${origin} are not accepted: use this service's own pages`);
    }
    await next();
  };
}
