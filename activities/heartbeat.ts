import type { Context } from '@temporalio/activity';

/**
 * Heartbeats every `intervalMs` with the latest progress until stopped. A cancellation (consent
 * withdrawn) only reaches an activity through a heartbeat's answer, so one waiting out a long
 * Retry-After must still heartbeat to stop at once rather than when it next makes progress.
 */
export function keepHeartbeating(ctx: Context, intervalMs = 2_000): { progress(details: unknown): void; stop(): void } {
  let latest: unknown;
  const timer = setInterval(() => ctx.heartbeat(latest), intervalMs);
  timer.unref();
  return {
    progress(details) {
      latest = details;
      ctx.heartbeat(details);
    },
    stop: () => clearInterval(timer),
  };
}
