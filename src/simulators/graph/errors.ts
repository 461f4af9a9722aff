/**
 * Graph error answers: `{"error":{"code","message","innerError":{code?,date,request-id,client-request-id}}}`
 * (docs/contracts-graph.md, Errors). Handlers throw GraphError; the server turns it into that body.
 */
export class GraphError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    /** Detailed code reported as `innerError.code` (e.g. fragmentOverlap, pathIsTooLong). */
    readonly innerCode?: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = 'GraphError';
  }
}

export const invalidRequest = (message: string, innerCode?: string): GraphError =>
  new GraphError(400, 'invalidRequest', message, innerCode);

export const itemNotFound = (message = 'Item does not exist'): GraphError => new GraphError(404, 'itemNotFound', message);

export const nameAlreadyExists = (message = 'The specified item name already exists.'): GraphError =>
  new GraphError(409, 'nameAlreadyExists', message);

export const quotaLimitReached = (message = 'Insufficient Space Available'): GraphError =>
  new GraphError(507, 'quotaLimitReached', message);

export const invalidRange = (innerCode: 'fragmentOverlap' | 'fragmentOutOfOrder' | 'fragmentLengthMismatch', message: string): GraphError =>
  new GraphError(416, 'invalidRange', message, innerCode);

export const unauthenticated = (): GraphError =>
  new GraphError(401, 'InvalidAuthenticationToken', 'Access token is empty or invalid.', undefined, {
    'www-authenticate': 'Bearer realm="", error="invalid_token"',
  });

/** Codes used when a fault only names a status (docs/contracts-graph.md, Errors table). */
const CODE_BY_STATUS: Record<number, string> = {
  400: 'invalidRequest',
  401: 'unauthenticated',
  403: 'accessDenied',
  404: 'itemNotFound',
  409: 'nameAlreadyExists',
  410: 'resyncRequired',
  412: 'resourceModified',
  416: 'invalidRange',
  423: 'locked',
  429: 'activityLimitReached',
  503: 'serviceNotAvailable',
  507: 'quotaLimitReached',
  509: 'bandwidthLimitExceeded',
};

export function faultError(status: number, code?: string, retryAfterSec?: number): GraphError {
  const headers: Record<string, string> = retryAfterSec === undefined ? {} : { 'retry-after': String(retryAfterSec) };
  const resolved = code ?? CODE_BY_STATUS[status] ?? 'generalException';
  const message = status === 429 ? 'The request has been throttled' : `Injected fault: ${resolved}`;
  return new GraphError(status, resolved, message, undefined, headers);
}

export interface RequestIds {
  requestId: string;
  clientRequestId: string;
}

export function errorBody(err: GraphError, ids: RequestIds): unknown {
  return {
    error: {
      code: err.code,
      message: err.message,
      innerError: {
        ...(err.innerCode === undefined ? {} : { code: err.innerCode }),
        date: new Date().toISOString().slice(0, 19),
        'request-id': ids.requestId,
        'client-request-id': ids.clientRequestId,
      },
    },
  };
}
