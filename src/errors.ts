/**
 * Typed errors that say what the caller should do. Clients throw these; activities turn them into
 * Temporal ApplicationFailures whose `type` is the `kind` (see activities/failures.ts).
 */
export type ErrorKind = 'Retryable' | 'Fatal' | 'ReconnectRequired' | 'QuotaExceeded' | 'NotFound';

export interface ErrorInfo {
  /** HTTP status of the upstream answer, when there was one. */
  status?: number;
  /** Machine-readable upstream code (Graph `error.code`, Qonto `errors[0].code`, OAuth `error`). */
  code?: string;
  cause?: unknown;
}

export abstract class SyncError extends Error {
  abstract readonly kind: ErrorKind;
  readonly status?: number;
  readonly code?: string;

  constructor(message: string, info: ErrorInfo = {}) {
    super(message, info.cause === undefined ? undefined : { cause: info.cause });
    this.name = new.target.name;
    this.status = info.status;
    this.code = info.code;
  }
}

/** Transient: try again later. `retryAfterMs` is the server's own hint (Retry-After), if any. */
export class RetryableError extends SyncError {
  readonly kind = 'Retryable' as const;
  readonly retryAfterMs?: number;
  constructor(message: string, info: ErrorInfo & { retryAfterMs?: number } = {}) {
    super(message, info);
    this.retryAfterMs = info.retryAfterMs;
  }
}

/** Permanent for this request: retrying the same thing gives the same answer. */
export class FatalError extends SyncError {
  readonly kind = 'Fatal' as const;
}

/** The thing addressed does not exist (any more): a deleted item, an expired upload session. */
export class NotFoundError extends SyncError {
  readonly kind = 'NotFound' as const;
}

/** Whose sign-in an integration holds: Qonto's (OAuth tokens or the API key) and Microsoft's. */
export type SignInProvider = 'qonto' | 'microsoft';

/** Consent revoked or expired at `provider`: the user must sign in there again; retrying cannot help. */
export class ReconnectRequiredError extends SyncError {
  readonly kind = 'ReconnectRequired' as const;
  readonly provider: SignInProvider;
  constructor(message: string, info: ErrorInfo & { provider: SignInProvider }) {
    super(message, info);
    this.provider = info.provider;
  }
}

/** The drive is full (HTTP 507 quotaLimitReached, or not enough room for what is pending). */
export class QuotaExceededError extends SyncError {
  readonly kind = 'QuotaExceeded' as const;
}

/** The store refused to write tokens: the integration was revoked (or deleted) meanwhile. Whatever
 * obtained them must not use them; signing in again starts a new integration. */
export class TokensRefusedError extends FatalError {
  constructor(integrationId: string) {
    super(`Integration ${integrationId} was revoked or deleted: its tokens are not stored`, { code: 'integration_revoked' });
  }
}

export function isSyncError(e: unknown): e is SyncError {
  return e instanceof SyncError;
}
