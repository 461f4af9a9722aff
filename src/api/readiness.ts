import { z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import type { Logger } from 'pino';

/** A dependency of readiness: resolves when it answers, throws (with a reason for the log) when not. */
export type Check = () => Promise<void>;

export interface ReadinessChecks {
  /** The database answers a query. */
  store: Check;
  /** The Temporal server answers for our namespace. */
  temporal: Check;
  /** Work gets done: this process's worker runs (ROLE=worker), or some worker polls the task queue. */
  worker: Check;
}

const CHECKS = ['store', 'temporal', 'worker'] as const;
/** Short enough for a load balancer's probe; a dependency slower than this counts as down. */
export const CHECK_TIMEOUT_MS = 2_000;

const checkResult = z.union([z.object({ status: z.literal('up') }), z.object({ status: z.literal('down'), reason: z.string() })]);
export const readinessBody = z.object({
  status: z.enum(['ready', 'unavailable']),
  checks: z.object({ store: checkResult, temporal: checkResult, worker: checkResult }),
});
export type Readiness = z.infer<typeof readinessBody>;

/** Why a check failed, in words safe for an unauthenticated caller (the error itself goes to the log). */
export class NotReady extends Error {}

async function run(check: Check, timeoutMs: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new NotReady(`no answer within ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    await Promise.race([check(), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Runs every check at once; ready when all answer. */
export async function readiness(checks: ReadinessChecks, log?: Logger, timeoutMs = CHECK_TIMEOUT_MS): Promise<Readiness> {
  const results = await Promise.all(
    CHECKS.map(async (name) => {
      try {
        await run(checks[name], timeoutMs);
        return [name, { status: 'up' as const }] as const;
      } catch (error) {
        log?.warn({ err: error, check: name }, `readiness: ${name} is down`);
        const reason = error instanceof NotReady ? error.message : 'did not answer';
        return [name, { status: 'down' as const, reason }] as const;
      }
    }),
  );
  const byName = Object.fromEntries(results) as Readiness['checks'];
  return { status: results.every(([, r]) => r.status === 'up') ? 'ready' : 'unavailable', checks: byName };
}

/** `GET /readyz`: 200 when ready, else 503 with the same body naming what is down. Never cached. */
export function readinessHandler(checks: ReadinessChecks, log?: Logger) {
  return async (c: Context) => {
    const body = await readiness(checks, log);
    c.header('Cache-Control', 'no-store');
    return c.json(body, body.status === 'ready' ? 200 : 503);
  };
}
