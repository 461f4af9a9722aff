import { describe, expect, it } from 'vitest';
import { Faults, type FaultAction } from '../../src/simulators/faults.js';

const THROTTLED: FaultAction = { kind: 'status', status: 429, retryAfterSec: 1 };

/** Which of `n` matching requests suffered the fault. */
function draws(faults: Faults, n: number, path = '/v1.0/me/drive'): boolean[] {
  return Array.from({ length: n }, () => faults.take('GET', path) !== undefined);
}

describe('Faults: a random share of requests', () => {
  it('hits about the given fraction of matching requests, until removed', () => {
    const faults = new Faults();
    const id = faults.addRandom({}, THROTTLED, { fraction: 0.1, seed: 7 });
    const hits = draws(faults, 10_000).filter(Boolean).length;
    expect(hits).toBeGreaterThan(900);
    expect(hits).toBeLessThan(1_100);
    expect(faults.served).toBe(hits);
    faults.remove(id);
    expect(draws(faults, 100).some(Boolean)).toBe(false);
  });

  it('repeats the same sequence for the same seed, and another for another seed', () => {
    const run = (seed: number) => {
      const faults = new Faults();
      faults.addRandom({}, THROTTLED, { fraction: 0.1, seed });
      return draws(faults, 500);
    };
    expect(run(3)).toEqual(run(3));
    expect(run(3)).not.toEqual(run(4));
  });

  it('only draws for matching requests; the ones it spares go on to the other rules', () => {
    const faults = new Faults();
    faults.addRandom({ path: '/rup/' }, THROTTLED, { fraction: 0.5, seed: 1 });
    faults.add({}, { kind: 'drop' }, 1_000);
    expect(draws(faults, 50, '/v1.0/me/drive').every(Boolean)).toBe(true);
    const upload = Array.from({ length: 200 }, () => faults.take('PUT', '/rup/d/s')?.kind);
    expect(upload.filter((k) => k === 'status').length).toBeGreaterThan(60);
    expect(upload.filter((k) => k === 'drop').length).toBeGreaterThan(60);
    expect(upload.every((k) => k !== undefined)).toBe(true);
  });

  it('does not count random rules as pending and refuses a fraction outside 0..1', () => {
    const faults = new Faults();
    faults.addRandom({}, THROTTLED, { fraction: 1 });
    faults.add({}, { kind: 'drop' }, 2);
    expect(faults.pending()).toBe(2);
    expect(() => faults.addRandom({}, THROTTLED, { fraction: 1.5 })).toThrow();
  });
});
