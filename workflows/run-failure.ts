import { ActivityFailure, ApplicationFailure } from '@temporalio/workflow';
import type { SignInProvider } from '../src/errors.js';

/** How the workflow reads the failure that ended a run. */

/** The provider named by a ReconnectRequired failure (activities/failures.ts puts it in the details). */
export function signInEndedBy(error: unknown): SignInProvider | null {
  const details = error instanceof ActivityFailure && error.cause instanceof ApplicationFailure ? error.cause.details : undefined;
  const provider = (details?.[0] as { provider?: unknown } | undefined)?.provider;
  return provider === 'qonto' || provider === 'microsoft' ? provider : null;
}

/** What kind of failure ended a run, without its message (which can name files and accounts). */
export function failureType(error: unknown): string {
  const cause = error instanceof ActivityFailure && error.cause ? error.cause : error;
  if (cause instanceof ApplicationFailure) return cause.type ?? 'ApplicationFailure';
  return cause instanceof Error ? cause.name : typeof cause;
}

/** The failure's message, for the status (it can name files and accounts: never logged). */
export function describe(error: unknown): string {
  if (error instanceof ActivityFailure && error.cause) return error.cause.message;
  return error instanceof Error ? error.message : String(error);
}
