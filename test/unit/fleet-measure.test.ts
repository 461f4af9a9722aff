import { describe, expect, it } from 'vitest';
import { boundSeconds, driveTally, metricSum, peakInWindow, percentile } from '../../bench/fleet-measure.js';

describe('fleet benchmark arithmetic', () => {
  it('finds the most arrivals in any sliding window, the window open at its end', () => {
    expect(peakInWindow([], 10_000)).toBe(0);
    // 0, 9,999 fall in one 10 s window; 10,000 starts the next one after 0.
    expect(peakInWindow([0, 9_999, 10_000], 10_000)).toBe(2);
    expect(peakInWindow([0, 1, 2, 20_000, 20_001, 25_000, 29_999], 10_000)).toBe(4);
  });

  it('takes the slower of the budget windows as the bound', () => {
    const budget = [
      { windowMs: 10_000, limit: 270 },
      { windowMs: 600_000, limit: 2_700 },
    ];
    expect(boundSeconds(2_700, budget)).toBe(600);
    expect(boundSeconds(0, budget)).toBe(0);
    expect(boundSeconds(270, [{ windowMs: 10_000, limit: 27 }])).toBe(100);
  });

  it('takes nearest-rank percentiles', () => {
    expect(percentile([3, 1, 2], 50)).toBe(2);
    expect(percentile(Array.from({ length: 100 }, (_, i) => i + 1), 99)).toBe(99);
    expect(percentile([], 50)).toBeNaN();
  });

  it('sums a metric over its label sets, not over metrics sharing its prefix', () => {
    const text = ['# HELP x', 'x_total{service="qonto"} 2', 'x_total{service="graph"} 3', 'x_total_other 7', 'x_total 1'].join('\n');
    expect(metricSum(text, 'x_total')).toBe(6);
    expect(metricSum(text, 'absent')).toBe(0);
  });

  it('counts receipts missing from the drive and files beyond one per receipt', () => {
    const entries = new Map([
      ['a', { state: 'uploaded', driveItemId: 'f1' }],
      ['b', { state: 'uploaded', driveItemId: 'gone' }],
      ['c', { state: 'pending', driveItemId: null }],
    ]);
    expect(driveTally(['a', 'b', 'c', 'd'], entries, ['f1', 'f2'])).toEqual({ lost: 3, duplicated: 1 });
    expect(driveTally(['a'], entries, ['f1'])).toEqual({ lost: 0, duplicated: 0 });
  });
});
