/** A started role: what `main` waits for and what a signal stops. */
export interface RunningRole {
  /** Graceful stop (SHUTDOWN_GRACE_SECONDS for running work); resolves once everything is closed. */
  stop(): Promise<void>;
  /** Settles when the role has stopped and closed everything: after `stop`, or rejected when a part of
   * it failed on its own (the worker). */
  finished: Promise<void>;
}

/** What `main` hands every role besides the configuration. */
export interface RoleOptions {
  /** The Temporal SDK's Prometheus endpoint in this process (roles with a worker), for `/metrics`. */
  temporalSdkMetricsUrl?: string;
}

/** Runs `steps` once, in order, whoever asks first (a signal, or a worker that ended by itself). */
export function once(steps: () => Promise<void>): () => Promise<void> {
  let done: Promise<void> | undefined;
  return () => (done ??= steps());
}
