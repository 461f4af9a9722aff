/** Error answers of the Microsoft identity platform's token endpoint, in its own JSON shape. */
import { randomUUID } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import { sendJson } from '../http.js';

export interface AadError {
  error: string;
  /** The AADSTS number, e.g. 70000. */
  code: number;
  description: string;
  suberror?: string;
}

/** "2026-03-01 10:11:12Z", the format of the real `timestamp` field. */
function aadTimestamp(ms: number): string {
  return `${new Date(ms).toISOString().slice(0, 19).replace('T', ' ')}Z`;
}

function aadErrorBody(e: AadError, correlationId: string, now: number): Record<string, unknown> {
  const traceId = randomUUID();
  const timestamp = aadTimestamp(now);
  return {
    error: e.error,
    error_description: `AADSTS${e.code}: ${e.description} Trace ID: ${traceId} Correlation ID: ${correlationId} Timestamp: ${timestamp}`,
    error_codes: [e.code],
    timestamp,
    trace_id: traceId,
    correlation_id: correlationId,
    ...(e.suberror ? { suberror: e.suberror } : {}),
  };
}

export function sendAadError(
  res: ServerResponse,
  status: number,
  e: AadError,
  correlationId: string,
  now: number,
  headers: Record<string, string> = {},
): void {
  sendJson(res, status, aadErrorBody(e, correlationId, now), { 'cache-control': 'no-store', ...headers });
}

/** What a faulted request answers (429 throttling, 5xx outage, other statuses as plain errors). */
export function faultError(status: number, code?: string): AadError {
  if (status === 429) return { error: code ?? 'temporarily_unavailable', code: 90055, description: 'TenantThrottlingError - There are too many incoming requests. This request was throttled.' };
  if (status >= 500) return { error: code ?? 'temporarily_unavailable', code: 90033, description: 'A transient error has occurred. Please try again.' };
  return { error: code ?? 'invalid_request', code: 90000, description: `Injected fault (HTTP ${status}).` };
}
