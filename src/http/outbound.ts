import { withDeadlines, type DeadlineOptions, type RequestDeadlines } from './deadlines.js';
import { trackTransfers } from './transfer-pulse.js';

/** The fetch every client uses unless given another: undici's fetch with connect and idle deadlines,
 * reporting its transfers to the pulse of the activity that makes the request. */
export function outboundFetch(deadlines: Partial<RequestDeadlines> = {}, options: DeadlineOptions = {}): typeof fetch {
  return trackTransfers(withDeadlines(deadlines, options));
}
