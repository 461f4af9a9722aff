/**
 * Maps Qonto HTTP answers to the product's typed errors (src/errors.ts). Messages carry the
 * method, path, status, Qonto's own `detail` and `trace_id`, never a header or a credential.
 */
import { FatalError, NotFoundError, ReconnectRequiredError, RetryableError, type SyncError } from '../errors.js';
import { parseRetryAfter } from '../http/retry.js';
import { ErrorBodySchema, type ErrorBody } from './schemas.js';

/** Reads Qonto's `{errors, trace_id}` body; anything else yields an empty description. */
async function readErrorBody(res: Response): Promise<ErrorBody> {
  const text = await res.text().catch(() => '');
  try {
    const parsed = ErrorBodySchema.safeParse(JSON.parse(text));
    return parsed.success ? parsed.data : {};
  } catch {
    return {};
  }
}

function describe(body: ErrorBody): string {
  const details = (body.errors ?? [])
    .map((e) => {
      const where = e.source?.parameter ?? e.source?.pointer;
      return [e.detail ?? e.code, where ? `(${where})` : undefined].filter(Boolean).join(' ');
    })
    .filter(Boolean);
  const trace = body.trace_id ? ` [trace ${body.trace_id}]` : '';
  return details.length > 0 ? `: ${details.join('; ')}${trace}` : trace;
}

/** `what` names the request, e.g. "GET /v2/transactions". */
export async function errorFromResponse(what: string, res: Response): Promise<SyncError> {
  const body = await readErrorBody(res);
  const info = { status: res.status, code: body.errors?.[0]?.code };
  const message = `Qonto ${what} answered ${res.status}${describe(body)}`;
  if (res.status === 401) return new ReconnectRequiredError(`${message} (credentials rejected: reconnect Qonto)`, { ...info, provider: 'qonto' });
  if (res.status === 403) return new FatalError(message, info);
  if (res.status === 404) return new NotFoundError(message, info);
  if (res.status === 429 || res.status >= 500) {
    return new RetryableError(message, { ...info, retryAfterMs: parseRetryAfter(res.headers.get('retry-after')) });
  }
  return new FatalError(message, info);
}

/** A request that never got an answer (reset, refused, timed out) is worth another try. */
export function networkError(what: string, cause: unknown): RetryableError {
  const reason = cause instanceof Error ? (cause.cause instanceof Error ? cause.cause.message : cause.message) : String(cause);
  return new RetryableError(`Qonto ${what} failed: ${reason}`, { cause });
}

/** The sandbox answers 200 + an HTML login page when `X-Qonto-Staging-Token` is missing
 * (docs/contracts-qonto.md, Sandbox staging token). */
export function htmlInsteadOfJson(what: string): FatalError {
  return new FatalError(
    `Qonto ${what} answered HTML instead of JSON (missing X-Qonto-Staging-Token? The Qonto sandbox needs it on every call)`,
    { code: 'html_response' },
  );
}
