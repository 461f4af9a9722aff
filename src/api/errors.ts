import type { Context } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { logger } from '../logger.js';

/** An answer the caller can act on: 4xx with `{"error": {code, message, details?}}`. */
export class ApiError extends Error {
  constructor(
    readonly status: ContentfulStatusCode,
    readonly code: string,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

export function errorBody(code: string, message: string, details?: unknown) {
  return { error: details === undefined ? { code, message } : { code, message, details } };
}

/** Codes of the errors Hono's middleware throws (body limit, media type of a JSON route). */
const HTTP_EXCEPTION_CODES: Partial<Record<number, string>> = { 403: 'forbidden', 413: 'payload_too_large', 415: 'unsupported_media_type' };

/** Every error leaves as JSON; an unexpected one as a 500 that says nothing about the internals. */
export function onError(error: Error, c: Context): Response {
  if (error instanceof ApiError) return c.json(errorBody(error.code, error.message, error.details), error.status);
  if (error instanceof HTTPException) {
    const status = error.status;
    const code = HTTP_EXCEPTION_CODES[status] ?? 'bad_request';
    return c.json(errorBody(code, error.message || 'The request could not be handled'), status);
  }
  logger.error({ err: error }, 'unhandled API error');
  return c.json(errorBody('internal_error', 'Something went wrong on our side; nothing was changed by this request'), 500);
}

export function notFound(c: Context): Response {
  return c.json(errorBody('not_found', `No route for ${c.req.method} ${c.req.path}`), 404);
}
