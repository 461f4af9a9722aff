/**
 * The answer formats of the simulated Qonto hosts: Qonto's JSON errors with a trace id (docs/contracts-qonto.md, Errors),
 * S3's XML errors for the download URLs, and the sandbox's HTML login page (same file, Sandbox staging token).
 */
import { randomBytes } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import { sendJson } from '../http.js';

export interface QontoErrorItem {
  code: string;
  detail: string;
  source?: { parameter?: string; pointer?: string };
}

export function sendQontoError(
  res: ServerResponse,
  status: number,
  errors: QontoErrorItem[],
  headers: Record<string, string> = {},
): void {
  const traceId = randomBytes(16).toString('hex');
  sendJson(res, status, { errors, trace_id: traceId }, { 'x-tyk-trace-id': traceId, ...headers });
}

/** A Qonto error code for a status, used when a fault gives none. */
export function defaultQontoCode(status: number): string {
  const codes: Record<number, string> = {
    400: 'bad_request',
    401: 'unauthorized',
    403: 'forbidden',
    404: 'not_found',
    409: 'conflict',
    422: 'unprocessable_entity',
    429: 'too_many_requests',
    500: 'internal_server_error',
    502: 'bad_gateway',
    503: 'service_unavailable',
    504: 'gateway_timeout',
  };
  return codes[status] ?? 'error';
}

const xmlEscape = (s: string): string =>
  s.replace(/[<>&'"]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', "'": '&apos;', '"': '&quot;' })[c]!);

export function sendS3Error(
  res: ServerResponse,
  status: number,
  code: string,
  message: string,
  resource: string,
  headers: Record<string, string> = {},
): void {
  const requestId = randomBytes(8).toString('hex').toUpperCase();
  const body =
    '<?xml version="1.0" encoding="UTF-8"?>\n' +
    `<Error><Code>${xmlEscape(code)}</Code><Message>${xmlEscape(message)}</Message>` +
    `<Resource>${xmlEscape(resource)}</Resource><RequestId>${requestId}</RequestId></Error>`;
  res.writeHead(status, {
    'content-type': 'application/xml',
    'content-length': Buffer.byteLength(body),
    'x-amz-request-id': requestId,
    ...headers,
  });
  res.end(body);
}

/** An S3 error code for a status, used when a fault gives none. */
export function defaultS3Code(status: number): string {
  if (status === 403) return 'AccessDenied';
  if (status === 404) return 'NoSuchKey';
  if (status === 503) return 'SlowDown';
  return status >= 500 ? 'InternalError' : 'InvalidRequest';
}

/** What the Qonto sandbox serves with status 200 when X-Qonto-Staging-Token is missing. */
export function sendLoginPage(res: ServerResponse): void {
  const body =
    '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Qonto - Log in</title></head>' +
    '<body><form action="https://qonto.onelogin.com/login" method="post"><h1>Log in to Qonto</h1>' +
    '<input name="email" type="email"><input name="password" type="password"><button>Log in</button></form></body></html>';
  res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}
