import Database from 'better-sqlite3';
import { Kysely, SqliteDialect, sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { withStatementCache } from '../../src/store/statement-cache.js';

function counted() {
  const db = new Database(':memory:');
  db.exec('create table t (n integer)');
  let prepared = 0;
  const prepare = db.prepare.bind(db);
  db.prepare = (sql: string) => {
    prepared += 1;
    return prepare(sql);
  };
  return { db, prepared: () => prepared };
}

describe('withStatementCache', () => {
  it('prepares a text once and runs it again with new parameters', () => {
    const { db, prepared } = counted();
    const cached = withStatementCache(db);
    for (let n = 1; n <= 5; n++) cached.prepare('insert into t (n) values (?)').run([n]);
    const rows = cached.prepare('select n from t where n > ? order by n').all([2]);
    expect(rows).toEqual([{ n: 3 }, { n: 4 }, { n: 5 }]);
    expect(cached.prepare('select n from t where n > ? order by n').all([4])).toEqual([{ n: 5 }]);
    expect(prepared()).toBe(2);
  });

  it('gives a fresh statement while the cached one is still iterating', () => {
    const { db, prepared } = counted();
    db.exec('insert into t (n) values (1), (2)');
    const cached = withStatementCache(db);
    const sql = 'select n from t order by n';
    const outer = cached.prepare(sql).iterate([]);
    const first = outer.next();
    // Re-running the busy statement would throw "This statement is busy executing a query".
    expect(cached.prepare(sql).all([])).toEqual([{ n: 1 }, { n: 2 }]);
    expect(first.value).toEqual({ n: 1 });
    expect([...outer]).toEqual([{ n: 2 }]);
    expect(prepared()).toBe(2);
    cached.prepare(sql).all([]);
    expect(prepared()).toBe(2);
  });

  it('starts over rather than growing past its bound', () => {
    const { db, prepared } = counted();
    const cached = withStatementCache(db, 3);
    for (const n of [1, 2, 3, 4]) cached.prepare(`select ${n} as n`).all([]);
    expect(prepared()).toBe(4);
    cached.prepare('select 4 as n').all([]);
    expect(prepared()).toBe(4);
    cached.prepare('select 1 as n').all([]);
    expect(prepared()).toBe(5);
  });
});

describe('withStatementCache behind Kysely', () => {
  interface Tables {
    t: { n: number };
  }
  function kysely() {
    const { db, prepared } = counted();
    return { k: new Kysely<Tables>({ dialect: new SqliteDialect({ database: withStatementCache(db) }) }), prepared };
  }

  it('keeps transactions working: a commit keeps its rows, a rollback drops them', async () => {
    const { k } = kysely();
    await k.transaction().execute((tx) => tx.insertInto('t').values({ n: 1 }).execute());
    await expect(
      k.transaction().execute(async (tx) => {
        await tx.insertInto('t').values({ n: 2 }).execute();
        throw new Error('undo');
      }),
    ).rejects.toThrow('undo');
    await k.transaction().execute((tx) => tx.insertInto('t').values({ n: 3 }).execute());
    expect(await k.selectFrom('t').select('n').orderBy('n').execute()).toEqual([{ n: 1 }, { n: 3 }]);
    await k.destroy();
  });

  it('runs a query again after a stream of it was left early', async () => {
    const { k } = kysely();
    await k.insertInto('t').values([{ n: 1 }, { n: 2 }, { n: 3 }]).execute();
    const query = k.selectFrom('t').select('n').orderBy('n');
    for await (const row of query.stream()) {
      expect(row).toEqual({ n: 1 });
      break;
    }
    expect(await query.execute()).toEqual([{ n: 1 }, { n: 2 }, { n: 3 }]);
    await k.destroy();
  });

  it('sees a column added after the statement was cached', async () => {
    const { k } = kysely();
    await k.insertInto('t').values({ n: 1 }).execute();
    expect(await k.selectFrom('t').selectAll().execute()).toEqual([{ n: 1 }]);
    await sql`alter table t add column label text default 'x'`.execute(k);
    expect(await k.selectFrom('t').selectAll().execute()).toEqual([{ n: 1, label: 'x' }]);
    await k.destroy();
  });
});
