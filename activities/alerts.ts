import { Context } from '@temporalio/activity';
import { observeRunEnded } from '../src/metrics/runs.js';
import type { ActivityDeps } from './deps.js';
import type { AlertCheckInput, AlertCheckResult, RunEndedInput } from './types.js';

export function alertActivities(deps: ActivityDeps) {
  return {
    /** Every run's end: counts it in the run metrics, records the last success and the alert conditions, mails what is owed
     * (docs/alerts.md). Safe to retry: it never sends a mail twice that it marked sent. */
    async runEnded(input: RunEndedInput): Promise<AlertCheckResult> {
      // Counted by the first attempt only: a retry (the mail server was down) is the same run.
      if (Context.current().info.attempt === 1) observeRunEnded(input);
      if (!deps.alerts || input.outcome === 'revoked') return { nextCheckAt: null };
      return deps.alerts.runEnded(input.integrationId, input);
    },

    /** The workflow's alert timer fired: the 30 h without success, or a reminder. */
    async checkAlerts({ integrationId, now, signInEnded }: AlertCheckInput): Promise<AlertCheckResult> {
      if (!deps.alerts) return { nextCheckAt: null };
      return deps.alerts.check(integrationId, now, signInEnded ?? null);
    },
  };
}
