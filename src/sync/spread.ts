/**
 * The daily run's spread: each integration runs at SYNC_TIME plus a fixed offset of its own inside a
 * short window, so a fleet does not wake in the same second.
 *
 * Pure and deterministic (workflow code uses it): no Node imports, no clock, no randomness.
 */
import { nextLocalTime } from './schedule.js';

/** The window after SYNC_TIME when SYNC_SPREAD_MINUTES is not set (and for executions started before
 * the setting existed). */
export const DEFAULT_SYNC_SPREAD_MINUTES = 30;

/** FNV-1a, 32 bits, over the string's UTF-16 code units (the bytes, for the ASCII ids we hash). Small,
 * well known and stable across releases and runtimes, which is all an offset needs. */
export function fnv1a32(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

/** The integration's offset after SYNC_TIME, whole seconds in `[0, minutes)`; 0 when there is no window. */
export function spreadOffsetMs(integrationId: string, minutes: number): number {
  const windowSeconds = Math.floor(minutes * 60);
  if (!(windowSeconds > 0)) return 0;
  return (fnv1a32(integrationId) % windowSeconds) * 1000;
}

/**
 * The next daily run strictly after `nowMs`: `hour:minute` on the wall clock of `timeZone`, plus
 * `offsetMs`. The offset is added to the instant, not to the wall clock, so DST is `nextLocalTime`'s
 * business alone; and asking from `nowMs − offset` keeps today's run when `now` lies between
 * `hour:minute` and `hour:minute + offset` (it has not happened yet).
 */
export function nextDailyRun(nowMs: number, timeZone: string, hour: number, minute: number, offsetMs: number): number {
  return nextLocalTime(nowMs - offsetMs, timeZone, hour, minute) + offsetMs;
}
