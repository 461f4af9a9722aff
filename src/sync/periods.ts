/**
 * Which period (year, month) and local day an instant belongs to in the integration's zone. A receipt
 * lands in the month of its transaction's `emitted_at` on the organization's wall clock, so
 * 2026-03-31T22:30:00Z is April in Paris. Pure: usable in workflow code (see schedule.ts).
 */
import { localToUtc, wallClock } from './schedule.js';

// Only instants with an explicit offset: `Date.parse` reads an offset-less date-time as *local* time,
// which would make the period depend on the worker's TZ.
const INSTANT = /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?(?:([Zz])|([+-])(\d{2}):?(\d{2}))$/;
const YMD = /^(\d{4})-(\d{2})-(\d{2})$/;

function isCalendarDate(year: number, month: number, day: number): boolean {
  const d = new Date(Date.UTC(year, month - 1, day));
  return d.getUTCFullYear() === year && d.getUTCMonth() === month - 1 && d.getUTCDate() === day;
}

function invalidInstant(isoInstant: unknown): RangeError {
  return new RangeError(`Invalid instant "${String(isoInstant)}": expected ISO 8601 with Z or an offset, e.g. 2026-03-14T10:22:00Z`);
}

/** Epoch milliseconds of an ISO-8601 instant that carries `Z` or a numeric offset. */
export function parseInstant(isoInstant: string): number {
  const m = typeof isoInstant === 'string' ? INSTANT.exec(isoInstant.trim()) : null;
  if (!m) throw invalidInstant(isoInstant);
  const [year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0, , , , offsetHours = 0, offsetMinutes = 0] = m
    .slice(1)
    .map((part) => Number(part ?? 0));
  const millis = Number((m[7] ?? '').padEnd(3, '0').slice(0, 3));
  if (
    !isCalendarDate(year, month, day) ||
    hour > 23 || minute > 59 || second > 59 || offsetHours > 23 || offsetMinutes > 59
  ) {
    throw invalidInstant(isoInstant);
  }
  const offset = m[8] ? 0 : (m[9] === '-' ? -1 : 1) * (offsetHours * 60 + offsetMinutes);
  return Date.UTC(year, month - 1, day, hour, minute, second, millis) - offset * 60_000;
}

const pad = (n: number, width = 2) => String(n).padStart(width, '0');

/** The local calendar date `YYYY-MM-DD` of the instant in `timeZone`. */
export function localDate(isoInstant: string, timeZone: string): string {
  const w = wallClock(parseInstant(isoInstant), timeZone);
  return `${pad(w.year, 4)}-${pad(w.month)}-${pad(w.day)}`;
}

/** The period folder an instant belongs to: `{ year: '2026', month: '2026-03' }`. */
export function periodOf(isoInstant: string, timeZone: string): { year: string; month: string } {
  const ymd = localDate(isoInstant, timeZone);
  return { year: ymd.slice(0, 4), month: ymd.slice(0, 7) };
}

/**
 * The ISO UTC instant at which the local day `YYYY-MM-DD` begins in `timeZone` (used as Qonto's
 * `emitted_at_from` for the user's start date). Where midnight is skipped by a DST change the day
 * begins at the first wall time that exists (01:00 in America/Santiago in September).
 */
export function startOfLocalDay(ymd: string, timeZone: string): string {
  const m = typeof ymd === 'string' ? YMD.exec(ymd) : null;
  const [year = 0, month = 0, day = 0] = (m ?? []).slice(1).map(Number);
  if (!m || !isCalendarDate(year, month, day)) throw new RangeError(`Invalid date "${String(ymd)}": expected YYYY-MM-DD`);
  return new Date(localToUtc(timeZone, year, month, day)).toISOString();
}
