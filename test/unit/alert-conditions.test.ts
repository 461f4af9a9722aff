import { describe, expect, it } from 'vitest';
import { afterRun, nextCheck, overdue, reminderNumber, type AlertCondition, type RunEnd } from '../../src/alerts/conditions.js';

const T = '2026-12-01T10:00:00.000Z';
const at = (hours: number) => new Date(Date.parse(T) + hours * 3_600_000).toISOString();
const run = (outcome: RunEnd['outcome'], quota: RunEnd['quota'] = null): RunEnd => ({ outcome, finishedAt: T, quota });
const active = (...conditions: AlertCondition[]) => new Map(conditions.map((c) => [c, { mailed: true }]));

describe('alert conditions after a run', () => {
  it('a failed run begins run_failed once; the next failure keeps it; a completed run ends it with back to normal', () => {
    expect(afterRun(active(), run('failed'), false)).toEqual({ begin: [{ condition: 'run_failed', mailed: true }], end: [], backToNormal: false });
    expect(afterRun(active('run_failed'), run('failed'), false)).toEqual({ begin: [], end: [], backToNormal: false });
    expect(afterRun(active('run_failed'), run('completed'), false)).toEqual({ begin: [], end: ['run_failed'], backToNormal: true });
  });

  it('a drive that passes 90 % and fills up within one run is mailed as full only', () => {
    const t = afterRun(active(), run('quota_exceeded', { total: 100, used: 99 }), false);
    expect(t.begin).toEqual([
      { condition: 'drive_full', mailed: true },
      { condition: 'drive_nearly_full', mailed: false },
    ]);
  });

  it('90 % is mailed when passed, full later is mailed again, and room again ends both', () => {
    expect(afterRun(active(), run('completed', { total: 100, used: 90 }), false).begin).toEqual([{ condition: 'drive_nearly_full', mailed: true }]);
    expect(afterRun(active(), run('completed', { total: 100, used: 89 }), false).begin).toEqual([]);
    expect(afterRun(active('drive_nearly_full'), run('quota_exceeded', null), false).begin).toEqual([{ condition: 'drive_full', mailed: true }]);
    const freed = afterRun(active('drive_nearly_full', 'drive_full'), run('completed', { total: 100, used: 50 }), false);
    expect(freed.end.sort()).toEqual(['drive_full', 'drive_nearly_full']);
    expect(freed.backToNormal).toBe(true);
  });

  it('an unknown quota leaves 90 % as it was; 90 % ending alone is no "back to normal"', () => {
    expect(afterRun(active('drive_nearly_full'), run('failed', null), false).end).toEqual([]);
    expect(afterRun(active('drive_nearly_full'), run('completed', { total: 100, used: 10 }), false)).toEqual({ begin: [], end: ['drive_nearly_full'], backToNormal: false });
  });

  it('a sign-in to renew begins reconnect_required; a failure ended by another failure is no "back to normal"', () => {
    const t = afterRun(active('run_failed'), run('reconnect_required'), false);
    expect(t).toEqual({ begin: [{ condition: 'reconnect_required', mailed: true }], end: ['run_failed'], backToNormal: false });
  });

  it('no success for 30 h holds until a run completes', () => {
    expect(afterRun(active(), run('failed'), true).begin).toContainEqual({ condition: 'no_success', mailed: true });
    expect(afterRun(active('no_success'), run('completed'), true)).toMatchObject({ end: ['no_success'], backToNormal: true });
    expect(overdue(at(-30), T, T)).toBe(true);
    expect(overdue(at(-29.9), T, T)).toBe(false);
    expect(overdue(null, at(-31), T)).toBe(true);
  });

  it('an occurrence not mailed ends without "back to normal"', () => {
    expect(afterRun(new Map([['drive_full', { mailed: false }]]), run('completed'), false).backToNormal).toBe(false);
  });
});

describe('reminders and the next check', () => {
  it('numbers a reminder every three days', () => {
    expect(reminderNumber(T, at(71.9))).toBe(0);
    expect(reminderNumber(T, at(72))).toBe(1);
    expect(reminderNumber(T, at(144))).toBe(2);
  });

  it('the next check is the nearest reminder of a mailed failure, or the 30 h mark while no_success is not under way', () => {
    const failing = [{ condition: 'run_failed' as const, startedAt: T, mailed: true }];
    expect(nextCheck(failing, at(30), T)).toBe(at(30));
    expect(nextCheck(failing, at(100), T)).toBe(at(72));
    expect(nextCheck(failing, null, at(80))).toBe(at(144));
    expect(nextCheck([{ condition: 'no_success', startedAt: T, mailed: true }], at(-5), T)).toBe(at(72));
    // Warnings and events get no reminder.
    expect(nextCheck([{ condition: 'drive_nearly_full', startedAt: T, mailed: true }], null, T)).toBeNull();
  });
});
