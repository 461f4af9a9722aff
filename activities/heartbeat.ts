import type { Context } from '@temporalio/activity';
import { TransferPulse, withPulse } from '../src/http/transfer-pulse.js';

export interface Heartbeat {
  /** Reports progress (it becomes the heartbeat's details); beats at once, or within PROGRESS_BEAT_MS
   * of the last beat when beats come faster. */
  progress(details: unknown): void;
  /** Runs `fn` with its requests reporting to this heartbeat's pulse. */
  run<T>(fn: () => Promise<T>): Promise<T>;
  /** Stops beating; progress still waiting for its beat is sent first. */
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
  let lastBeatAt = -Infinity;
  let trailing: ReturnType<typeof setTimeout> | undefined;
  const beat = () => {
    if (trailing !== undefined) clearTimeout(trailing);
    trailing = undefined;
    lastBeatAt = Date.now();
    ctx.heartbeat(withBytes(latest, pulse.bytes));
  };
  const timer = setInterval(() => {
    if (pulse.alive()) beat();
  }, intervalMs);
  timer.unref();
  return {
    progress(details) {
      latest = details;
      // An export reports every receipt and every upload fragment: each SDK heartbeat goes through
      // its observable pipeline and the payload codec, a measurable share of the worker's CPU. Faster
      // reports are folded into one beat at most PROGRESS_BEAT_MS after the last.
      const wait = lastBeatAt + PROGRESS_BEAT_MS - Date.now();
      if (wait <= 0) beat();
      else if (trailing === undefined) {
        trailing = setTimeout(beat, wait);
        trailing.unref();
      }
    },
    run: (fn) => withPulse(pulse, fn),
    stop: () => {
      clearInterval(timer);
      // Progress still waiting for its beat goes now: it may be the activity's last checkpoint.
      if (trailing !== undefined) beat();
    },
  };
}

/** The shortest gap between two beats that progress() causes. */
export const PROGRESS_BEAT_MS = 500;

/** The details with the bytes moved, when they are an object (a checkpoint stays readable as is). */
function withBytes(details: unknown, bytes: number): unknown {
  if (details === undefined) return { bytes };
  if (details !== null && typeof details === 'object' && !Array.isArray(details)) return { ...details, bytes };
  return details;
}
