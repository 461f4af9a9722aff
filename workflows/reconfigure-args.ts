import { isValidTimeZone } from '../src/sync/schedule.js';
import type { CarriedState } from './state.js';

const DAY = /^\d{4}-\d{2}-\d{2}$/;

/** Why a reconfiguration's values cannot be applied (the API validates too; a bad value reaching the
 * workflow must not wedge it), or null. */
export function reconfigureProblem(args: CarriedState['pendingReconfigure']): string | null {
  if (args?.syncFrom !== undefined && (!DAY.test(args.syncFrom) || Number.isNaN(Date.parse(`${args.syncFrom}T00:00:00Z`)))) {
    return `syncFrom ${JSON.stringify(args.syncFrom)} is not a YYYY-MM-DD date`;
  }
  if (args?.timeZone !== undefined && !isValidTimeZone(args.timeZone)) return `${JSON.stringify(args.timeZone)} is not an IANA time zone`;
  if (args?.probativeCopies !== undefined && typeof args.probativeCopies !== 'boolean') return `probativeCopies ${JSON.stringify(args.probativeCopies)} is not true or false`;
  return null;
}
