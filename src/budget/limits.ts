/** A rate limit as written in the settings: `<n>/<int>(s|min)`, comma-separated, one per window. */
export interface RateWindow {
  windowMs: number;
  limit: number;
}

const WINDOW = /^(\d+)\/(\d+)(s|min)$/;

/**
 * Parses `800/10s,8000/10min` into windows, shortest first (one or two: the store's row keeps two
 * arrival times). Throws an Error whose message
 * names the part that is wrong (config.ts turns it into a setting's problem).
 */
export function parseRateLimit(value: string): RateWindow[] {
  const parts = value.split(',').map((p) => p.trim());
  const windows: RateWindow[] = [];
  for (const part of parts) {
    const m = WINDOW.exec(part);
    if (m === null) throw new Error(`"${part}" is not <requests>/<n>s or <requests>/<n>min`);
    const limit = Number(m[1]);
    const windowMs = Number(m[2]) * (m[3] === 's' ? 1_000 : 60_000);
    // Two at least: the budget keeps one request of each window back for the arrival jitter.
    if (limit < 2 || windowMs < 1_000) throw new Error(`"${part}" needs at least 2 requests in a window of at least 1 s`);
    if (windows.some((w) => w.windowMs === windowMs)) throw new Error(`"${part}": that window is given twice`);
    windows.push({ windowMs, limit });
  }
  if (windows.length > 2) throw new Error('at most two windows');
  return windows.sort((a, b) => a.windowMs - b.windowMs);
}

/** How a window is written back (`10s`, `10min`): in messages and docs. */
export function windowName(windowMs: number): string {
  return windowMs % 60_000 === 0 ? `${windowMs / 60_000}min` : `${windowMs / 1_000}s`;
}

/** Qonto's documented limits per IP address: 1,000 requests per 10 s and 10,000 per 10 min. */
export const QONTO_DOCUMENTED_LIMITS: readonly RateWindow[] = [
  { windowMs: 10_000, limit: 1_000 },
  { windowMs: 600_000, limit: 10_000 },
];

/** Microsoft Graph's documented app-wide limit: 130,000 requests per 10 s (per app, all tenants). */
export const GRAPH_DOCUMENTED_LIMITS: readonly RateWindow[] = [{ windowMs: 10_000, limit: 130_000 }];

/** The documented windows `windows` leaves out (each must be budgeted: Qonto counts both). */
export function missingWindows(windows: readonly RateWindow[], required: readonly RateWindow[]): RateWindow[] {
  return required.filter((r) => !windows.some((w) => w.windowMs === r.windowMs));
}

/** The windows whose budget is above the documented limit (accepted: limits can be negotiated). */
export function aboveDocumented(windows: readonly RateWindow[], documented: readonly RateWindow[]): RateWindow[] {
  return windows.filter((w) => documented.some((d) => d.windowMs === w.windowMs && w.limit > d.limit));
}
