/** When alerts begin and end (docs/alerts.md): pure functions of a run's end, the time and what is
 * already under way. The activity (activities/alerts.ts) records and mails what they decide. */

export const ALERT_CONDITIONS = [
  'run_failed',
  'drive_full',
  'drive_nearly_full',
  'reconnect_required',
  'no_success',
  'consent_withdrawn',
  'back_to_normal',
  'missing_receipts',
] as const;
export type AlertCondition = (typeof ALERT_CONDITIONS)[number];

/** Conditions under which receipts stop reaching the drive: they get reminders, and their end (by a
 * completed run) a "back to normal" mail. */
export const FAILURES: readonly AlertCondition[] = ['run_failed', 'drive_full', 'reconnect_required', 'no_success'];
/** Events: one mail, over as soon as they happen. `missing_receipts` (a closed period's reminder,
 * period-reminder.ts) is one per integration and period, opt-in by MISSING_RECEIPTS_REMINDER. */
export const EVENTS: readonly AlertCondition[] = ['consent_withdrawn', 'back_to_normal', 'missing_receipts'];

export const NEARLY_FULL_RATIO = 0.9;
export const NO_SUCCESS_MS = 30 * 60 * 60_000;
export const REMINDER_MS = 3 * 24 * 60 * 60_000;

export interface RunEnd {
  outcome: 'completed' | 'quota_exceeded' | 'reconnect_required' | 'failed' | 'revoked';
  finishedAt: string;
  quota: { total: number; used: number } | null;
}

export interface Transition {
  /** Conditions that begin now; `mailed: false` when another mail of this transition says it better. */
  begin: { condition: AlertCondition; mailed: boolean }[];
  /** Conditions under way that are over. */
  end: AlertCondition[];
  /** A completed run ended a failure that was mailed: say so. */
  backToNormal: boolean;
}

/** Whether "no successful run for 30 h" holds at `now` (never succeeded: counted from `since`). */
export function overdue(lastSuccessAt: string | null, since: string, now: string): boolean {
  return Date.parse(now) - Date.parse(lastSuccessAt ?? since) >= NO_SUCCESS_MS;
}

/** What a run's end changes, given the conditions under way (mailed or not). */
export function afterRun(active: ReadonlyMap<AlertCondition, { mailed: boolean }>, run: RunEnd, noSuccess: boolean): Transition {
  const holds = new Map<AlertCondition, boolean>();
  holds.set('run_failed', run.outcome === 'failed');
  holds.set('drive_full', run.outcome === 'quota_exceeded');
  holds.set('reconnect_required', run.outcome === 'reconnect_required');
  holds.set('no_success', run.outcome !== 'completed' && noSuccess);
  const ratio = run.quota && run.quota.total > 0 ? run.quota.used / run.quota.total : null;
  // A full drive is past 90 % too, whatever the last measure said.
  if (run.outcome === 'quota_exceeded') holds.set('drive_nearly_full', true);
  else if (ratio !== null) holds.set('drive_nearly_full', ratio >= NEARLY_FULL_RATIO);

  const begin: Transition['begin'] = [];
  const end: AlertCondition[] = [];
  for (const [condition, now] of holds) {
    if (now && !active.has(condition)) begin.push({ condition, mailed: true });
    if (!now && active.has(condition)) end.push(condition);
  }
  // Past 90 % and full within one run: the "full" mail says it all.
  const fullNow = begin.find((b) => b.condition === 'drive_full');
  const nearlyNow = begin.find((b) => b.condition === 'drive_nearly_full');
  if (fullNow && nearlyNow) nearlyNow.mailed = false;
  const backToNormal = run.outcome === 'completed' && end.some((c) => FAILURES.includes(c) && active.get(c)?.mailed === true);
  return { begin, end, backToNormal };
}

/** The reminder due at `now` for an occurrence that began at `startedAt`: its number (1 after three
 * days, 2 after six, …), or 0 before the first. */
export function reminderNumber(startedAt: string, now: string): number {
  return Math.max(0, Math.floor((Date.parse(now) - Date.parse(startedAt)) / REMINDER_MS));
}

/** When something time-based is next due: a reminder of a failure under way, or the 30 h mark. */
export function nextCheck(active: readonly { condition: AlertCondition; startedAt: string; mailed: boolean }[], noSuccessAt: string | null, now: string): string | null {
  const times: number[] = [];
  for (const a of active) {
    if (!a.mailed || !FAILURES.includes(a.condition)) continue;
    times.push(Date.parse(a.startedAt) + (reminderNumber(a.startedAt, now) + 1) * REMINDER_MS);
  }
  if (noSuccessAt !== null && !active.some((a) => a.condition === 'no_success')) times.push(Date.parse(noSuccessAt));
  return times.length === 0 ? null : new Date(Math.min(...times)).toISOString();
}
