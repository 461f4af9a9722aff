/**
 * Deadlines for every outbound request (Qonto, Graph, the upload host, signed download URLs): a
 * connection must be established within `connectMs`, and once it is, the exchange may not go
 * `idleMs` without a byte moving — waiting for the answer's headers (the timer restarts with every
 * piece of the request body written) or between pieces of the answer's body. A request that misses
 * one fails with a RetryableError, so the client's retry (or the activity's) takes over.
 *
 * undici's Agent enforces exactly these (`connectTimeout`, `headersTimeout`, `bodyTimeout`), given
 * as the `dispatcher` of the undici package's own fetch: no timer of ours per request, and a body we
 * stop reading (backpressure) is not mistaken for a stall. Not Node's built-in fetch: that one
 * bundles whatever undici the Node version ships, whose dispatcher interface need not match the
 * package's Agent; the package's fetch and Agent always do.
 */
import { Agent, fetch as undiciFetch, type Dispatcher } from 'undici';
import { RetryableError } from '../errors.js';
import { publicOnlyLookup } from './address-guard.js';
import { mapStreamErrors } from './map-stream-errors.js';

export interface RequestDeadlines {
  /** To establish the connection (TCP and TLS). */
  connectMs: number;
  /** Without a byte moving, once connected. Keep it below the activities' heartbeat timeout (20 s),
   * so that a stalled request is retried inside the activity before Temporal gives up on the attempt. */
  idleMs: number;
  /** For the answer of a request marked `slowAnswer` (an upload-session fragment, which the server
   * stores before it answers), and while its body is sent. Default four idle deadlines (60 s); the
   * activity's heartbeat stays alive meanwhile (src/http/transfer-pulse.ts, ANSWER_GRACE_MS). */
  slowAnswerMs: number;
}

export const DEFAULT_DEADLINES: RequestDeadlines = { connectMs: 10_000, idleMs: 15_000, slowAnswerMs: 60_000 };

/** RequestInit of a request whose answer may come late once its body is sent. */
export interface DeadlineInit extends RequestInit {
  slowAnswer?: boolean;
}

/** Spread into a RequestInit: the request gets `slowAnswerMs` to answer. */
export const SLOW_ANSWER: Pick<DeadlineInit, 'slowAnswer'> = { slowAnswer: true };

/** undici's codes for the three deadlines. */
const DEADLINE_CODES = new Set(['UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT']);

/** One pool of connections per pair of deadlines, for the process (clients are made per activity). */
const agents = new Map<string, Agent>();

/** Closes every pool once its requests are done (services.close()); a later request opens a new one. */
export async function closeAgents(): Promise<void> {
  const closing = [...agents.values()];
  agents.clear();
  await Promise.all(closing.map((agent) => agent.close()));
}

function agentFor({ connectMs, idleMs }: RequestDeadlines, answerMs: number, publicOnly: boolean): Dispatcher {
  const key = `${connectMs}/${idleMs}/${answerMs}/${publicOnly}`;
  let agent = agents.get(key);
  if (!agent) {
    agent = new Agent({
      connectTimeout: connectMs,
      headersTimeout: answerMs,
      bodyTimeout: idleMs,
      ...(publicOnly ? { connect: { lookup: publicOnlyLookup } } : {}),
    });
    agents.set(key, agent);
  }
  return agent;
}

export interface DeadlineOptions {
  /** Connect only to names that resolve to public addresses (downloads from links we were given). */
  publicOnly?: boolean;
}

/** The undici package's fetch with these deadlines; a missed deadline is a RetryableError naming the
 * host only (a path may hold a file name, a query a signature). */
export function withDeadlines(deadlines: Partial<RequestDeadlines> = {}, { publicOnly = false }: DeadlineOptions = {}): typeof fetch {
  const limits = { ...DEFAULT_DEADLINES, slowAnswerMs: 4 * (deadlines.idleMs ?? DEFAULT_DEADLINES.idleMs), ...deadlines };
  return async (input, init) => {
    const host = hostOf(input);
    const { slowAnswer = false, ...rest } = (init ?? {}) as DeadlineInit;
    try {
      // Looked up per request: a pool closed by closeAgents() is replaced.
      const dispatcher = agentFor(limits, slowAnswer ? limits.slowAnswerMs : limits.idleMs, publicOnly);
      const res = await undiciFetch(input, { ...rest, dispatcher });
      if (!res.body) return res;
      return new Response(guardDeadline(res.body, host, limits), { status: res.status, statusText: res.statusText, headers: res.headers });
    } catch (error) {
      throw asDeadlineError(error, host, slowAnswer ? { ...limits, idleMs: limits.slowAnswerMs } : limits) ?? error;
    }
  };
}

/** The RetryableError for a missed deadline, or undefined when `error` is something else. */
export function asDeadlineError(error: unknown, host: string, limits: RequestDeadlines): RetryableError | undefined {
  const cause: unknown = error instanceof Error ? (error.cause ?? error) : undefined;
  const code = cause instanceof Error && 'code' in cause ? cause.code : undefined;
  if (typeof code !== 'string' || !DEADLINE_CODES.has(code)) return undefined;
  const message =
    code === 'UND_ERR_CONNECT_TIMEOUT'
      ? `${host}: no connection within ${limits.connectMs / 1000} s`
      : `${host}: nothing received for ${limits.idleMs / 1000} s (${code === 'UND_ERR_HEADERS_TIMEOUT' ? 'no answer' : 'answer stalled'})`;
  return new RetryableError(message, { cause: error });
}

function guardDeadline(body: ReadableStream<Uint8Array>, host: string, limits: RequestDeadlines): ReadableStream<Uint8Array> {
  return mapStreamErrors(body, (error) => asDeadlineError(error, host, limits) ?? error);
}

function hostOf(input: Parameters<typeof fetch>[0]): string {
  try {
    return new URL(typeof input === 'string' || input instanceof URL ? input : input.url).host;
  } catch {
    return 'request';
  }
}
