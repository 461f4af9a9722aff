import { getConnInfo } from '@hono/node-server/conninfo';
import type { Context, MiddlewareHandler } from 'hono';
import { MemoryStore, rateLimiter } from 'hono-rate-limiter';
import { ApiError } from './errors.js';

declare module 'hono' {
  interface ContextVariableMap {
    /** Set by a check that refused the caller's credentials: counted by `failureLimit`. */
    authFailed: boolean;
  }
}

export interface Limit {
  /** How many counted requests an address may make per window. */
  limit: number;
  windowMs: number;
}

/**
 * Failed admin sign-ins and bearer checks: 10 per 15 minutes per address. A person who mistypes gets
 * ten tries; a guesser gets under a thousand a day, against a token of at least 32 characters.
 */
export const ADMIN_FAILURES: Limit = { limit: 10, windowMs: 15 * 60_000 };
/**
 * `/auth/*\/callback`, every request (each may make us call Qonto's or Microsoft's token endpoint):
 * 30 per 10 minutes per address, room for a household behind one address signing in a few times.
 */
export const SIGN_IN_CALLBACKS: Limit = { limit: 30, windowMs: 10 * 60_000 };

/**
 * Who is counted: the client's address, an IPv6 one by its /64 (one subscriber's network: otherwise
 * each of its 2^64 addresses would get a counter of its own). With no proxy in front (`trustedProxies`
 * 0, the default) that is the TCP peer: forwarded headers are not trusted, because any client can write
 * them. Behind `trustedProxies` reverse proxies (TRUST_PROXY), each of which appends the address it
 * received the request from to X-Forwarded-For, the client is the entry that many places from the
 * right: entries further left were written by the client itself and prove nothing.
 */
export function clientAddressOf(trustedProxies: number): (c: Context) => string {
  return (c) => {
    if (trustedProxies > 0) {
      const hops = (c.req.header('x-forwarded-for') ?? '').split(',').map((s) => s.trim()).filter(Boolean);
      const client = hops[hops.length - trustedProxies];
      if (client !== undefined) return addressKey(client);
    }
    try {
      return addressKey(getConnInfo(c).remote.address ?? 'unknown');
    } catch {
      return 'unknown'; // no socket (app.request() in tests)
    }
  };
}

export function addressKey(address: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped) return mapped[1]!;
  if (!address.includes(':')) return address;
  const [head = '', tail] = address.replace(/%.*$/, '').toLowerCase().split('::');
  const left = head === '' ? [] : head.split(':');
  const right = tail === undefined || tail === '' ? [] : tail.split(':');
  const groups = tail === undefined ? left : [...left, ...Array<string>(8 - left.length - right.length).fill('0'), ...right];
  return `${groups.slice(0, 4).map((g) => g.replace(/^0+(?=.)/, '')).join(':')}::/64`;
}

function refuse(c: Context, resetTime = (c.get('rateLimit' as never) as { resetTime?: Date } | undefined)?.resetTime): never {
  const seconds = Math.max(1, Math.ceil(((resetTime?.getTime() ?? Date.now()) - Date.now()) / 1000));
  c.header('Retry-After', String(seconds));
  throw new ApiError(429, 'too_many_requests', `Too many attempts from your address: try again in ${seconds} seconds`);
}

/**
 * Refused webhook deliveries (`/webhooks/qonto`: bad signature, not a delivery; not an unknown
 * subscription, see the receiver): 100 per 10 minutes per address. Qonto's own deliveries are signed
 * and never refused; a sender who guesses signatures, or floods us with junk, is stopped.
 */
export const WEBHOOK_FAILURES: Limit = { limit: 100, windowMs: 10 * 60_000 };

/**
 * Counts only the requests a credential check refused (`authFailed`); once over the limit, every
 * request of that address is refused until the window ends, a right token included. Counters live in
 * this process (hono-rate-limiter's memory store): each of several API processes counts on its own, so
 * the limits multiply by their number (the README says so and suggests a limit at the proxy).
 */
export function failureLimit(limit: Limit, clientAddress: (c: Context) => string): MiddlewareHandler {
  return rateLimiter({
    ...limit,
    keyGenerator: clientAddress,
    standardHeaders: false,
    skipSuccessfulRequests: true,
    requestWasSuccessful: (c) => c.get('authFailed') !== true,
    handler: (c) => refuse(c),
  });
}

/**
 * Like `failureLimit`, but a request counts once it was refused, never while it runs. `failureLimit`
 * counts each request on arrival and takes it back when it succeeds, so a burst from one address (Qonto
 * sends every delivery from the same few) with more requests in flight than the limit got 429s for
 * genuine deliveries. The price: refused requests arriving together all pass the check before any
 * counts, which is harmless here (an HMAC signature cannot be guessed, and a refusal costs no write).
 */
export function refusalLimit(limit: Limit, clientAddress: (c: Context) => string): MiddlewareHandler {
  const store = new MemoryStore();
  store.init({ windowMs: limit.windowMs } as Parameters<MemoryStore['init']>[0]);
  return async (c, next) => {
    const key = clientAddress(c);
    const refused = store.get(key);
    if (refused && refused.totalHits >= limit.limit && refused.resetTime && refused.resetTime.getTime() > Date.now()) refuse(c, refused.resetTime);
    await next();
    if (c.get('authFailed') === true) store.increment(key);
  };
}

/** Counts every request (same in-process store as above). */
export function requestLimit(limit: Limit, clientAddress: (c: Context) => string): MiddlewareHandler {
  return rateLimiter({ ...limit, keyGenerator: clientAddress, standardHeaders: false, handler: (c) => refuse(c) });
}
