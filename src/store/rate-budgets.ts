import type { Kysely, Selectable, Transaction } from 'kysely';
import { KeyedQueue } from '../auth/keyed-queue.js';
import { RetryableError } from '../errors.js';
import { EMPTY_STATE, hold, reserve, type BudgetState } from '../budget/gcra.js';
import { logger } from '../logger.js';
import { now } from './rows.js';
import type { Database, Dialect } from './schema.js';
import { dbNowMs } from './sql-parts.js';
import type { BudgetParams, Store } from './types.js';

type Row = Selectable<Database['rate_budgets']>;

/** The row keeps two arrival times: the windows go to them shortest first, whatever order is given. */
function shortestFirst(params: BudgetParams): BudgetParams {
  if (params.windows.length < 1 || params.windows.length > 2) throw new Error('a rate budget has one or two windows');
  const order = params.windows.map((_, i) => i).sort((a, b) => params.windows[a]!.windowMs - params.windows[b]!.windowMs);
  return {
    ...params,
    windows: order.map((i) => params.windows[i]!),
    ...(params.burst ? { burst: order.map((i) => params.burst![i]!) } : {}),
  };
}

type StateColumns = Pick<Row, 'tat_short_ms' | 'tat_long_ms' | 'hold_until_ms' | 'hold_epoch' | 'holds_in_row'>;

/** The row as GCRA state. A value that is not a finite number (a corrupt row: NaN or Infinity would
 * be written back and switch the budget off, or hold it for ever) makes it a fresh state. */
export function stateFromRow(name: string, row: StateColumns): BudgetState {
  const values = [row.tat_short_ms, row.tat_long_ms, row.hold_until_ms, row.hold_epoch, row.holds_in_row].map(Number);
  if (!values.every(Number.isFinite)) {
    logger.warn({ budget: name, row }, 'The rate budget row holds a value that is not a finite number: it starts afresh');
    return EMPTY_STATE;
  }
  const [tatShort, tatLong, holdUntilMs, holdEpoch, holdsInRow] = values as [number, number, number, number, number];
  return { tatMs: [tatShort, tatLong], holdUntilMs, holdEpoch, holdsInRow };
}

/** better-sqlite3 is synchronous: a connection waiting for the write lock (busy_timeout) blocks the
 * whole event loop, so the connection of this process holding it could never commit. A process's
 * budget transactions on SQLite therefore run one at a time; other processes wait on busy_timeout. */
const sqliteTurns = new KeyedQueue();

/** Another process kept the SQLite file's write lock past busy_timeout: a short, retryable failure of
 * this request (it was not sent), not a fault of the store. */
export const STORE_BUSY_RETRY_MS = 1_000;

function busyIsRetryable(error: unknown): never {
  if ((error as { code?: unknown } | null)?.code === 'SQLITE_BUSY') {
    throw new RetryableError('The rate budget could not take the SQLite write lock: another process holds it', {
      code: 'storeBusy',
      retryAfterMs: STORE_BUSY_RETRY_MS,
      cause: error,
    });
  }
  throw error;
}

/**
 * The fleet-wide rate budgets (docs/rate-budget.md): one row per service, changed by one short
 * transaction per reservation or hold, on the database's clock. The row's lock orders the reservations
 * of every process: on Postgres `SELECT … FOR UPDATE`; on SQLite the transaction's first statement
 * writes (the insert that creates the row on first use), so it takes the write lock before it reads,
 * and another process waits on busy_timeout instead of failing to upgrade a read lock. Nobody sleeps
 * inside: the caller sleeps its wait after the commit.
 */
export function rateBudgetStatements(db: Kysely<Database>, dialect: Dialect): Pick<Store, 'reserveRate' | 'holdRate' | 'rateHold' | 'clearRateHolds'> {
  const postgres = dialect === 'postgres';
  const inTurn = <T>(work: () => Promise<T>): Promise<T> => (postgres ? work() : sqliteTurns.run('sqlite', () => work().catch(busyIsRetryable)));

  /** The row, locked for the transaction, and the database's time read after the lock was granted. */
  async function locked(trx: Transaction<Database>, name: string): Promise<{ state: BudgetState; nowMs: number }> {
    await trx.insertInto('rate_budgets').values({ name, updated_at: now() }).onConflict((oc) => oc.column('name').doNothing()).execute();
    const row = await trx
      .selectFrom('rate_budgets')
      .select(['tat_short_ms', 'tat_long_ms', 'hold_until_ms', 'hold_epoch', 'holds_in_row'])
      .where('name', '=', name)
      .$if(postgres, (q) => q.forUpdate())
      .executeTakeFirstOrThrow();
    const clock = await trx.selectNoFrom(dbNowMs(dialect).as('now_ms')).executeTakeFirstOrThrow();
    return { state: stateFromRow(name, row), nowMs: Number(clock.now_ms) };
  }

  async function write(trx: Transaction<Database>, name: string, state: BudgetState): Promise<void> {
    await trx
      .updateTable('rate_budgets')
      .set({
        tat_short_ms: state.tatMs[0] ?? 0,
        tat_long_ms: state.tatMs[1] ?? 0,
        hold_until_ms: state.holdUntilMs,
        hold_epoch: state.holdEpoch,
        holds_in_row: state.holdsInRow,
        updated_at: now(),
      })
      .where('name', '=', name)
      .execute();
  }

  return {
    async reserveRate(name, permits, params, maxWaitMs) {
      const windows = shortestFirst(params);
      return inTurn(() => db.transaction().execute(async (trx) => {
        const { state, nowMs } = await locked(trx, name);
        const r = reserve(state, nowMs, permits, windows, maxWaitMs);
        if ('retryAt' in r) return { granted: false, retryInMs: Math.max(0, r.retryAt - nowMs) };
        await write(trx, name, r.state);
        return { granted: true, waitMs: Math.max(0, r.startAt - nowMs), epoch: state.holdEpoch };
      }));
    },
    async holdRate(name, waitMs, sentEpoch, computed) {
      return inTurn(() => db.transaction().execute(async (trx) => {
        const { state, nowMs } = await locked(trx, name);
        const held = hold(state, nowMs, waitMs, sentEpoch, computed);
        await write(trx, name, held.state);
        return { holdMs: held.holdMs, epoch: held.state.holdEpoch, holdUntilMs: held.state.holdUntilMs };
      }));
    },
    async rateHold(name) {
      const row = await db
        .selectFrom('rate_budgets')
        .select(['hold_epoch', 'hold_until_ms', dbNowMs(dialect).as('now_ms')])
        .where('name', '=', name)
        .executeTakeFirst();
      if (row === undefined) return { epoch: 0, remainingMs: 0 };
      return { epoch: Number(row.hold_epoch), remainingMs: Math.max(0, Number(row.hold_until_ms) - Number(row.now_ms)) };
    },
    async clearRateHolds(name, epoch) {
      // Only the hold that success was sent under: a newer hold keeps counting.
      await db
        .updateTable('rate_budgets')
        .set({ holds_in_row: 0, updated_at: now() })
        .where('name', '=', name)
        .where('hold_epoch', '=', epoch)
        .where('holds_in_row', '>', 0)
        .execute();
    },
  };
}
