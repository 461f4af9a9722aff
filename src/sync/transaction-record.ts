/**
 * What the missing-receipts list needs of a Qonto transaction, taken at discovery. Pure.
 */
import type { Transaction } from '../qonto/schemas.js';
import type { TransactionRecord } from '../store/types.js';
import { localDate, parseInstant } from './periods.js';

/** The record of `tx` of `account`, with `attachments` receipts attached in Qonto; null when the data
 * cannot make one (an instant without offset, an absurd amount): the receipts of the account still go. */
export function transactionRecord(
  account: { id: string; folderName: string },
  tx: Transaction,
  attachments: number,
  timeZone: string,
): TransactionRecord | null {
  let emittedAt: string;
  let day: string;
  try {
    emittedAt = new Date(parseInstant(tx.emitted_at)).toISOString();
    day = localDate(tx.emitted_at, timeZone);
  } catch (error) {
    if (error instanceof RangeError) return null;
    throw error;
  }
  // The decimal Qonto sent (1.005 → 1.01, as in file names), not its binary approximation (1.00499…).
  const cents = Math.round(Number((Math.abs(tx.amount) * 100).toPrecision(15)));
  if (!Number.isSafeInteger(cents)) return null;
  const debit = tx.side === 'debit';
  return {
    transactionId: tx.id,
    bankAccountId: account.id,
    accountName: account.folderName,
    emittedAt,
    localDate: day,
    period: day.slice(0, 7),
    amountCents: debit ? -cents : cents,
    currency: tx.currency,
    counterparty: tx.clean_counterparty_name ?? tx.label ?? '',
    status: tx.status,
    // Qonto always sends both; were one left out, a debit is the kind that needs a receipt.
    required: tx.attachment_required ?? debit,
    lost: tx.attachment_lost ?? false,
    attachments,
  };
}
