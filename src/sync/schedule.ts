/**
 * When the daily run happens: "next HH:MM on the wall clock of an IANA zone", DST-correct.
 *
 * Pure and deterministic so it can run inside Temporal workflow code: no Node imports, no local-time
 * `Date` methods and no default `Intl` zone (both follow the worker's TZ). Only `Date.UTC`, epoch
 * milliseconds and `Intl.DateTimeFormat` with an explicit `timeZone` are used.
 */

export interface WallClock {
  year: number;
  month: number; // 1-12
  day: number;
  hour: number; // 0-23
  minute: number;
  second: number;
}

const MINUTE_MS = 60_000;
const DAY_MS = 24 * 60 * MINUTE_MS;

// Building a formatter costs far more than using one; the daily loop and period lookups call these
// often with the same few zones.
const formatters = new Map<string, Intl.DateTimeFormat>();

function formatterFor(timeZone: string): Intl.DateTimeFormat {
  let formatter = formatters.get(timeZone);
  if (!formatter) {
    formatter = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    });
    formatters.set(timeZone, formatter);
  }
  return formatter;
}

// IANA names look like `Europe/Paris`, `America/Argentina/Buenos_Aires`, `UTC`, `Etc/GMT+5`. The shape
// check keeps out what Intl also accepts but is not a zone name (offsets such as `+01:00`).
const IANA_NAME = /^[A-Za-z][A-Za-z0-9_+-]*(?:\/[A-Za-z0-9_+-]+)*$/;

export function isValidTimeZone(tz: string): boolean {
  if (typeof tz !== 'string' || !IANA_NAME.test(tz)) return false;
  try {
    formatterFor(tz);
    return true;
  } catch {
    return false;
  }
}

function assertTimeZone(timeZone: string): void {
  if (!isValidTimeZone(timeZone)) throw new RangeError(`Unknown time zone "${timeZone}": expected an IANA name such as Europe/Paris`);
}

/** The wall clock in `timeZone` at the instant `ms` (epoch milliseconds, seconds precision). */
export function wallClock(ms: number, timeZone: string): WallClock {
  assertTimeZone(timeZone);
  const out: WallClock = { year: 0, month: 0, day: 0, hour: 0, minute: 0, second: 0 };
  for (const part of formatterFor(timeZone).formatToParts(ms)) {
    if (part.type in out) out[part.type as keyof WallClock] = Number(part.value);
  }
  return out;
}

/** How far the zone's wall clock is ahead of UTC at instant `ms`. */
function offsetAt(ms: number, timeZone: string): number {
  const w = wallClock(ms, timeZone);
  return Date.UTC(w.year, w.month - 1, w.day, w.hour, w.minute, w.second) - Math.floor(ms / 1000) * 1000;
}

/**
 * The instant at which the zone's wall clock shows the given local date and time. Month and day may
 * overflow (day 32 → next month), as with `Date.UTC`. Disambiguation follows RFC 5545 / Temporal's
 * "compatible": a time repeated when clocks go back resolves to its first occurrence; a time skipped
 * when clocks go forward moves forward by the size of the gap (02:30 → 03:30).
 */
export function localToUtc(
  timeZone: string,
  year: number,
  month: number,
  day: number,
  hour = 0,
  minute = 0,
): number {
  const asUtc = Date.UTC(year, month - 1, day, hour, minute);
  // Zones change offset at most once within a day or so, so the offsets a day before and a day after
  // are the only two candidates.
  const before = offsetAt(asUtc - DAY_MS, timeZone);
  const after = offsetAt(asUtc + DAY_MS, timeZone);
  const matches = [asUtc - before, asUtc - after].filter((utc) => utc + offsetAt(utc, timeZone) === asUtc);
  if (matches.length > 0) return Math.min(...matches);
  return asUtc - before;
}

function assertInteger(value: number, min: number, max: number, what: string): void {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new RangeError(`Invalid ${what} ${value}: expected an integer from ${min} to ${max}`);
  }
}

/**
 * The first instant strictly after `nowMs` at which the wall clock in `timeZone` shows hour:minute.
 * Exactly at that time → the same time tomorrow, so a run that finishes instantly is not repeated.
 */
export function nextLocalTime(nowMs: number, timeZone: string, hour: number, minute: number): number {
  if (!Number.isFinite(nowMs)) throw new RangeError(`Invalid instant ${nowMs}`);
  assertInteger(hour, 0, 23, 'hour');
  assertInteger(minute, 0, 59, 'minute');
  const today = wallClock(nowMs, timeZone);
  // Today's time may have passed and tomorrow's may fall into a gap that pushes it forward; a third
  // day covers zones that once skipped a whole calendar day (Pacific/Apia, 2011).
  for (let add = 0; add <= 2; add++) {
    const at = localToUtc(timeZone, today.year, today.month, today.day + add, hour, minute);
    if (at > nowMs) return at;
  }
  throw new Error(`No ${hour}:${minute} in ${timeZone} within three days after ${nowMs}`);
}

const SYNC_TIME = /^([01]?\d|2[0-3]):([0-5]\d)$/;

/** Parses a 24-hour `HH:MM` (as in SYNC_TIME, e.g. `23:30`). */
export function parseSyncTime(hhmm: string): { hour: number; minute: number } {
  const match = typeof hhmm === 'string' ? SYNC_TIME.exec(hhmm.trim()) : null;
  if (!match) throw new Error(`Invalid sync time "${String(hhmm)}": expected HH:MM in 24-hour time, e.g. 23:30`);
  return { hour: Number(match[1]), minute: Number(match[2]) };
}
