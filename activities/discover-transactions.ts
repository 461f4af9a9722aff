import { Context } from '@temporalio/activity';
import { FatalError, NotFoundError } from '../src/errors.js';
import type { Transaction } from '../src/qonto/schemas.js';
import type { DiscoveredReceipt, ProbativeUpdate, TransactionRecord } from '../src/store/types.js';
import { UnnameableReceiptError } from '../src/sync/naming.js';
import { startOfLocalDay } from '../src/sync/periods.js';
import { transactionRecord } from '../src/sync/transaction-record.js';
import type { ActivityDeps } from './deps.js';
import { attachmentsOf, discoveredReceipt, probativeUpdate } from './discover.js';
import { keepHeartbeating } from './heartbeat.js';
import { settleAll } from './settle.js';
import type { DiscoverTransactionsInput, DiscoverTransactionsResult, UnlistedAttachmentsInput } from './types.js';

/** Transactions fetched at once: a burst stays far below Qonto's 1,000 requests per 10 s. */
const FETCHES_AT_ONCE = 4;

/** The statuses the daily listing asks for: a declined transaction has no receipt to keep. */
const LISTED_STATUSES = new Set(['completed', 'pending']);

export function discoverTransactionsActivities(deps: ActivityDeps) {
  return {
    /**
     * An incremental run's discovery: each transaction a webhook named is fetched by id and its
     * receipts recorded exactly as the daily listing records them (same place, same name, same
     * transaction record). Transactions emitted before the start date, of an account the organization
     * does not list, declined or gone, add nothing. Leaves the daily cursors alone: the 23:30 listing
     * still sees every change. Idempotent, like the listing.
     */
    async discoverTransactions(input: DiscoverTransactionsInput): Promise<DiscoverTransactionsResult> {
      const qonto = deps.qonto(input.integrationId);
      const emittedFromMs = Date.parse(startOfLocalDay(input.syncFrom, input.timeZone));
      const accounts = new Map(input.accounts.map((a) => [a.id, a]));
      const ctx = Context.current();
      const beat = keepHeartbeating(ctx, deps.heartbeatIntervalMs);
      const receipts: DiscoveredReceipt[] = [];
      const records: TransactionRecord[] = [];
      const copies: ProbativeUpdate[] = [];
      const notVisible: string[] = [];
      let skipped = 0;

      const fetch = async (id: string): Promise<Transaction | null> => {
        try {
          return await qonto.getTransaction(id, { includes: ['attachments'] });
        } catch (error) {
          if (error instanceof NotFoundError) return null;
          throw error;
        }
      };
      try {
        await settleAll(input.changes, FETCHES_AT_ONCE, ctx.cancellationSignal, async (change) => {
          const sentAt = Date.now();
          const tx = await beat.run(() => fetch(change.transactionId));
          const account = tx?.bank_account_id ? accounts.get(tx.bank_account_id) : undefined;
          if (!tx || !account || !LISTED_STATUSES.has(tx.status) || Date.parse(tx.emitted_at) < emittedFromMs) {
            skipped += 1;
            return;
          }
          const attachments = await beat.run(() => attachmentsOf(qonto, tx));
          const seen = new Set(attachments.map((a) => a.id));
          if (change.attachmentIds.some((id) => !seen.has(id))) notVisible.push(tx.id);
          const record = transactionRecord(account, tx, attachments.length, input.timeZone);
          if (record) records.push(record);
          else ctx.log.warn('transaction not recorded', { transactionId: tx.id, reason: 'invalid_transaction_data' });
          for (const attachment of attachments) {
            deps.attachmentLinks?.remember(attachment.id, attachment.url);
            try {
              receipts.push(discoveredReceipt(deps, input.integrationId, account, tx, attachment, input.timeZone, sentAt));
              if (input.probativeCopies) copies.push(probativeUpdate(deps, attachment));
            } catch (error) {
              if (!(error instanceof FatalError)) throw error;
              skipped += 1;
              const reason = error instanceof UnnameableReceiptError ? error.reason : 'invalid_receipt_data';
              ctx.log.warn('receipt skipped', { attachmentId: attachment.id, transactionId: tx.id, reason });
            }
          }
        });
        let discovered = await deps.store.upsertDiscovered(input.integrationId, receipts);
        await deps.store.upsertTransactions(input.integrationId, records);
        if (copies.length > 0) discovered += await deps.store.recordProbative(input.integrationId, copies);
        return { discovered, notVisible, skipped };
      } finally {
        beat.stop();
      }
    },

    /**
     * After a burst's listing: the transactions whose event named an attachment the manifest still
     * does not hold (Qonto was processing the upload when the listing asked), to be looked at again.
     */
    async unlistedAttachments(input: UnlistedAttachmentsInput): Promise<string[]> {
      const unlisted: string[] = [];
      for (const change of input.changes) {
        for (const attachmentId of change.attachmentIds) {
          if (await deps.store.getEntry(input.integrationId, attachmentId)) continue;
          unlisted.push(change.transactionId);
          break;
        }
      }
      return unlisted;
    },
  };
}
