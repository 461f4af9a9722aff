import { randomUUID } from 'node:crypto';
import type { MiddlewareHandler } from 'hono';
import pino from 'pino';

declare module 'hono' {
  interface ContextVariableMap {
    /** The id of the current request, as echoed in `X-Request-Id` and in its log line. */
    requestId: string;
  }
}

export const REQUEST_ID_HEADER = 'X-Request-Id';

/** An incoming id is trusted only when it cannot forge log lines or bloat them. */
const SANE_REQUEST_ID = /^[A-Za-z0-9-]{1,64}$/;

/** Query parameters whose values are credentials (OAuth codes, state, tokens): never logged. */
const SECRET_PARAMS = new Set([
  'code',
  'state',
  'token',
  'access_token',
  'refresh_token',
  'client_secret',
  'session_state',
  'id_token',
]);
/** Catches variants of the above (e.g. `logout_token`, `api_secret`) that nobody listed yet. */
const SECRET_PARAM_PATTERN = /token|secret|password/i;

export const REDACTED = '[redacted]';

function isSecretParam(name: string): boolean {
  return SECRET_PARAMS.has(name.toLowerCase()) || SECRET_PARAM_PATTERN.test(name);
}

/** The pathname plus its query, with the value of every secret-bearing parameter replaced. */
export function redactedPath(url: string): string {
  const { pathname, searchParams } = new URL(url);
  const pairs: string[] = [];
  for (const [name, value] of searchParams) {
    const shown = isSecretParam(name) ? REDACTED : encodeURIComponent(value);
    pairs.push(`${encodeURIComponent(name)}=${shown}`);
  }
  return pairs.length === 0 ? pathname : `${pathname}?${pairs.join('&')}`;
}

function requestIdFrom(header: string | undefined): string {
  return header !== undefined && SANE_REQUEST_ID.test(header) ? header : randomUUID();
}

/**
 * One structured line per request: `{reqId, method, path, status, ms}`. Headers and bodies are
 * never logged, because they carry the admin token, session cookies and OAuth payloads.
 */
export function requestLog(logger: pino.Logger): MiddlewareHandler {
  return async (c, next) => {
    const started = performance.now();
    const reqId = requestIdFrom(c.req.header(REQUEST_ID_HEADER));
    c.set('requestId', reqId);
    const write = (status: number) => {
      const line = {
        reqId,
        method: c.req.method,
        path: redactedPath(c.req.url),
        status,
        ms: Math.round((performance.now() - started) * 10) / 10,
      };
      if (status >= 500) logger.error(line, 'request failed');
      else if (status >= 400) logger.warn(line, 'request rejected');
      else logger.info(line, 'request');
    };
    try {
      // Hono turns a thrown handler error into the app's onError response before this returns.
      await next();
    } catch (error) {
      // Only reached when no error handler answered (e.g. onError itself threw).
      write(500);
      throw error;
    }
    c.header(REQUEST_ID_HEADER, reqId);
    write(c.res.status);
  };
}

/** Second line of defence: should a credential ever reach a log call, pino censors it. */
export const REDACT_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  '*.token',
  '*.accessToken',
  '*.refreshToken',
  '*.code',
  '*.secret',
];

export function createLogger(opts: { level?: string; destination?: pino.DestinationStream } = {}): pino.Logger {
  const options: pino.LoggerOptions = {
    level: opts.level ?? 'info',
    redact: { paths: REDACT_PATHS, censor: REDACTED },
  };
  return opts.destination === undefined ? pino(options) : pino(options, opts.destination);
}
