import { describe, expect, it } from 'vitest';
import { DEFAULT_SYNC_SPREAD_MINUTES, fnv1a32, nextDailyRun, spreadOffsetMs } from '../../src/sync/spread.js';

const MINUTE = 60_000;
const at = (iso: string) => Date.parse(iso);
const iso = (ms: number) => new Date(ms).toISOString();

// The test's own reading of a zone's wall clock, independent of the module under test.
const formats = new Map<string, Intl.DateTimeFormat>();
function wall(ms: number, timeZone: string): string {
  let f = formats.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-GB', { timeZone, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit' });
    formats.set(timeZone, f);
  }
  const p = Object.fromEntries(f.formatToParts(ms).map((x) => [x.type, x.value]));
  return `${p.year}-${p.month}-${p.day} ${p.hour}:${p.minute}:${p.second}`;
}

describe('fnv1a32', () => {
  it('gives the published FNV-1a 32-bit values', () => {
    expect(fnv1a32('')).toBe(0x811c9dc5);
    expect(fnv1a32('a')).toBe(0xe40c292c);
    expect(fnv1a32('foobar')).toBe(0xbf9cf968);
  });
});

describe('spreadOffsetMs', () => {
  it('is a whole number of seconds inside the window, the same for the same id every time', () => {
    for (let i = 0; i < 1000; i++) {
      const offset = spreadOffsetMs(`integration-${i}`, 30);
      expect(offset % 1000).toBe(0);
      expect(offset).toBeGreaterThanOrEqual(0);
      expect(offset).toBeLessThan(30 * MINUTE);
      expect(spreadOffsetMs(`integration-${i}`, 30)).toBe(offset);
    }
  });

  it('is 0 without a window', () => {
    expect(spreadOffsetMs('any', 0)).toBe(0);
  });

  it('spreads a fleet over the whole window: every 3-minute slice of 30 minutes gets its share', () => {
    const slices = new Array<number>(10).fill(0);
    for (let i = 0; i < 10_000; i++) slices[Math.floor(spreadOffsetMs(crypto.randomUUID(), DEFAULT_SYNC_SPREAD_MINUTES) / (3 * MINUTE))]! += 1;
    for (const n of slices) expect(n).toBeGreaterThan(800);
  });
});

describe('nextDailyRun', () => {
  const PARIS = 'Europe/Paris';
  const offset = 14 * MINUTE + 7_000;

  it('is SYNC_TIME plus the offset, today when it has not come yet', () => {
    expect(iso(nextDailyRun(at('2026-12-07T12:00:00Z'), PARIS, 23, 30, offset))).toBe('2026-12-07T22:44:07.000Z');
  });

  it('does not skip today\'s run when now lies between 23:30 and 23:30 + offset', () => {
    for (const now of ['2026-12-07T22:30:00.000Z', '2026-12-07T22:30:00.001Z', '2026-12-07T22:40:00Z', '2026-12-07T22:44:06.999Z']) {
      expect(iso(nextDailyRun(at(now), PARIS, 23, 30, offset)), now).toBe('2026-12-07T22:44:07.000Z');
    }
  });

  it('exactly at the due time, or after it, gives tomorrow\'s', () => {
    expect(iso(nextDailyRun(at('2026-12-07T22:44:07Z'), PARIS, 23, 30, offset))).toBe('2026-12-08T22:44:07.000Z');
    expect(iso(nextDailyRun(at('2026-12-07T22:50:00Z'), PARIS, 23, 30, offset))).toBe('2026-12-08T22:44:07.000Z');
  });

  it('may cross midnight: 23:30 + 45 min is 00:15 the next calendar day', () => {
    expect(wall(nextDailyRun(at('2026-12-07T12:00:00Z'), PARIS, 23, 30, 45 * MINUTE), PARIS)).toBe('2026-12-08 00:15:00');
  });

  it.each([
    // Spring forward in Paris (28 March 2027, 02:00 → 03:00) and back (31 October 2027, 03:00 → 02:00).
    ['Europe/Paris', '2027-03-26T12:00:00Z', 23, 30],
    ['Europe/Paris', '2027-10-29T12:00:00Z', 23, 30],
    // A run inside the hour that is skipped, then repeated.
    ['Europe/Paris', '2027-03-26T12:00:00Z', 2, 30],
    ['Europe/Paris', '2027-10-29T12:00:00Z', 2, 30],
    ['America/New_York', '2027-03-12T12:00:00Z', 23, 30],
    ['America/New_York', '2027-11-05T12:00:00Z', 1, 30],
    ['Australia/Lord_Howe', '2027-04-02T00:00:00Z', 23, 30],
  ] as const)('runs once a day across the DST change in %s (from %s at %i:%i), the offset after the wall-clock time', (zone, from, hour, minute) => {
    for (const off of [0, offset, 29 * MINUTE + 59_000]) {
      let now = at(from);
      const days: string[] = [];
      for (let i = 0; i < 6; i++) {
        const due = nextDailyRun(now, zone, hour, minute, off);
        expect(due).toBeGreaterThan(now);
        days.push(wall(due - off, zone).slice(0, 10));
        // The local time of the run without its offset is SYNC_TIME (or, in a gap, the time after it).
        const hm = wall(due - off, zone).slice(11, 16);
        expect([`${String(hour).padStart(2, '0')}:${String(minute).padStart(2, '0')}`, `${String(hour + 1).padStart(2, '0')}:${String(minute).padStart(2, '0')}`]).toContain(hm);
        // A run takes a while; the next one is asked for from its end (and from a moment inside its window).
        now = due + 3 * MINUTE;
      }
      const unique = new Set(days);
      expect(unique.size, `${zone} ${off}: ${days.join(', ')}`).toBe(6);
      for (let i = 1; i < days.length; i++) expect(Date.parse(days[i]!) - Date.parse(days[i - 1]!)).toBe(24 * 60 * MINUTE);
    }
  });

  it('is the first due instant after now, whatever moment of the DST week it is asked (found by scanning minute by minute)', () => {
    const off = 20 * MINUTE;
    for (let now = at('2027-03-27T00:00:00Z'); now < at('2027-03-29T12:00:00Z'); now += 17 * MINUTE) {
      let first = Math.ceil((now + 1) / MINUTE) * MINUTE;
      while (wall(first - off, 'Europe/Paris').slice(11) !== '23:30:00') first += MINUTE;
      expect(iso(nextDailyRun(now, 'Europe/Paris', 23, 30, off)), iso(now)).toBe(iso(first));
    }
  });
});
