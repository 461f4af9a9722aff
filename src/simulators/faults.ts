/**
 * Fault injection shared by the simulators: tests (and the sandbox) queue faults that the next
 * matching requests suffer. A simulator asks `take()` at the start of each request.
 */
export type FaultAction =
  /** Answer with this status in the service's own error format, optionally with Retry-After. */
  | { kind: 'status'; status: number; retryAfterSec?: number; code?: string }
  /** Destroy the connection before answering (the client sees a reset / socket hang up). */
  | { kind: 'drop' }
  /** Read this many bytes of the request body, then destroy the connection (a dropped upload). */
  | { kind: 'drop-after-bytes'; bytes: number };

export interface FaultMatch {
  method?: string;
  /** Substring or regular expression tested against the request path (with query string). */
  path?: string | RegExp;
}

interface Rule {
  id: number;
  match: FaultMatch;
  action: FaultAction;
  remaining: number;
}

export class Faults {
  private rules: Rule[] = [];
  private nextId = 1;
  /** How many faults were served, by rule id order: lets tests prove a fault really happened. */
  served = 0;

  add(match: FaultMatch, action: FaultAction, times = 1): number {
    const id = this.nextId++;
    this.rules.push({ id, match, action, remaining: times });
    return id;
  }

  remove(id: number): void {
    this.rules = this.rules.filter((r) => r.id !== id);
  }

  clear(): void {
    this.rules = [];
  }

  pending(): number {
    return this.rules.reduce((n, r) => n + r.remaining, 0);
  }

  take(method: string, path: string): FaultAction | undefined {
    const rule = this.rules.find((r) => matches(r.match, method, path));
    if (!rule) return undefined;
    rule.remaining -= 1;
    if (rule.remaining <= 0) this.rules = this.rules.filter((r) => r !== rule);
    this.served += 1;
    return rule.action;
  }
}

function matches(m: FaultMatch, method: string, path: string): boolean {
  if (m.method && m.method.toUpperCase() !== method.toUpperCase()) return false;
  if (m.path === undefined) return true;
  return typeof m.path === 'string' ? path.includes(m.path) : m.path.test(path);
}
