import { afterEach, describe, expect, it, vi } from 'vitest';
import { pruneWebhookEventsHourly } from '../../src/webhooks/prune.js';

describe('pruneWebhookEventsHourly', () => {
  afterEach(() => vi.useRealTimers());

  it('forgets event ids older than 7 days at once and every hour, until stopped', async () => {
    vi.useFakeTimers({ now: Date.parse('2026-12-07T12:00:00.000Z') });
    const cutoffs: string[] = [];
    const stop = pruneWebhookEventsHourly({ pruneWebhookEvents: async (before) => (cutoffs.push(before), 0) }, { info: () => {}, warn: () => {} });
    expect(cutoffs).toEqual(['2026-11-30T12:00:00.000Z']);
    await vi.advanceTimersByTimeAsync(60 * 60_000);
    expect(cutoffs).toEqual(['2026-11-30T12:00:00.000Z', '2026-11-30T13:00:00.000Z']);
    stop();
    await vi.advanceTimersByTimeAsync(3 * 60 * 60_000);
    expect(cutoffs).toHaveLength(2);
  });

  it('logs a failed prune and tries again the next hour', async () => {
    vi.useFakeTimers();
    const warned: unknown[] = [];
    let calls = 0;
    const stop = pruneWebhookEventsHourly(
      {
        pruneWebhookEvents: async () => {
          calls++;
          throw new Error('store down');
        },
      },
      { info: () => {}, warn: (o: unknown) => warned.push(o) },
    );
    await vi.advanceTimersByTimeAsync(60 * 60_000);
    expect(calls).toBe(2);
    expect(warned).toHaveLength(2);
    stop();
  });
});
