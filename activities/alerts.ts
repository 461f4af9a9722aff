import type { ActivityDeps } from './deps.js';
import type { AlertCheckInput, AlertCheckResult, RunEndedInput } from './types.js';

export function alertActivities(deps: ActivityDeps) {
  return {
    /** Every run's end: records the last success and the alert conditions, mails what is owed
     * (docs/alerts.md). Safe to retry: it never sends a mail twice that it marked sent. */
    async runEnded(input: RunEndedInput): Promise<AlertCheckResult> {
      if (!deps.alerts || input.outcome === 'revoked') return { nextCheckAt: null };
      return deps.alerts.runEnded(input.integrationId, input);
    },

    /** The workflow's alert timer fired: the 30 h without success, or a reminder. */
    async checkAlerts({ integrationId, now }: AlertCheckInput): Promise<AlertCheckResult> {
      if (!deps.alerts) return { nextCheckAt: null };
      return deps.alerts.check(integrationId, now);
    },
  };
}
