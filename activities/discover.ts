import { Context } from '@temporalio/activity';
import { FatalError, NotFoundError } from '../src/errors.js';
import type { Attachment, Transaction } from '../src/qonto/schemas.js';
import type { DiscoveredReceipt, ProbativeUpdate, TransactionRecord } from '../src/store/types.js';
import { UnnameableReceiptError, formatAmount, periodFolderSegments, receiptFileName } from '../src/sync/naming.js';
import { localDate, periodOf, startOfLocalDay } from '../src/sync/periods.js';
import { manifestKey, probativeStateOf } from '../src/sync/probative.js';
import { transactionRecord } from '../src/sync/transaction-record.js';
import type { ActivityDeps } from './deps.js';
import { sealLink } from './download-link.js';
import { keepHeartbeating } from './heartbeat.js';
import { cancelSessions } from './sessions.js';
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

/** placeReceipt, with the download link the listing embeds, sealed, when the worker has a sealer: a
 * worker that exports the receipt without having listed it then needs no fresh link from Qonto.
 * `fetchedAt` (epoch ms): when the request that brought the link was sent, so its age is never
 * underestimated (the link is stored later, after the pages before it). */
export function discoveredReceipt(
  deps: Pick<ActivityDeps, 'sealer'>,
  integrationId: string,
  account: AccountRef,
  tx: Transaction,
  attachment: Attachment,
  timeZone: string,
  fetchedAt: number,
): DiscoveredReceipt {
  const receipt = placeReceipt(account, tx, attachment, timeZone);
  if (!deps.sealer) return receipt;
  return { ...receipt, downloadLink: sealLink(deps.sealer, integrationId, attachment.id, attachment.url), downloadLinkAt: new Date(fetchedAt).toISOString() };
}

/** Where a receipt's probative copy stands; the link of an available one is kept for the export. */
export function probativeUpdate(deps: Pick<ActivityDeps, 'attachmentLinks'>, attachment: Attachment): ProbativeUpdate {
  const state = probativeStateOf(attachment.probative_attachment);
  if (state.status !== 'available') return { attachmentId: attachment.id, status: state.status, size: null };
  deps.attachmentLinks?.remember(manifestKey(attachment.id, 'probative'), state.url);
  return { attachmentId: attachment.id, status: 'available', size: state.size };
}

export function discoverActivities(deps: ActivityDeps) {
  return {
    /**
     * Lists the account's transactions (completed and pending) changed since the cursor and emitted on or
     * after the start date, and records each of their receipts in the manifest, and the transaction
     * itself (for the missing-receipts list). Idempotent: a known receipt keeps its state. Late receipts
     * show up here because attaching one (or removing it) bumps `updated_at`.
     * With `probativeCopies`, also where each receipt's probative copy stands (an available one is a
     * file of its own), and looks again at the account's copies still pending; with it off, forgets
     * the account's copies.
     */
    async discoverAccount(input: DiscoverInput): Promise<DiscoverResult> {
      const qonto = deps.qonto(input.integrationId);
      const emittedFrom = startOfLocalDay(input.syncFrom, input.timeZone);
      const emittedFromMs = Date.parse(emittedFrom);
      // An account whose transactions were never recorded (listed by a release before the missing-
      // receipts list) is listed once from the start, not from its cursor: else months of transactions
      // without a receipt would stay unknown until a reconfiguration. Known receipts are skipped anyway.
      const since = input.cursor !== null && !(await deps.store.hasTransactions(input.integrationId, input.account.id)) ? null : input.cursor;
      let cursor = since;
      let transactions = 0;
      let discovered = 0;
      let skipped = 0;
      /** Receipts whose probative copy this listing already saw. */
      const seen = new Set<string>();
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
        type Pending = { from: string | undefined; page: number; sentAt: number; result: Promise<Page> };
        const request = (from: string | undefined, page: number): Pending => {
          const sentAt = Date.now();
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
          return { from, page, sentAt, result };
        };
        // While one page is recorded, the next one is already being fetched (its query only needs the
        // last updated_at of this one): the account is listed at the pace of Qonto's answers.
        let next: Pending | null = request(checkpoint?.from ?? overlap(since), checkpoint?.page ?? 1);
        while (next !== null) {
          const { from, sentAt }: { from: string | undefined; sentAt: number } = next;
          const result: Page = await next.result;
          const last: string | undefined = result.transactions.at(-1)?.updated_at;
          if (result.nextPage === null || last === undefined) next = null;
          else next = last !== from ? request(last, 1) : request(from, result.nextPage);

          const receipts: DiscoveredReceipt[] = [];
          const records: TransactionRecord[] = [];
          const copies: ProbativeUpdate[] = [];
          for (const tx of result.transactions) {
            transactions += 1;
            if (cursor === null || Date.parse(tx.updated_at) > Date.parse(cursor)) cursor = tx.updated_at;
            if (Date.parse(tx.emitted_at) < emittedFromMs) continue;
            // The page's links, or newer ones when fetched separately: dated from the page's request.
            const attachments = await beat.run(() => attachmentsOf(qonto, tx));
            // What it is now, receipts counted: one that got its receipt (or lost it) changes its record.
            const record = transactionRecord(input.account, tx, attachments.length, input.timeZone);
            if (record) records.push(record);
            else log.warn('transaction not recorded', { transactionId: tx.id, reason: 'invalid_transaction_data' });
            for (const attachment of attachments) {
              deps.attachmentLinks?.remember(attachment.id, attachment.url);
              try {
                receipts.push(discoveredReceipt(deps, input.integrationId, input.account, tx, attachment, input.timeZone, sentAt));
                if (input.probativeCopies) {
                  copies.push(probativeUpdate(deps, attachment));
                  seen.add(attachment.id);
                }
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
          if (copies.length > 0) discovered += await deps.store.recordProbative(input.integrationId, copies);
          if (next !== null) beat.progress({ from: next.from, page: next.page, cursor } satisfies Checkpoint);
        }
        if (input.probativeCopies) discovered += await beat.run(() => recheckPending(qonto, input, seen));
        // Off (said so explicitly: executions from before the option pass nothing): no copies tracked.
        else if (input.probativeCopies === false) await forgetCopies(input);
      } finally {
        beat.stop();
      }
      return { cursor, transactions, discovered, skipped };
    },
  };

  /** Copies still pending that this listing did not see (their transaction did not change, and Qonto
   * is not known to touch it when the copy is ready): asked for one by one, a bounded number per run. */
  async function recheckPending(qonto: ReturnType<ActivityDeps['qonto']>, input: DiscoverInput, seen: Set<string>): Promise<number> {
    const ids = await deps.store.pendingProbative(input.integrationId, input.account.id, PENDING_RECHECKS_PER_RUN + seen.size);
    const updates: ProbativeUpdate[] = [];
    for (const id of ids.filter((id) => !seen.has(id)).slice(0, PENDING_RECHECKS_PER_RUN)) {
      try {
        updates.push(probativeUpdate(deps, await qonto.getAttachment(id)));
      } catch (error) {
        // Removed from Qonto since: the export finds out and dismisses the receipt.
        if (!(error instanceof NotFoundError)) throw error;
      }
    }
    return deps.store.recordProbative(input.integrationId, updates);
  }

  async function forgetCopies(input: DiscoverInput): Promise<void> {
    const { uploadUrls } = await deps.store.forgetProbative(input.integrationId, input.account.id);
    if (uploadUrls.length > 0) await cancelSessions(deps.onedrive(input.integrationId), uploadUrls, Context.current().cancellationSignal);
  }
}

/** Each one is a Qonto request: bounded so that a large backlog of pending copies cannot eat the
 * request budget of a run (Qonto allows 1,000 requests per 10 s); the rest wait for the next run. */
const PENDING_RECHECKS_PER_RUN = 500;

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
export async function attachmentsOf(qonto: ReturnType<ActivityDeps['qonto']>, tx: Transaction): Promise<Attachment[]> {
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
