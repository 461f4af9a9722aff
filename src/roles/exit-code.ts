import { ConfigError } from '../config.js';
import { StartupError } from './startup-error.js';

/**
 * The exit code of a process stopped by `error`: 2 for what the operator must fix first (the
 * configuration, a start-up problem said in words, e.g. the store's TLS or authentication), 1 for the
 * rest, among it a store server not reachable yet (down, still starting, a network failure), which a
 * restart later may find up.
 */
export function exitCodeFor(error: unknown): 1 | 2 {
  return error instanceof ConfigError || error instanceof StartupError ? 2 : 1;
}
