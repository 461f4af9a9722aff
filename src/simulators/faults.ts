/**
 * Fault injection shared by the simulators: tests (and the sandbox) queue faults that the next
 * matching requests suffer. A simulator asks `take()` at the start of each request.
 */
import { mulberry32 } from './prng.js';

export type FaultAction =
  /** Answer with this status in the service's own error format, optionally with Retry-After. */
  | { kind: 'status'; status: number; retryAfterSec?: number; code?: string }
  /** Destroy the connection before answering (the client sees a reset / socket hang up). */
  | { kind: 'drop' }
  /** Read this many bytes of the request body, then destroy the connection (a dropped upload). */
  | { kind: 'drop-after-bytes'; bytes: number }
  /** Read the request, then never answer: no headers ever, the connection left open (a hung server). */
  | { kind: 'stall' }
  /** Answer as usual, but send only the headers and the first `bytes` of the body, then nothing more
   * while keeping the connection open (a transfer that stalls midway). */
  | { kind: 'stall-body'; bytes: number }
  /** Answer `status` (default 302) with this Location (a storage host sending the client elsewhere). */
  | { kind: 'redirect'; location: string; status?: number }
  /** Handle the request as usual (its body read), but hold the answer back this long (a server that
   * stores an upload fragment before it answers). Graph and identity simulators; Qonto's answers as usual. */
  | { kind: 'slow-answer'; ms: number };

export interface FaultMatch {
  method?: string;
  /** Substring or regular expression tested against the request path (with query string). */
  path?: string | RegExp;
}

interface Rule {
  id: number;
  match: FaultMatch;
  action: FaultAction;
  /** Infinity for a random rule (it stays until removed). */
  remaining: number;
  /** Random rule: the draw deciding whether this matching request suffers the fault. */
  hits?: () => boolean;
}

export interface RandomFault {
  /** Share of matching requests that suffer the fault, 0..1. */
  fraction: number;
  /** Seeds the draws, so the same sequence of requests suffers the same faults in every run. */
  seed?: number;
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

  /**
   * A fault suffered by a random share of the matching requests, until removed (a service throttling
   * under load). A request the draw spares goes on to the other rules.
   */
  addRandom(match: FaultMatch, action: FaultAction, { fraction, seed = 1 }: RandomFault): number {
    if (!(fraction >= 0 && fraction <= 1)) throw new Error(`fault fraction ${fraction} is not within 0..1`);
    const id = this.nextId++;
    const draw = mulberry32(seed);
    this.rules.push({ id, match, action, remaining: Number.POSITIVE_INFINITY, hits: () => draw() < fraction });
    return id;
  }

  remove(id: number): void {
    this.rules = this.rules.filter((r) => r.id !== id);
  }

  clear(): void {
    this.rules = [];
  }

  /** Faults still queued by count (random rules are open-ended and not included). */
  pending(): number {
    return this.rules.reduce((n, r) => (r.hits ? n : n + r.remaining), 0);
  }

  take(method: string, path: string): FaultAction | undefined {
    const rule = this.rules.find((r) => matches(r.match, method, path) && (r.hits?.() ?? true));
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

