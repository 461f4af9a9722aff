/**
 * Qonto's per-IP limits (docs/contracts-qonto.md, Rate limits): 1 000 requests per 10 s and 10 000 per 10 min, and a
 * client that collects more than 200 answers with status 401 within an hour is throttled too.
 * Sliding windows over the injected clock, so tests can move time instead of waiting.
 */
export interface RateLimit {
  perTenSeconds: number;
  perTenMinutes: number;
}

export const QONTO_RATE_LIMIT: RateLimit = { perTenSeconds: 1_000, perTenMinutes: 10_000 };
export const UNAUTHORIZED_PER_HOUR = 200;

const TEN_SECONDS = 10_000;
const TEN_MINUTES = 600_000;
const ONE_HOUR = 3_600_000;

/** Timestamps of events, oldest first; old ones are dropped from the head as time passes. */
class SlidingLog {
  private times: number[] = [];
  private head = 0;

  add(t: number): void {
    this.times.push(t);
  }

  /** Events in (now - windowMs, now]; forgets anything older than `keepMs`. */
  count(now: number, windowMs: number, keepMs: number): number {
    while (this.head < this.times.length && this.times[this.head]! <= now - keepMs) this.head++;
    if (this.head > 1024 && this.head * 2 > this.times.length) {
      this.times = this.times.slice(this.head);
      this.head = 0;
    }
    let n = 0;
    for (let i = this.times.length - 1; i >= this.head && this.times[i]! > now - windowMs; i--) n++;
    return n;
  }
}

export interface IpThrottleOptions {
  /** Keep the arrival time of every API request in `arrivals` (benchmarks and tests measure
   * sliding-window peaks from it; the list grows without bound, so only when asked). */
  recordArrivals?: boolean;
}

export class IpThrottle {
  private readonly requests = new Map<string, SlidingLog>();
  private readonly unauthorized = new Map<string, SlidingLog>();
  /** Arrival times of the API requests it was asked to admit, refused ones included, oldest first
   * (with `recordArrivals` only). */
  readonly arrivals?: number[];

  constructor(
    private readonly now: () => number,
    private readonly limit: RateLimit = QONTO_RATE_LIMIT,
    opts: IpThrottleOptions = {},
  ) {
    if (opts.recordArrivals) this.arrivals = [];
  }

  /** Counts the request and says whether it may proceed; refused requests are not counted. */
  admit(ip: string): boolean {
    const now = this.now();
    this.arrivals?.push(now);
    if (log(this.unauthorized, ip).count(now, ONE_HOUR, ONE_HOUR) > UNAUTHORIZED_PER_HOUR) return false;
    const requests = log(this.requests, ip);
    if (requests.count(now, TEN_SECONDS, TEN_MINUTES) >= this.limit.perTenSeconds) return false;
    if (requests.count(now, TEN_MINUTES, TEN_MINUTES) >= this.limit.perTenMinutes) return false;
    requests.add(now);
    return true;
  }

  /** Records an answer with status 401 for `ip`. */
  recordUnauthorized(ip: string): void {
    log(this.unauthorized, ip).add(this.now());
  }
}

function log(map: Map<string, SlidingLog>, ip: string): SlidingLog {
  let entry = map.get(ip);
  if (!entry) map.set(ip, (entry = new SlidingLog()));
  return entry;
}
