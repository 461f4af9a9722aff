/**
 * Turns Microsoft Graph answers into the typed errors of src/errors.ts. Decisions rest on the HTTP
 * status and the nested `error.code` / `innerError.code` chain, never on the human message.
 */
import { z } from 'zod';
import {
  FatalError,
  NotFoundError,
  QuotaExceededError,
  ReconnectRequiredError,
  RetryableError,
  type SyncError,
} from '../errors.js';
import { parseRetryAfter } from '../http/retry.js';

/** The delta token expired (410 resyncRequired family): enumerate again from `restartLink`, or from scratch. */
export class DeltaResyncRequiredError extends FatalError {
  readonly restartLink?: string;
  constructor(message: string, info: { status?: number; code?: string; restartLink?: string } = {}) {
    super(message, info);
    this.restartLink = info.restartLink;
  }
}

/** Statuses worth trying again (docs/contracts-graph.md, Errors: rclone's list plus 408). */
const TRANSIENT = new Set([408, 429, 500, 502, 503, 504, 509]);

// One level of `{"error":{code, message, innerError:{code?, innerError?}}}`; docs spell it `innererror`.
const errorLevel = z.looseObject({
  code: z.string().optional(),
  message: z.string().optional(),
  innerError: z.unknown().optional(),
  innererror: z.unknown().optional(),
});
const errorEnvelope = z.looseObject({ error: z.unknown() });

interface GraphErrorDetails {
  /** `error.code` first, then each nested `innerError.code`, outermost first. */
  codes: string[];
  message?: string;
}

function parseGraphError(body: unknown): GraphErrorDetails {
  const envelope = errorEnvelope.safeParse(body);
  const codes: string[] = [];
  let message: string | undefined;
  let level: unknown = envelope.success ? envelope.data.error : undefined;
  for (let depth = 0; depth < 10 && level !== undefined; depth++) {
    const parsed = errorLevel.safeParse(level);
    if (!parsed.success) break;
    if (parsed.data.code) codes.push(parsed.data.code);
    message ??= parsed.data.message;
    level = parsed.data.innerError ?? parsed.data.innererror;
  }
  return { codes, message };
}

/** Reads a failed response (its body is small JSON, or anything else) and classifies it. */
export async function errorFromResponse(res: Response, what: string): Promise<SyncError> {
  return errorFromAnswer({ status: res.status, headers: res.headers, text: await res.text().catch(() => '') }, what);
}

/** Classifies a failed answer whose body was already read. */
export function errorFromAnswer(answer: { status: number; headers: Headers; text: string }, what: string): SyncError {
  let body: unknown;
  try {
    body = JSON.parse(answer.text);
  } catch {
    body = undefined;
  }
  return classify(answer.status, parseGraphError(body), answer.headers, what);
}

function classify(status: number, details: GraphErrorDetails, headers: Headers, what: string): SyncError {
  const code = details.codes[0];
  const info = { status, code };
  const summary = `${what}: HTTP ${status}${details.codes.length ? ` ${details.codes.join('/')}` : ''}${
    details.message ? ` (${details.message})` : ''
  }`;
  if (status === 507 || details.codes.includes('quotaLimitReached')) return new QuotaExceededError(summary, info);
  if (TRANSIENT.has(status)) {
    return new RetryableError(summary, { ...info, retryAfterMs: parseRetryAfter(headers.get('retry-after')) });
  }
  if (status === 401) return new ReconnectRequiredError(summary, { ...info, provider: 'microsoft' });
  if (status === 404) return new NotFoundError(summary, info);
  if (status === 410) {
    return new DeltaResyncRequiredError(summary, { ...info, restartLink: headers.get('location') ?? undefined });
  }
  // 400 (bad name, path too long), 403 (outside the app folder), 409, 412, 416, 423 …: the same request
  // gets the same answer. Callers that expect one of these (409 on create, 416 on a fragment) check `status`.
  return new FatalError(summary, info);
}

/** fetch rejected without an answer: connection refused, reset, cut mid-body. */
export function networkError(what: string, cause: unknown): RetryableError {
  const reason = cause instanceof Error ? (cause.cause instanceof Error ? cause.cause.message : cause.message) : String(cause);
  return new RetryableError(`${what}: network error (${reason})`, { cause });
}
