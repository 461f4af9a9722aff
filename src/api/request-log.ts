import { randomUUID } from 'node:crypto';
import type { MiddlewareHandler } from 'hono';
import type pino from 'pino';
import { redactedPath } from '../log-redaction.js';

declare module 'hono' {
  interface ContextVariableMap {
    /** The id of the current request, as echoed in `X-Request-Id` and in its log line. */
    requestId: string;
  }
}

export const REQUEST_ID_HEADER = 'X-Request-Id';

/** An incoming id is trusted only when it cannot forge log lines or bloat them. */
const SANE_REQUEST_ID = /^[A-Za-z0-9-]{1,64}$/;

function requestIdFrom(header: string | undefined): string {
  return header !== undefined && SANE_REQUEST_ID.test(header) ? header : randomUUID();
}

/**
 * One structured line per request: `{reqId, method, path, status, ms}`. Headers and bodies are
 * never logged, because they carry the admin token, session cookies and OAuth payloads; the query
 * is logged without credentials and personal data (the username in `?connected=`).
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
