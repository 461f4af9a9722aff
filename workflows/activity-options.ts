import { ActivityCancellationType, type ActivityOptions, type Priority } from '@temporalio/common';
import type { RunKind } from './state.js';

/**
 * The options of every `proxyActivities` of the integration workflow, as data: the workflow builds its
 * proxies from them, and a unit test reads them (no `scheduleToStartTimeout`, start-to-close room for
 * the waits inside an attempt, priority by run kind).
 *
 * No activity has a `scheduleToStartTimeout`, on purpose: in a wave, or behind the fleet's Qonto
 * budget, activities wait in Temporal's task queue, and waiting there must never become a failure.
 */

export const NON_RETRYABLE: string[] = ['Fatal', 'ReconnectRequired', 'QuotaExceeded'];

/** Long I/O activities: they heartbeat every 2 s, so a dead worker is noticed within 20 s (the work
 * moves to another worker) and a revocation reaches them; transient failures are retried with
 * back-off (or the server's Retry-After). */
export const IO_OPTIONS: ActivityOptions = {
  startToCloseTimeout: '30 minutes',
  heartbeatTimeout: '20 seconds',
  // A revocation waits until the upload under way has really stopped before the tokens go.
  cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
  retry: { initialInterval: '2 seconds', backoffCoefficient: 2, maximumInterval: '5 minutes', maximumAttempts: 8, nonRetryableErrorTypes: NON_RETRYABLE },
};

/** Deleting the tokens must happen, however long the store is unavailable. */
export const REVOCATION_OPTIONS: ActivityOptions = {
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '5 minutes' },
};

/** Alerts: a mail server that stays down gives up after some minutes; the sync goes on regardless. */
export const ALERTING_OPTIONS: ActivityOptions = {
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '2 seconds', backoffCoefficient: 2, maximumInterval: '1 minute', maximumAttempts: 8 },
};

/** Subscribing to webhooks is optional: a Qonto that keeps refusing leaves the daily run alone, and
 * the next full run tries again. */
export const SUBSCRIBING_OPTIONS: ActivityOptions = {
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '30 seconds', maximumAttempts: 3, nonRetryableErrorTypes: NON_RETRYABLE },
};

/** Short bookkeeping activities. */
export const QUICK_OPTIONS: ActivityOptions = {
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute', maximumAttempts: 10, nonRetryableErrorTypes: NON_RETRYABLE },
};

/**
 * Executions from `fleet-wave` on: a short activity that calls Qonto may wait up to 40 s for the
 * fleet's budget before its request, then the request's own connect and idle deadlines run; one
 * minute could end such an attempt by timeout. Two minutes cover both with room to spare.
 */
export const SHORT_START_TO_CLOSE = '2 minutes';

/** Subscribing makes at least three Qonto requests (list, create, a lookup when the answer is lost),
 * each allowed the 40 s budget wait and its deadlines (about 65 s): room for three and more. */
export const SUBSCRIBING_START_TO_CLOSE = '4 minutes';

/** A revocation deletes the webhook subscription first: at least two Qonto requests (list, delete),
 * each allowed the 40 s budget wait and its deadlines. */
export const REVOCATION_START_TO_CLOSE = '3 minutes';

/** Temporal priority keys (1 first). A revocation goes before everything; a day's small runs before
 * the big ones, so a thousand daily runs are not queued behind one backfill. Within a key the queue
 * serves the oldest task first: the integration that waited longest. */
export const PRIORITY_KEYS = { revocation: 1, daily: 2, bulk: 4 } as const;

export type Lane = 'daily' | 'bulk';

/** A backfill or a reconfiguration lists and exports everything; a daily or incremental run only what is
 * new. Until the backfill completed, any run (a failed backfill's retry, a reconnect, "sync now")
 * still imports everything: bulk. */
export function laneOf(kind: RunKind | null, backfilled: boolean): Lane {
  return kind === 'backfill' || kind === 'reconfigure' || (kind !== null && !backfilled) ? 'bulk' : 'daily';
}

/** `fairnessKey`: with fairness on in the server (`matching.enableFairness`), integrations of one key
 * share dispatch evenly; ignored where it is off. */
export function priorityOf(key: number, integrationId: string): Priority {
  return { priorityKey: key, fairnessKey: integrationId };
}

/** The options of the proxies an execution from `fleet-wave` on uses, per lane. */
export function waveOptions(integrationId: string) {
  const short = (base: ActivityOptions, lane: Lane): ActivityOptions => ({ ...base, startToCloseTimeout: SHORT_START_TO_CLOSE, priority: priorityOf(PRIORITY_KEYS[lane], integrationId) });
  return {
    io: { daily: { ...IO_OPTIONS, priority: priorityOf(PRIORITY_KEYS.daily, integrationId) }, bulk: { ...IO_OPTIONS, priority: priorityOf(PRIORITY_KEYS.bulk, integrationId) } },
    quick: { daily: short(QUICK_OPTIONS, 'daily'), bulk: short(QUICK_OPTIONS, 'bulk') },
    subscribing: {
      daily: { ...short(SUBSCRIBING_OPTIONS, 'daily'), startToCloseTimeout: SUBSCRIBING_START_TO_CLOSE },
      bulk: { ...short(SUBSCRIBING_OPTIONS, 'bulk'), startToCloseTimeout: SUBSCRIBING_START_TO_CLOSE },
    },
    revocation: { ...REVOCATION_OPTIONS, startToCloseTimeout: REVOCATION_START_TO_CLOSE, priority: priorityOf(PRIORITY_KEYS.revocation, integrationId) },
  } satisfies Record<string, ActivityOptions | Record<Lane, ActivityOptions>>;
}
