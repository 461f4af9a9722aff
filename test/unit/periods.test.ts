import { describe, expect, it } from 'vitest';
import { localDate, parseInstant, periodOf, startOfLocalDay } from '../../src/sync/periods.js';

const HOUR = 3_600_000;

describe('periodOf at month and year edges', () => {
  it.each([
    // Paris and Berlin are +2 in summer time: 22:30Z on 31 March is already 1 April.
    ['2026-03-31T22:30:00Z', 'Europe/Paris', '2026', '2026-04'],
    ['2026-03-31T21:59:59.999Z', 'Europe/Paris', '2026', '2026-03'],
    ['2026-03-31T22:00:00Z', 'Europe/Berlin', '2026', '2026-04'],
    ['2026-03-31T21:59:59Z', 'Europe/Berlin', '2026', '2026-03'],
    // +1 in winter: 23:30Z on 31 January is 00:30 on 1 February.
    ['2026-01-31T23:30:00Z', 'Europe/Paris', '2026', '2026-02'],
    ['2026-01-31T22:59:59Z', 'Europe/Paris', '2026', '2026-01'],
    ['2026-01-31T23:00:00Z', 'Europe/Berlin', '2026', '2026-02'],
    // Year edges.
    ['2025-12-31T23:00:00Z', 'Europe/Paris', '2026', '2026-01'],
    ['2025-12-31T22:59:59.999Z', 'Europe/Paris', '2025', '2025-12'],
    ['2026-12-31T23:30:00Z', 'Europe/Berlin', '2027', '2027-01'],
    ['2027-01-01T04:59:59Z', 'America/New_York', '2026', '2026-12'],
    // Chatham is +13:45 in its summer.
    ['2026-12-31T10:14:59Z', 'Pacific/Chatham', '2026', '2026-12'],
    ['2026-12-31T10:15:00Z', 'Pacific/Chatham', '2027', '2027-01'],
    // The October change: 31 October 23:30Z is 00:30 CET on 1 November.
    ['2026-10-31T23:30:00Z', 'Europe/Paris', '2026', '2026-11'],
    // Explicit offsets mean the same instant as their Z form.
    ['2026-04-01T00:30:00+02:00', 'Europe/Paris', '2026', '2026-04'],
    ['2026-04-01T00:30:00+02:00', 'UTC', '2026', '2026-03'],
    ['2026-03-31T18:30:00-04:00', 'Europe/Paris', '2026', '2026-04'],
  ])('%s in %s → %s / %s', (instant, tz, year, month) => {
    expect(periodOf(instant, tz)).toEqual({ year, month });
  });
});

describe('localDate', () => {
  it('is the calendar date on the zone wall clock', () => {
    expect(localDate('2026-03-31T22:30:00Z', 'Europe/Paris')).toBe('2026-04-01');
    expect(localDate('2026-03-31T22:30:00Z', 'America/New_York')).toBe('2026-03-31');
    expect(localDate('2026-03-31T18:29:59Z', 'Asia/Kolkata')).toBe('2026-03-31');
    expect(localDate('2026-03-31T18:30:00Z', 'Asia/Kolkata')).toBe('2026-04-01');
    expect(localDate('2026-03-14T10:22:11.000Z', 'Europe/Paris')).toBe('2026-03-14');
  });

  it('reads the instant formats Qonto sends', () => {
    expect(parseInstant('2026-03-14T10:22:11.123Z')).toBe(Date.UTC(2026, 2, 14, 10, 22, 11, 123));
    expect(parseInstant('2026-03-14T10:22:11.123456Z')).toBe(Date.UTC(2026, 2, 14, 10, 22, 11, 123));
    expect(parseInstant('2026-03-14T10:22Z')).toBe(Date.UTC(2026, 2, 14, 10, 22));
    expect(parseInstant('2026-03-14T12:22:11+0200')).toBe(Date.UTC(2026, 2, 14, 10, 22, 11));
    expect(parseInstant('2026-03-14 05:52:11-04:30')).toBe(Date.UTC(2026, 2, 14, 10, 22, 11));
  });

  it.each([
    '2026-03-14T10:22:11', // no offset: would be read in the worker's local time
    '2026-03-14',
    '2026-02-30T10:00:00Z',
    '2026-03-14T24:00:00Z',
    '2026-03-14T10:60:00Z',
    '2026-03-14T10:00:00+25:00',
    'yesterday',
    '',
  ])('refuses %j', (bad) => {
    expect(() => localDate(bad, 'Europe/Paris')).toThrow(/Invalid instant/);
  });

  it('refuses an unknown zone', () => {
    expect(() => periodOf('2026-03-14T10:00:00Z', 'Europe/Atlantis')).toThrow(/Unknown time zone/);
  });
});

describe('startOfLocalDay', () => {
  it.each([
    ['2026-03-29', 'Europe/Paris', '2026-03-28T23:00:00.000Z'], // the day clocks go forward (still CET at midnight)
    ['2026-03-30', 'Europe/Paris', '2026-03-29T22:00:00.000Z'],
    ['2026-10-25', 'Europe/Berlin', '2026-10-24T22:00:00.000Z'], // the day clocks go back (still CEST at midnight)
    ['2026-10-26', 'Europe/Berlin', '2026-10-25T23:00:00.000Z'],
    ['2026-03-08', 'America/New_York', '2026-03-08T05:00:00.000Z'],
    ['2026-11-02', 'America/New_York', '2026-11-02T05:00:00.000Z'],
    ['2026-04-05', 'Australia/Sydney', '2026-04-04T13:00:00.000Z'],
    ['2026-01-01', 'Asia/Kolkata', '2025-12-31T18:30:00.000Z'],
    // Santiago skips midnight on 6 September: the day starts at 01:00 (-03).
    ['2026-09-06', 'America/Santiago', '2026-09-06T04:00:00.000Z'],
  ])('%s in %s starts at %s', (ymd, tz, expected) => {
    expect(startOfLocalDay(ymd, tz)).toBe(expected);
  });

  it('gives 23- and 25-hour days on the DST changes', () => {
    const length = (from: string, to: string) => Date.parse(startOfLocalDay(to, 'Europe/Paris')) - Date.parse(startOfLocalDay(from, 'Europe/Paris'));
    expect(length('2026-03-29', '2026-03-30')).toBe(23 * HOUR);
    expect(length('2026-10-25', '2026-10-26')).toBe(25 * HOUR);
    expect(length('2026-06-01', '2026-06-02')).toBe(24 * HOUR);
  });

  it.each(['Europe/Paris', 'America/New_York', 'America/Santiago', 'Pacific/Chatham', 'Australia/Lord_Howe', 'Asia/Kolkata'])(
    '%s: every day of 2026 starts at its first instant',
    (tz) => {
      for (let day = Date.UTC(2026, 0, 1); day < Date.UTC(2027, 0, 1); day += 24 * HOUR) {
        const ymd = new Date(day).toISOString().slice(0, 10);
        const start = startOfLocalDay(ymd, tz);
        const previous = new Date(day - 24 * HOUR).toISOString().slice(0, 10);
        expect(localDate(start, tz)).toBe(ymd);
        expect(localDate(new Date(Date.parse(start) - 1).toISOString(), tz)).toBe(previous);
      }
    },
  );

  it.each(['2026-02-29', '2026-13-01', '2026-3-1', '26-03-01', '2026-03-01T00:00:00Z', ''])('refuses %j', (bad) => {
    expect(() => startOfLocalDay(bad, 'Europe/Paris')).toThrow(/Invalid date/);
  });
});
