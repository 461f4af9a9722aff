import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { isValidTimeZone, nextLocalTime, parseSyncTime } from '../../src/sync/schedule.js';

const HOUR = 3_600_000;
const at = (iso: string) => Date.parse(iso);
const iso = (ms: number) => new Date(ms).toISOString();

// The test's own reading of a zone's wall clock, independent of the module under test.
const checkers = new Map<string, Intl.DateTimeFormat>();
function wall(ms: number, timeZone: string) {
  let f = checkers.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-GB', {
      timeZone, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric',
      hour: 'numeric', minute: 'numeric', second: 'numeric',
    });
    checkers.set(timeZone, f);
  }
  const p = Object.fromEntries(f.formatToParts(ms).map((x) => [x.type, x.value]));
  return { date: `${p.year}-${p.month!.padStart(2, '0')}-${p.day!.padStart(2, '0')}`, hm: Number(p.hour) * 60 + Number(p.minute), second: Number(p.second) };
}
const nextDay = (ymd: string) => new Date(Date.parse(`${ymd}T00:00:00Z`) + 24 * HOUR).toISOString().slice(0, 10);

describe('parseSyncTime', () => {
  it('reads 24-hour HH:MM', () => {
    expect(parseSyncTime('23:30')).toEqual({ hour: 23, minute: 30 });
    expect(parseSyncTime('00:00')).toEqual({ hour: 0, minute: 0 });
    expect(parseSyncTime('7:05')).toEqual({ hour: 7, minute: 5 });
    expect(parseSyncTime(' 06:45 ')).toEqual({ hour: 6, minute: 45 });
  });

  it.each(['24:00', '23:60', '2330', '', '23:5', '23:30:00', 'ab:cd', '-1:30', '11:30 pm'])('rejects %j with a clear message', (bad) => {
    expect(() => parseSyncTime(bad)).toThrow(/Invalid sync time .*expected HH:MM/);
  });
});

describe('isValidTimeZone', () => {
  it.each(['Europe/Paris', 'America/Argentina/Buenos_Aires', 'UTC', 'Etc/GMT+5', 'Pacific/Chatham'])('accepts %s', (tz) => {
    expect(isValidTimeZone(tz)).toBe(true);
  });
  it.each(['', 'Mars/Olympus', '+01:00', 'Europe/Paris ', 'Europe/', '../etc/passwd', 'local'])('refuses %j', (tz) => {
    expect(isValidTimeZone(tz)).toBe(false);
  });
});

describe('nextLocalTime at 23:30 across the 2026 DST changes', () => {
  // [zone, now, expected next 23:30 local] — offsets worked out by hand from the 2026 rules.
  const cases: Array<[string, string, string]> = [
    // Europe: clocks go forward on 29 March (01:00Z) and back on 25 October (01:00Z).
    ['Europe/Paris', '2026-03-28T12:00:00Z', '2026-03-28T22:30:00.000Z'], // CET +1
    ['Europe/Paris', '2026-03-28T22:30:00Z', '2026-03-29T21:30:00.000Z'], // CEST +2: 23 h later
    ['Europe/Paris', '2026-03-29T21:30:00Z', '2026-03-30T21:30:00.000Z'],
    ['Europe/Paris', '2026-10-24T21:30:00Z', '2026-10-25T22:30:00.000Z'], // back to CET: 25 h later
    ['Europe/Paris', '2026-10-25T22:30:00Z', '2026-10-26T22:30:00.000Z'],
    ['Europe/Berlin', '2026-03-28T22:29:59Z', '2026-03-28T22:30:00.000Z'],
    ['Europe/Berlin', '2026-03-29T00:30:00Z', '2026-03-29T21:30:00.000Z'],
    ['Europe/Berlin', '2026-10-25T00:59:59Z', '2026-10-25T22:30:00.000Z'],
    ['Europe/Berlin', '2026-10-25T01:00:00Z', '2026-10-25T22:30:00.000Z'],
    // New York: forward on 8 March, back on 1 November.
    ['America/New_York', '2026-03-07T12:00:00Z', '2026-03-08T04:30:00.000Z'], // EST -5
    ['America/New_York', '2026-03-08T04:30:00Z', '2026-03-09T03:30:00.000Z'], // EDT -4
    ['America/New_York', '2026-10-31T12:00:00Z', '2026-11-01T03:30:00.000Z'],
    ['America/New_York', '2026-11-01T03:30:00Z', '2026-11-02T04:30:00.000Z'],
    // Sydney: back on 5 April (AEDT +11 → AEST +10), forward on 4 October.
    ['Australia/Sydney', '2026-04-04T00:00:00Z', '2026-04-04T12:30:00.000Z'],
    ['Australia/Sydney', '2026-04-04T12:30:00Z', '2026-04-05T13:30:00.000Z'],
    ['Australia/Sydney', '2026-10-03T13:30:00Z', '2026-10-04T12:30:00.000Z'],
    // Kolkata: +05:30 all year.
    ['Asia/Kolkata', '2026-03-29T00:00:00Z', '2026-03-29T18:00:00.000Z'],
    ['Asia/Kolkata', '2026-03-29T18:00:00Z', '2026-03-30T18:00:00.000Z'],
    // Chatham: +13:45 → +12:45 on 5 April, back to +13:45 on 27 September.
    ['Pacific/Chatham', '2026-04-04T00:00:00Z', '2026-04-04T09:45:00.000Z'],
    ['Pacific/Chatham', '2026-04-04T09:45:00Z', '2026-04-05T10:45:00.000Z'],
    ['Pacific/Chatham', '2026-09-26T00:00:00Z', '2026-09-26T10:45:00.000Z'],
    ['Pacific/Chatham', '2026-09-26T10:45:00Z', '2026-09-27T09:45:00.000Z'],
  ];
  it.each(cases)('%s after %s → %s', (tz, now, expected) => {
    expect(iso(nextLocalTime(at(now), tz, 23, 30))).toBe(expected);
  });

  it('exactly at 23:30 gives tomorrow; a millisecond before gives today', () => {
    expect(iso(nextLocalTime(at('2026-06-10T21:30:00Z'), 'Europe/Paris', 23, 30))).toBe('2026-06-11T21:30:00.000Z');
    expect(iso(nextLocalTime(at('2026-06-10T21:29:59.999Z'), 'Europe/Paris', 23, 30))).toBe('2026-06-10T21:30:00.000Z');
  });

  it('moves a skipped local time forward by the gap and takes the first of a repeated one', () => {
    // 02:30 does not exist in Paris on 29 March → 03:30 CEST.
    expect(iso(nextLocalTime(at('2026-03-28T23:00:00Z'), 'Europe/Paris', 2, 30))).toBe('2026-03-29T01:30:00.000Z');
    // 02:30 happens twice on 25 October → the CEST one first, then the next day, never twice that night.
    const first = nextLocalTime(at('2026-10-24T23:00:00Z'), 'Europe/Paris', 2, 30);
    expect(iso(first)).toBe('2026-10-25T00:30:00.000Z');
    expect(iso(nextLocalTime(first, 'Europe/Paris', 2, 30))).toBe('2026-10-26T01:30:00.000Z');
  });

  it('refuses bad arguments', () => {
    expect(() => nextLocalTime(0, 'Mars/Olympus', 23, 30)).toThrow(/Unknown time zone/);
    expect(() => nextLocalTime(0, 'Europe/Paris', 24, 0)).toThrow(/hour/);
    expect(() => nextLocalTime(0, 'Europe/Paris', 23, 30.5)).toThrow(/minute/);
    expect(() => nextLocalTime(Number.NaN, 'Europe/Paris', 23, 30)).toThrow(/instant/);
  });
});

describe('nextLocalTime sweep across 2026', () => {
  const zones = ['Europe/Paris', 'Europe/Berlin', 'America/New_York', 'Australia/Sydney', 'Asia/Kolkata', 'Pacific/Chatham', 'Australia/Lord_Howe'];
  it.each(zones)('%s: every 37 minutes, the result is the next 23:30 on the wall clock', (tz) => {
    const target = 23 * 60 + 30;
    let checked = 0;
    for (let now = at('2026-01-01T00:00:00Z'); now < at('2027-01-01T00:00:00Z'); now += 37 * 60_000 + 1_013) {
      const next = nextLocalTime(now, tz, 23, 30);
      const before = wall(now, tz);
      const after = wall(next, tz);
      if (!(next > now && next - now <= 25 * HOUR && after.hm === target && after.second === 0 && next % 60_000 === 0)) {
        throw new Error(`${tz} ${iso(now)} → ${iso(next)} (${after.date} ${after.hm})`);
      }
      // The very next one: today if 23:30 has not come yet, else tomorrow.
      const expectedDate = before.hm < target ? before.date : nextDay(before.date);
      if (after.date !== expectedDate) throw new Error(`${tz} ${iso(now)} → ${after.date}, expected ${expectedDate}`);
      checked++;
    }
    expect(checked).toBeGreaterThan(14_000);
  });
});

type Modules = {
  schedule: typeof import('../../src/sync/schedule.js');
  periods: typeof import('../../src/sync/periods.js');
  naming: typeof import('../../src/sync/naming.js');
};

// Everything that depends on zones or number formatting. Runs here and, as source text, in children
// whose TZ and locale are very different; it may use only its argument.
async function battery(m: Modules): Promise<unknown[]> {
  const results: unknown[] = [];
  for (const tz of ['Europe/Paris', 'America/New_York', 'Pacific/Chatham', 'UTC']) {
    for (const now of ['2026-03-28T22:30:00Z', '2026-10-25T00:30:00Z', '2026-12-31T23:30:00Z']) {
      results.push(m.schedule.nextLocalTime(Date.parse(now), tz, 23, 30), m.periods.periodOf(now, tz), m.periods.localDate(now, tz));
    }
    results.push(m.periods.startOfLocalDay('2026-03-29', tz), m.periods.startOfLocalDay('2026-11-01', tz));
    results.push(m.naming.receiptFileName({
      attachmentId: 'a1b2c3d4-e5f6', fileName: 'x', contentType: 'application/pdf', emittedAt: '2026-03-31T22:30:00Z',
      timeZone: tz, counterparty: 'Café Müller', amount: 1234567.5, currency: 'EUR', side: 'debit',
    }));
  }
  return results;
}

const loadHere = async (): Promise<Modules> => ({
  schedule: await import('../../src/sync/schedule.js'),
  periods: await import('../../src/sync/periods.js'),
  naming: await import('../../src/sync/naming.js'),
});

describe('independent of the worker time zone and locale', () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it('gives the expected values here', async () => {
    const results = await battery(await loadHere());
    expect(results.slice(0, 3)).toEqual([at('2026-03-29T21:30:00Z'), { year: '2026', month: '2026-03' }, '2026-03-28']);
    expect(results[11]).toBe('2026-04-01 Café Müller -1234567.50 EUR a1b2c3d4.pdf');
  });

  it.each([
    ['Pacific/Auckland', 'de_DE.UTF-8'],
    ['America/St_Johns', 'ar_EG.UTF-8'],
  ])('gives the same results under TZ=%s and locale %s', async (tz, locale) => {
    const root = new URL('../../', import.meta.url);
    const dir = mkdtempSync(join(tmpdir(), 'schedule-tz-'));
    try {
      const script = join(dir, 'battery.mts');
      const url = (name: string) => JSON.stringify(new URL(`src/sync/${name}.ts`, root).href);
      writeFileSync(script, `
        const m = { schedule: await import(${url('schedule')}), periods: await import(${url('periods')}), naming: await import(${url('naming')}) };
        const battery = ${battery.toString()};
        console.log(JSON.stringify({ env: Intl.DateTimeFormat().resolvedOptions(), results: await battery(m) }));
      `);
      const stdout = execFileSync(fileURLToPath(new URL('node_modules/.bin/tsx', root)), [script], {
        env: { ...process.env, TZ: tz, LANG: locale, LC_ALL: locale },
        encoding: 'utf8',
      });
      const child = JSON.parse(stdout) as { env: { timeZone: string; locale: string }; results: unknown[] };
      // The child really runs in another zone and locale.
      expect(child.env.timeZone).toBe(tz);
      expect(child.env.locale.slice(0, 2)).toBe(locale.slice(0, 2));
      expect(child.results).toEqual(await battery(await loadHere()));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('never reads the local time of a Date', async () => {
    const modules = await loadHere();
    const localMethods = [
      'getTimezoneOffset', 'getHours', 'getMinutes', 'getDate', 'getDay', 'getMonth', 'getFullYear',
      'toString', 'toLocaleString', 'toLocaleDateString', 'toLocaleTimeString',
    ] as const;
    for (const method of localMethods) {
      vi.spyOn(Date.prototype, method).mockImplementation(() => {
        throw new Error(`local-time Date.prototype.${method} used`);
      });
    }
    expect(await battery(modules)).toHaveLength(4 * (3 * 3 + 3));
  });
});
