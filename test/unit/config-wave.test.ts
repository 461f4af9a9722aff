import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { settingsFrom } from '../../src/temporal/integrations.js';

describe('SYNC_SPREAD_MINUTES and TEMPORAL_MAX_CACHED_WORKFLOWS', () => {
  it('default to a 30-minute window and 100 cached workflows', () => {
    const c = loadConfig({});
    expect(c.SYNC_SPREAD_MINUTES).toBe(30);
    expect(c.TEMPORAL_MAX_CACHED_WORKFLOWS).toBe(100);
  });

  it('take a window from 0 to 180 whole minutes', () => {
    expect(loadConfig({ SYNC_SPREAD_MINUTES: '0' }).SYNC_SPREAD_MINUTES).toBe(0);
    expect(loadConfig({ SYNC_SPREAD_MINUTES: '180' }).SYNC_SPREAD_MINUTES).toBe(180);
    for (const bad of ['181', '-1', '7.5', 'soon']) expect(() => loadConfig({ SYNC_SPREAD_MINUTES: bad }), bad).toThrow(/SYNC_SPREAD_MINUTES/);
  });

  it('take 0 (no cache) or at least 2 cached workflows, as the SDK does', () => {
    expect(loadConfig({ TEMPORAL_MAX_CACHED_WORKFLOWS: '0' }).TEMPORAL_MAX_CACHED_WORKFLOWS).toBe(0);
    expect(loadConfig({ TEMPORAL_MAX_CACHED_WORKFLOWS: '2' }).TEMPORAL_MAX_CACHED_WORKFLOWS).toBe(2);
    for (const bad of ['1', '-5', 'many']) expect(() => loadConfig({ TEMPORAL_MAX_CACHED_WORKFLOWS: bad }), bad).toThrow(/TEMPORAL_MAX_CACHED_WORKFLOWS/);
  });

  it('the window reaches the settings a workflow starts with', () => {
    expect(settingsFrom(loadConfig({ SYNC_SPREAD_MINUTES: '12' })).syncSpreadMinutes).toBe(12);
  });
});
