import { describe, expect, it } from 'vitest';
import { IpThrottle } from '../../src/simulators/qonto/rate-limit.js';

describe('IpThrottle arrivals', () => {
  it('records when each request arrived, the refused ones included, only when asked', () => {
    let now = 1_000;
    const throttle = new IpThrottle(() => now, { perTenSeconds: 2, perTenMinutes: 100 }, { recordArrivals: true });
    const admitted = [0, 1, 2].map((i) => {
      now = 1_000 + i * 100;
      return throttle.admit('10.0.0.1');
    });
    expect(admitted).toEqual([true, true, false]);
    expect(throttle.arrivals).toEqual([1_000, 1_100, 1_200]);
    expect(new IpThrottle(() => now).arrivals).toBeUndefined();
  });
});
