import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { RateBudget } from '../../src/budget/rate-budget.js';
import { RetryableError } from '../../src/errors.js';
import { logger } from '../../src/logger.js';
import { openSqliteStore, openSqliteStoreReady } from '../../src/store/sqlite.js';
import { storeContract } from './contract.js';

const freshFile = () => join(mkdtempSync(join(tmpdir(), 'store-')), 'db.sqlite');

storeContract('SQLite', async () => {
  const file = freshFile();
  return { open: async () => openSqliteStore(file) };
});

describe('SQLite store', () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it('two processes reserving on one file at once both wait for the write lock, none fails, and every slot is granted once', async () => {
    const file = freshFile();
    await (await openSqliteStoreReady(file)).close(); // migrated before the race
    const child = join(import.meta.dirname, '../fixtures/sqlite-budget-child.ts');
    const children = [0, 1].map(() => spawn(process.execPath, ['--import', 'tsx', child, file, '300'], { cwd: join(import.meta.dirname, '../..'), stdio: ['pipe', 'pipe', 'inherit'] }));
    let perChild: { granted: boolean; waitMs: number; at: number }[][];
    let released: number;
    try {
      const exited = children.map((c) => once(c, 'exit') as Promise<[number | null]>);
      const halfway: Promise<void>[] = [];
      const outputs = children.map(async (c, n) => {
        c.stdin.on('error', () => undefined); // a child that died already: its exit code tells
        const answers: { granted: boolean; waitMs: number; at: number }[] = [];
        const lines = createInterface({ input: c.stdout })[Symbol.asyncIterator]();
        const read = async (untilHalf: boolean) => {
          for (let next = await lines.next(); !next.done; next = await lines.next()) {
            const parsed = JSON.parse(next.value) as { half?: true; granted: boolean; waitMs: number; at: number };
            if (parsed.half) return;
            answers.push(parsed);
          }
          if (untilHalf) throw new Error(`child ${n} ended before halfway`);
        };
        halfway[n] = read(true);
        await halfway[n];
        await read(false);
        expect((await exited[n]!)[0]).toBe(0);
        return answers;
      });
      for (const o of outputs) o.catch(() => undefined); // awaited below; one failing first must not go unhandled
      // Both halfway, then both go on together: neither ran all of its reservations before the other
      // started, and from the release on both compete for the write lock.
      await Promise.all(halfway);
      released = Date.now();
      for (const c of children) c.stdin.end('go\n');
      perChild = await Promise.all(outputs);
    } finally {
      for (const c of children) if (c.exitCode === null) c.kill();
    }
    for (const answers of perChild) {
      expect(answers[0]!.at).toBeLessThanOrEqual(released);
      expect(answers.at(-1)!.at).toBeGreaterThanOrEqual(released);
    }
    const answers = perChild.flat();
    expect(answers).toHaveLength(600);
    expect(answers.every((a) => a.granted)).toBe(true);
    // 600 slots: the burst of 3, then 597 at T = 11 s / 17 apart, whoever reserved them.
    const T = 11_000 / 17;
    const last = Math.max(...answers.map((a) => a.waitMs));
    expect(last).toBeLessThanOrEqual(597 * T + 5);
    // Slot times count from the first reservation: the last slot's wait is its time less how long after
    // the first one it was reserved, at most the span of all reservations.
    const span = Math.max(...answers.map((a) => a.at)) - Math.min(...answers.map((a) => a.at));
    expect(last).toBeGreaterThan(597 * T - span - 5);
  });

  it('a budget request that gets no write lock within busy_timeout fails retryable, shortly, unsent', async () => {
    const file = freshFile();
    const store = await openSqliteStoreReady(file);
    // Another process holds the write lock past busy_timeout (5 s).
    const other = new Database(file);
    other.exec('BEGIN IMMEDIATE');
    try {
      const sent: string[] = [];
      const fetch = new RateBudget(store, 'qonto', { windows: [{ windowMs: 10_000, limit: 20 }] }).wrap(
        async (input) => (sent.push(input instanceof Request ? input.url : input.toString()), new Response('ok')),
        { maxBudgetWaitMs: 40_000 },
      );
      const error = await fetch('http://qonto.test/v2/organization').catch((e: unknown) => e);
      expect(error).toBeInstanceOf(RetryableError);
      expect(error).toMatchObject({ code: 'storeBusy', retryAfterMs: 1_000 });
      expect(sent).toEqual([]);
    } finally {
      other.exec('ROLLBACK');
      other.close();
      await store.close();
    }
  });

  it('opens a file a newer release migrated (rollback), without migrating, and warns', async () => {
    const file = freshFile();
    const first = await openSqliteStoreReady(file);
    await first.createIntegration({ id: 'i1' });
    await first.close();
    const raw = new Database(file);
    raw.prepare('INSERT INTO kysely_migration (name, timestamp) VALUES (?, ?)').run('9999_from_a_newer_release', new Date().toISOString());
    raw.close();

    const warn = vi.spyOn(logger, 'warn');
    const store = await openSqliteStoreReady(file);
    try {
      expect((await store.getIntegration('i1'))?.status).toBe('connecting');
      expect(warn).toHaveBeenCalledWith(expect.objectContaining({ unknownMigrations: ['9999_from_a_newer_release'] }), expect.stringMatching(/newer release/));
    } finally {
      await store.close();
    }
  });
});
