import type { Logger } from 'pino';

/** Beyond the grace period, how long the last steps (closing connections, the store) may take before
 * the process exits anyway. */
export const SHUTDOWN_MARGIN_MS = 15_000;

/**
 * SIGTERM or SIGINT starts `stop` (which lets running work finish within the grace period). A second
 * signal, or a stop that outlasts the grace period by SHUTDOWN_MARGIN_MS, ends the process at once
 * with code 1: an orchestrator's kill, or an activity that ignores cancellation, must not hang it.
 * Returns a function that stops listening.
 */
export function stopOnSignals(stop: () => Promise<void>, opts: { graceMs: number; logger: Logger; exit?: (code: number) => void }): () => void {
  const exit = opts.exit ?? ((code: number) => process.exit(code));
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) {
      opts.logger.warn(`${signal} again: exiting without waiting for running work`);
      exit(1);
      return;
    }
    stopping = true;
    opts.logger.info(`${signal}: stopping; running work has ${opts.graceMs / 1000} s to finish`);
    setTimeout(() => {
      opts.logger.error(`still not stopped ${(opts.graceMs + SHUTDOWN_MARGIN_MS) / 1000} s after ${signal}: exiting`);
      exit(1);
    }, opts.graceMs + SHUTDOWN_MARGIN_MS).unref();
    stop().catch((error: unknown) => {
      opts.logger.error({ err: error }, 'stopping failed');
      exit(1);
    });
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  return () => {
    process.off('SIGTERM', onSignal);
    process.off('SIGINT', onSignal);
  };
}
