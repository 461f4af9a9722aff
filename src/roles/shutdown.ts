import type { Logger } from 'pino';

/** Beyond the grace period, how long the last steps (closing connections, the store) may take before
 * the process exits anyway. */
export const SHUTDOWN_MARGIN_MS = 15_000;

/** A repeat of the same signal this soon is the same request: Ctrl-C reaches the whole foreground
 * process group, so `npm start` gets SIGINT from the terminal and again from its launcher. */
export const SAME_SIGNAL_MS = 1_000;

/**
 * SIGTERM or SIGINT starts `stop` (which lets running work finish within the grace period). A second
 * signal, or a stop that outlasts the grace period by SHUTDOWN_MARGIN_MS, ends the process at once
 * with code 1: an orchestrator's kill, or an activity that ignores cancellation, must not hang it.
 * The same signal again within SAME_SIGNAL_MS is not a second one. Returns a function that stops
 * listening.
 */
export function stopOnSignals(stop: () => Promise<void>, opts: { graceMs: number; logger: Logger; exit?: (code: number) => void }): () => void {
  const exit = opts.exit ?? ((code: number) => process.exit(code));
  let stopping: { signal: NodeJS.Signals; at: number } | undefined;
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping && signal === stopping.signal && Date.now() - stopping.at < SAME_SIGNAL_MS) return;
    if (stopping) {
      opts.logger.warn(`${signal} again: exiting without waiting for running work`);
      exit(1);
      return;
    }
    stopping = { signal, at: Date.now() };
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
  const onTerm = () => onSignal('SIGTERM');
  const onInt = () => onSignal('SIGINT');
  process.on('SIGTERM', onTerm);
  process.on('SIGINT', onInt);
  return () => {
    process.off('SIGTERM', onTerm);
    process.off('SIGINT', onInt);
  };
}
