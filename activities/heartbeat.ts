import type { Context } from '@temporalio/activity';
import { TransferPulse, withPulse } from '../src/http/transfer-pulse.js';

export interface Heartbeat {
  /** Reports progress (it becomes the heartbeat's details) and beats at once. */
  progress(details: unknown): void;
  /** Runs `fn` with its requests reporting to this heartbeat's pulse. */
  run<T>(fn: () => Promise<T>): Promise<T>;
  stop(): void;
}

/**
 * Heartbeats every `intervalMs` with the latest progress and the bytes moved, as long as the
 * activity's transfers are alive (src/http/transfer-pulse.ts): bytes moved since the last beat, or
 * no request waiting on the network. A cancellation (consent withdrawn) only reaches an activity
 * through a heartbeat's answer, so one waiting out a Retry-After keeps beating and stops at once when
 * cancelled; one stuck on a connection where nothing moves goes quiet, and after the heartbeat
 * timeout Temporal retries it. Requests have their own deadlines (src/http/deadlines.ts), shorter
 * than that timeout, so a stalled request is normally retried inside the activity first.
 */
export function keepHeartbeating(ctx: Pick<Context, 'heartbeat'>, intervalMs = 2_000, pulse = new TransferPulse()): Heartbeat {
  let latest: unknown;
  const beat = () => ctx.heartbeat(withBytes(latest, pulse.bytes));
  const timer = setInterval(() => {
    if (pulse.alive()) beat();
  }, intervalMs);
  timer.unref();
  return {
    progress(details) {
      latest = details;
      beat();
    },
    run: (fn) => withPulse(pulse, fn),
    stop: () => clearInterval(timer),
  };
}

/** The details with the bytes moved, when they are an object (a checkpoint stays readable as is). */
function withBytes(details: unknown, bytes: number): unknown {
  if (details === undefined) return { bytes };
  if (details !== null && typeof details === 'object' && !Array.isArray(details)) return { ...details, bytes };
  return details;
}
