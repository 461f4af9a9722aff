import { Counter } from 'prom-client';
import type { RetryOptions } from '../http/retry.js';
import { PREFIX, registry } from './registry.js';

/** The services this process calls. Their download and upload hosts count as theirs (Qonto's signed
 * URLs, Graph's upload sessions): they share the same budget and back-off. */
export type Service = 'qonto' | 'graph';

/** A status in five classes; `network` when no answer came (refused, reset, deadline). */
export type StatusClass = '2xx' | '3xx' | '4xx' | '5xx' | 'network';

export function statusClass(status: number | null): StatusClass {
  if (status === null) return 'network';
  if (status >= 500) return '5xx';
  if (status >= 400) return '4xx';
  if (status >= 300) return '3xx';
  return '2xx';
}

const requests = new Counter({
  name: `${PREFIX}outbound_requests_total`,
  help: 'Requests sent to Qonto and Microsoft Graph (their download and upload hosts included), by status class of the answer; network: no answer',
  labelNames: ['service', 'status_class'] as const,
  registers: [registry],
});

const throttled = new Counter({
  name: `${PREFIX}outbound_throttled_total`,
  help: 'Answers asking to slow down (429 Too Many Requests, 503 Service Unavailable), also counted in receipts_sync_outbound_requests_total',
  labelNames: ['service', 'status'] as const,
  registers: [registry],
});

const waited = new Counter({
  name: `${PREFIX}outbound_wait_seconds_total`,
  help: 'Time requests spent waiting before being sent: behind a back-off window a 429/503 opened (reason=throttle_window), between retries of a failed request (reason=retry_backoff), or for their slot in the fleet-wide rate budget (reason=budget)',
  labelNames: ['service', 'reason'] as const,
  registers: [registry],
});

export type WaitReason = 'throttle_window' | 'retry_backoff' | 'budget';

export function observeWait(service: Service, reason: WaitReason, ms: number): void {
  if (ms > 0) waited.inc({ service, reason }, ms / 1000);
}

/** The time a request is held back by its service's back-off window (BackoffGate.wrap's `onWaited`). */
export function windowWaits(service: Service): (ms: number) => void {
  return (ms) => observeWait(service, 'throttle_window', ms);
}

/** `retry` also counting the back-off before each retry (Retry-After or exponential). */
export function meteredRetry<T extends Pick<RetryOptions, 'onRetry'>>(service: Service, retry: T): T {
  const given = retry.onRetry;
  return {
    ...retry,
    onRetry(error, attempt, waitMs) {
      observeWait(service, 'retry_backoff', waitMs);
      given?.(error, attempt, waitMs);
    },
  };
}

/** `fetchImpl` counting every request it sends by status class, and the 429/503s. Aborted requests
 * (the caller gave up) are not counted: the service never answered them for a reason of its own. */
export function meteredFetch(service: Service, fetchImpl: typeof fetch): typeof fetch {
  return async (input, init) => {
    let res: Response;
    try {
      res = await fetchImpl(input, init);
    } catch (error) {
      if (!init?.signal?.aborted) requests.inc({ service, status_class: 'network' });
      throw error;
    }
    requests.inc({ service, status_class: statusClass(res.status) });
    if (res.status === 429 || res.status === 503) throttled.inc({ service, status: String(res.status) });
    return res;
  };
}
