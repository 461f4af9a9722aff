import { Context } from '@temporalio/activity';
import { FatalError, NotFoundError } from '../src/errors.js';
import type { Attachment, Transaction } from '../src/qonto/schemas.js';
import type { DiscoveredReceipt, TransactionRecord } from '../src/store/types.js';
import { UnnameableReceiptError, formatAmount, periodFolderSegments, receiptFileName } from '../src/sync/naming.js';
import { localDate, periodOf, startOfLocalDay } from '../src/sync/periods.js';
import { transactionRecord } from '../src/sync/transaction-record.js';
import type { ActivityDeps } from './deps.js';
import { keepHeartbeating } from './heartbeat.js';
import type { AccountRef, DiscoverInput, DiscoverResult } from './types.js';

/** Where a receipt goes and what it is called: decided once, at discovery, and kept in the manifest,
 * so a later change to the transaction (a pending one completing) never renames an exported file. */
export function placeReceipt(account: AccountRef, tx: Transaction, attachment: Attachment, timeZone: string): DiscoveredReceipt {
  const folderPath = [account.folderName, ...periodFolderSegments(periodOf(tx.emitted_at, timeZone))].join('/');
  const naming = {
    attachmentId: attachment.id,
    fileName: attachment.file_name,
    contentType: attachment.file_content_type,
    emittedAt: tx.emitted_at,
    timeZone,
    counterparty: tx.clean_counterparty_name ?? tx.label,
    amount: tx.amount,
    currency: tx.currency,
    side: tx.side,
  };
  return {
    attachmentId: attachment.id,
    transactionId: tx.id,
    bankAccountId: account.id,
    folderPath,
    fileName: receiptFileName(naming),
    fallbackFileName: receiptFileName(naming, attachment.id.length),
    size: attachment.file_size,
    // For the export log: the transaction as the file name shows it, its counterparty unabridged.
    transactionDate: localDate(tx.emitted_at, timeZone),
    amount: formatAmount(tx.amount, tx.side),
    currency: tx.currency,
    counterparty: naming.counterparty ?? null,
  };
}

export function discoverActivities(deps: ActivityDeps) {
  return {
    /**
     * Lists the account's transactions (completed and pending) changed since the cursor and emitted on or
     * after the start date, and records each of their receipts in the manifest, and the transaction
     * itself (for the missing-receipts list). Idempotent: a known receipt keeps its state. Late receipts
     * show up here because attaching one (or removing it) bumps `updated_at`.
     */
    async discoverAccount(input: DiscoverInput): Promise<DiscoverResult> {
      const qonto = deps.qonto(input.integrationId);
      const emittedFrom = startOfLocalDay(input.syncFrom, input.timeZone);
      const emittedFromMs = Date.parse(emittedFrom);
      let cursor = input.cursor;
      let transactions = 0;
      let discovered = 0;
      let skipped = 0;
      const { log } = Context.current();
      const beat = keepHeartbeating(Context.current());
      try {
        // Keyset paging on updated_at: after each page the next query starts at the last updated_at
        // seen, so a transaction updated while we page (it jumps to the end) cannot shift another one
        // onto a page already read. Page numbers are only followed while updated_at does not move.
        // A retried attempt (a worker died, the activity timed out) resumes where the last one got to.
        const checkpoint = Context.current().info.heartbeatDetails as Checkpoint | undefined;
        if (checkpoint?.cursor) cursor = checkpoint.cursor;
        type Page = Awaited<ReturnType<typeof qonto.listTransactionsPage>>;
        type Pending = { from: string | undefined; page: number; result: Promise<Page> };
        const request = (from: string | undefined, page: number): Pending => {
          const result = beat.run(() =>
            qonto.listTransactionsPage({
              bankAccountId: input.account.id,
              updatedAtFrom: from,
              emittedAtFrom: emittedFrom,
              statuses: ['completed', 'pending'],
              page,
            }),
          );
          result.catch(() => undefined); // awaited below; a failure must not go unhandled meanwhile
          return { from, page, result };
        };
        // While one page is recorded, the next one is already being fetched (its query only needs the
        // last updated_at of this one): the account is listed at the pace of Qonto's answers.
        let next: Pending | null = request(checkpoint?.from ?? overlap(input.cursor), checkpoint?.page ?? 1);
        while (next !== null) {
          const from: string | undefined = next.from;
          const result: Page = await next.result;
          const last: string | undefined = result.transactions.at(-1)?.updated_at;
          if (result.nextPage === null || last === undefined) next = null;
          else next = last !== from ? request(last, 1) : request(from, result.nextPage);

          const receipts: DiscoveredReceipt[] = [];
          const records: TransactionRecord[] = [];
          for (const tx of result.transactions) {
            transactions += 1;
            if (cursor === null || Date.parse(tx.updated_at) > Date.parse(cursor)) cursor = tx.updated_at;
            if (Date.parse(tx.emitted_at) < emittedFromMs) continue;
            const attachments = await beat.run(() => attachmentsOf(qonto, tx));
            // What it is now, receipts counted: one that got its receipt (or lost it) changes its record.
            const record = transactionRecord(input.account, tx, attachments.length, input.timeZone);
            if (record) records.push(record);
            else log.warn('transaction not recorded', { transactionId: tx.id, reason: 'invalid_transaction_data' });
            for (const attachment of attachments) {
              deps.attachmentLinks?.remember(attachment.id, attachment.url);
              try {
                receipts.push(placeReceipt(input.account, tx, attachment, input.timeZone));
              } catch (error) {
                // Data no file can be named from (an absurd amount, an id of a new shape) must not
                // block the account's other receipts.
                if (!(error instanceof FatalError)) throw error;
                skipped += 1;
                // A code, not the message: that can carry the amount.
                const reason = error instanceof UnnameableReceiptError ? error.reason : 'invalid_receipt_data';
                log.warn('receipt skipped', { attachmentId: attachment.id, transactionId: tx.id, reason });
              }
            }
          }
          discovered += await deps.store.upsertDiscovered(input.integrationId, receipts);
          await deps.store.upsertTransactions(input.integrationId, records);
          if (next !== null) beat.progress({ from: next.from, page: next.page, cursor } satisfies Checkpoint);
        }
      } finally {
        beat.stop();
      }
      return { cursor, transactions, discovered, skipped };
    },
  };
}

interface Checkpoint {
  from: string | undefined;
  page: number;
  cursor: string | null;
}

/** Transactions can become visible with an `updated_at` a little in the past (clock skew, a write
 * committed late): re-read a few minutes before the cursor; known receipts are skipped anyway. */
const CURSOR_OVERLAP_MS = 5 * 60_000;

function overlap(cursor: string | null): string | undefined {
  return cursor === null ? undefined : new Date(Date.parse(cursor) - CURSOR_OVERLAP_MS).toISOString();
}

/** The embedded attachments, plus any listed by id but not embedded (fetched one by one). */
async function attachmentsOf(qonto: ReturnType<ActivityDeps['qonto']>, tx: Transaction): Promise<Attachment[]> {
  const embedded = tx.attachments ?? [];
  const known = new Set(embedded.map((a) => a.id));
  const missing = tx.attachment_ids.filter((id) => !known.has(id));
  const fetched = [];
  for (const id of missing) {
    try {
      fetched.push(await qonto.getAttachment(id));
    } catch (error) {
      // Removed from the transaction since it was listed: nothing to export.
      if (!(error instanceof NotFoundError)) throw error;
    }
  }
  return [...embedded, ...fetched];
}
