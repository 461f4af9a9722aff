/**
 * The back-off windows the simulator announced to each drive (an answer 429/503 with Retry-After)
 * and the requests for that drive that arrived inside one anyway. Throttling applies to the account,
 * so a client that honours Retry-After for the whole drive sends none; one that only delays the
 * throttled request keeps sending. A request counts by when its headers arrived (before the
 * simulated latency); a window opens when its answer is written.
 */
export interface ThrottleReport {
  /** Answers that announced a window (429/503 with Retry-After). */
  windows: number;
  /** Requests that arrived inside a window announced to their drive. */
  requestsInWindows: number;
  /** For the first 1000 of those: milliseconds between the latest announcement and the arrival. */
  sinceAnnouncementMs: number[];
}

const KEPT = 1000;

export class ThrottleWindows {
  private readonly open = new Map<string, { announcedAt: number; until: number }>();
  readonly report: ThrottleReport = { windows: 0, requestsInWindows: 0, sinceAnnouncementMs: [] };

  constructor(private readonly now: () => number = () => performance.now()) {}

  /** An answer with Retry-After `ms` was just written for `driveId`. */
  announce(driveId: string, ms: number): void {
    const at = this.now();
    const current = this.open.get(driveId);
    this.open.set(driveId, { announcedAt: at, until: Math.max(at + ms, current?.until ?? 0) });
    this.report.windows += 1;
  }

  /** Records a request for `driveId` that arrived at `at` (default now); true when inside a window. */
  arrived(driveId: string, at = this.now()): boolean {
    const window = this.open.get(driveId);
    if (!window || at < window.announcedAt || at >= window.until) return false;
    this.report.requestsInWindows += 1;
    if (this.report.sinceAnnouncementMs.length < KEPT) this.report.sinceAnnouncementMs.push(Math.round((at - window.announcedAt) * 10) / 10);
    return true;
  }
}
