import { readFileSync, readdirSync } from 'node:fs';
import type { ActivityOptions } from '@temporalio/common';
import { msToNumber } from '@temporalio/common/lib/time.js';
import { describe, expect, it } from 'vitest';
import { DEFAULT_DEADLINES } from '../../src/http/deadlines.js';
import * as options from '../../workflows/activity-options.js';
import type { RunKind } from '../../workflows/state.js';

const { ALERTING_OPTIONS, IO_OPTIONS, QUICK_OPTIONS, REVOCATION_OPTIONS, SUBSCRIBING_OPTIONS, laneOf, waveOptions } = options;

/** What a short activity's Qonto client may wait for the fleet's budget before a request (its
 * `maxBudgetWaitMs`), and the heartbeating ones'. */
const SHORT_BUDGET_WAIT_MS = 40_000;
const LONG_BUDGET_WAIT_MS = 20 * 60_000;
/** One request once it has its permit: connecting, then the answer within the idle deadline. */
const REQUEST_MS = DEFAULT_DEADLINES.connectMs + DEFAULT_DEADLINES.idleMs;

const WORKFLOWS = new URL('../../workflows/', import.meta.url);
const sources = readdirSync(WORKFLOWS)
  .filter((f) => f.endsWith('.ts'))
  .map((f) => ({ file: f, text: readFileSync(new URL(f, WORKFLOWS), 'utf8') }));

const wave = waveOptions('integration-42');
const every: Record<string, ActivityOptions> = {
  IO_OPTIONS,
  REVOCATION_OPTIONS,
  ALERTING_OPTIONS,
  SUBSCRIBING_OPTIONS,
  QUICK_OPTIONS,
  'wave.io.daily': wave.io.daily,
  'wave.io.bulk': wave.io.bulk,
  'wave.quick.daily': wave.quick.daily,
  'wave.quick.bulk': wave.quick.bulk,
  'wave.subscribing.daily': wave.subscribing.daily,
  'wave.subscribing.bulk': wave.subscribing.bulk,
  'wave.revocation': wave.revocation,
};

describe('activity options: waiting in the task queue is never a failure', () => {
  it.each(Object.entries(every))('%s has no schedule-to-start (nor schedule-to-close) timeout', (_, o) => {
    expect(o.scheduleToStartTimeout).toBeUndefined();
    expect(o.scheduleToCloseTimeout).toBeUndefined();
  });

  it('no workflow source sets a schedule-to-start timeout, and every proxy takes its options from activity-options.ts', () => {
    for (const { file, text } of sources) {
      expect(text, file).not.toMatch(/scheduleTo(Start|Close)Timeout\s*:/);
      // Inline options would escape the checks above.
      expect(text, file).not.toMatch(/proxyActivities\s*(<[^>]*>)?\s*\(\s*\{/);
    }
    const proxied = sources.flatMap(({ text }) => [...text.matchAll(/proxyActivities\s*(?:<[^>]*>)?\s*\(\s*([\w.[\]]+)/g)].map((m) => m[1]));
    expect(proxied.length).toBeGreaterThanOrEqual(5);
  });

  it('a short activity that calls Qonto has room for the budget wait and a request after it', () => {
    for (const o of [wave.quick.daily, wave.quick.bulk, wave.subscribing.daily, wave.subscribing.bulk]) {
      expect(msToNumber(o.startToCloseTimeout)).toBeGreaterThan(SHORT_BUDGET_WAIT_MS + REQUEST_MS);
      expect(o.heartbeatTimeout).toBeUndefined();
    }
  });

  it('subscribing has room for three Qonto requests, a revocation (which unsubscribes first) for two, each with its budget wait', () => {
    for (const o of [wave.subscribing.daily, wave.subscribing.bulk]) expect(msToNumber(o.startToCloseTimeout)).toBeGreaterThan(3 * (SHORT_BUDGET_WAIT_MS + REQUEST_MS));
    expect(msToNumber(wave.revocation.startToCloseTimeout)).toBeGreaterThan(2 * (SHORT_BUDGET_WAIT_MS + REQUEST_MS));
  });

  it('a heartbeating activity has room for its longer budget wait (the wait keeps the heartbeat alive)', () => {
    for (const o of [wave.io.daily, wave.io.bulk]) {
      expect(msToNumber(o.startToCloseTimeout)).toBeGreaterThan(LONG_BUDGET_WAIT_MS + REQUEST_MS);
      expect(msToNumber(o.heartbeatTimeout)).toBeGreaterThan(DEFAULT_DEADLINES.idleMs);
    }
  });

  it('the wave proxies keep every other option of the ones before them', () => {
    const { priority: _p, ...io } = wave.io.daily;
    expect(io).toEqual(IO_OPTIONS);
    const { priority: _q, startToCloseTimeout: _s, ...quick } = wave.quick.bulk;
    const { startToCloseTimeout: _t, ...before } = QUICK_OPTIONS;
    expect(quick).toEqual(before);
  });
});

describe('activity options: priority by run kind', () => {
  const lanes: Record<RunKind, 'daily' | 'bulk'> = { sync: 'daily', incremental: 'daily', backfill: 'bulk', reconfigure: 'bulk' };

  it.each(Object.entries(lanes))('a %s run takes the %s lane', (kind, lane) => {
    expect(laneOf(kind as RunKind, true)).toBe(lane);
  });

  it.each(['sync', 'backfill', 'reconfigure'] as const)('before the backfill completed, a %s run (a retry, a reconnect, "sync now") imports everything: the bulk lane', (kind) => {
    expect(laneOf(kind, false)).toBe('bulk');
  });

  it('outside a run (status, alerts between runs) the daily lane', () => {
    expect(laneOf(null, true)).toBe('daily');
    expect(laneOf(null, false)).toBe('daily');
  });

  it('daily and incremental runs go before backfills and reconfigurations; a revocation before all', () => {
    for (const group of [wave.io, wave.quick, wave.subscribing]) {
      expect(group.daily.priority).toEqual({ priorityKey: 2, fairnessKey: 'integration-42' });
      expect(group.bulk.priority).toEqual({ priorityKey: 4, fairnessKey: 'integration-42' });
    }
    expect(wave.revocation.priority).toEqual({ priorityKey: 1, fairnessKey: 'integration-42' });
  });

  it('executions from before the wave have no priority', () => {
    for (const o of [IO_OPTIONS, QUICK_OPTIONS, SUBSCRIBING_OPTIONS, REVOCATION_OPTIONS, ALERTING_OPTIONS]) expect(o.priority).toBeUndefined();
  });
});
