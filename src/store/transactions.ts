import { sql, type Kysely } from 'kysely';
import type { Database } from './schema.js';
import type { MissingCount, MissingReceipt, Store, TransactionRecord } from './types.js';
import { EXPORT_LOG_PAGE, now } from './rows.js';

/** Rows per insert: 15 parameters each stays far below both engines' limits (SQLite 32766, Postgres 65535). */
const ROWS_PER_STATEMENT = 200;

const MISSING_COLUMNS = ['transaction_id', 'local_date', 'amount_cents', 'currency', 'counterparty', 'account_name', 'period', 'attachment_lost'] as const;

function toMissing(r: Pick<Database['transactions'], (typeof MISSING_COLUMNS)[number]>): MissingReceipt {
  return {
    transactionId: r.transaction_id,
    date: r.local_date,
    amountCents: Number(r.amount_cents),
    currency: r.currency,
    counterparty: r.counterparty,
    account: r.account_name,
    period: r.period,
    lost: Number(r.attachment_lost) === 1,
  };
}

/**
 * The transactions table: what discovery last saw of each transaction, and the receipts still missing.
 * Whether one is missing is decided when asked, from the start date of that moment, so a reconfigured
 * start date (earlier or later) takes effect at once; `local_date` and the start date are both days in
 * the integration's zone, compared as text.
 */
export function transactionStatements(db: Kysely<Database>): Pick<Store, 'upsertTransactions' | 'missingReceipts' | 'missingLog' | 'missingByPeriod' | 'hasTransactions'> {
  const missing = (integrationId: string, syncFrom: string) =>
    db
      .selectFrom('transactions')
      .where('integration_id', '=', integrationId)
      .where('status', '=', 'completed')
      .where('local_date', '>=', syncFrom)
      .where('attachments', '=', 0)
      // A receipt declared lost is listed even where none was required: someone looked for it.
      .where((eb) => eb.or([eb('attachment_required', '=', 1), eb('attachment_lost', '=', 1)]));

  return {
    async hasTransactions(integrationId, bankAccountId) {
      const row = await db
        .selectFrom('transactions')
        .select('transaction_id')
        .where('integration_id', '=', integrationId)
        .where('bank_account_id', '=', bankAccountId)
        .limit(1)
        .executeTakeFirst();
      return row !== undefined;
    },
    async upsertTransactions(integrationId, transactions) {
      // The last record of a transaction wins: a page may list one twice while it changes.
      const latest = new Map(transactions.map((t) => [t.transactionId, t]));
      const rows = [...latest.values()].map((t: TransactionRecord) => ({
        integration_id: integrationId,
        transaction_id: t.transactionId,
        bank_account_id: t.bankAccountId,
        account_name: t.accountName,
        emitted_at: t.emittedAt,
        local_date: t.localDate,
        period: t.period,
        amount_cents: t.amountCents,
        currency: t.currency,
        counterparty: t.counterparty,
        status: t.status,
        attachment_required: t.required ? 1 : 0,
        attachment_lost: t.lost ? 1 : 0,
        attachments: t.attachments,
        updated_at: now(),
      }));
      for (let i = 0; i < rows.length; i += ROWS_PER_STATEMENT) {
        await db
          .insertInto('transactions')
          .values(rows.slice(i, i + ROWS_PER_STATEMENT))
          .onConflict((oc) =>
            oc.columns(['integration_id', 'transaction_id']).doUpdateSet((eb) => ({
              bank_account_id: eb.ref('excluded.bank_account_id'),
              account_name: eb.ref('excluded.account_name'),
              emitted_at: eb.ref('excluded.emitted_at'),
              local_date: eb.ref('excluded.local_date'),
              period: eb.ref('excluded.period'),
              amount_cents: eb.ref('excluded.amount_cents'),
              currency: eb.ref('excluded.currency'),
              counterparty: eb.ref('excluded.counterparty'),
              status: eb.ref('excluded.status'),
              attachment_required: eb.ref('excluded.attachment_required'),
              attachment_lost: eb.ref('excluded.attachment_lost'),
              attachments: eb.ref('excluded.attachments'),
              updated_at: eb.ref('excluded.updated_at'),
            })),
          )
          .execute();
      }
    },
    async missingReceipts(integrationId, syncFrom) {
      const rows = await missing(integrationId, syncFrom)
        .select(MISSING_COLUMNS)
        .orderBy('period')
        .orderBy('account_name')
        .orderBy('emitted_at')
        .orderBy('transaction_id')
        .execute();
      return rows.map(toMissing);
    },
    async *missingLog(integrationId, syncFrom, { from, to }, pageSize = EXPORT_LOG_PAGE) {
      // Keyset pages by (date, id), as the export log's manifest pages: a page costs the same at the
      // end as at the start, and a row that changes meanwhile is read once at most.
      let after: { day: string; id: string } | null = null;
      for (;;) {
        const last: { day: string; id: string } | null = after;
        const rows = await missing(integrationId, syncFrom)
          .select(MISSING_COLUMNS)
          .$if(from !== undefined, (q) => q.where('local_date', '>=', from!))
          .$if(to !== undefined, (q) => q.where('local_date', '<=', to!))
          .$if(last !== null, (q) =>
            q.where(sql<boolean>`(local_date, transaction_id) > (${last!.day}, ${last!.id})`),
          )
          .orderBy('local_date')
          .orderBy('transaction_id')
          .limit(pageSize)
          .execute();
        yield* rows.map(toMissing);
        const end = rows.at(-1);
        if (rows.length < pageSize || end === undefined) return;
        after = { day: end.local_date, id: end.transaction_id };
      }
    },
    async missingByPeriod(integrationId, syncFrom) {
      const rows = await missing(integrationId, syncFrom)
        .select((eb) => ['period', 'account_name', eb.fn.countAll<number>().as('n'), eb.fn.countAll<number>().filterWhere('attachment_lost', '=', 1).as('lost')])
        .groupBy(['period', 'account_name'])
        .orderBy('period')
        .orderBy('account_name')
        .execute();
      return rows.map((r): MissingCount => ({ period: r.period, account: r.account_name, missing: Number(r.n), lost: Number(r.lost) }));
    },
  };
}
