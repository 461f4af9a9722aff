/**
 * The sandbox's "Add a receipt in Qonto": a card payment made just now on the organization's main
 * account, with its receipt attached, as a member would do in Qonto's app. The two changes send a
 * `created` and an `updated` event to the subscriptions (webhooks.ts), so the receipt reaches the
 * simulated drive without waiting for the daily run.
 */
import type { QontoData } from './data.js';

const SHOPS = ['Boulangerie Paul', 'SNCF Connect', 'Monoprix', 'Office Depot', 'Uber', 'Free Mobile'];

export interface AddedReceipt {
  transactionId: string;
  attachmentId: string;
  label: string;
  fileName: string;
}

export function addDemoReceipt(data: QontoData, opts: { visibleAfterMs?: number } = {}): AddedReceipt {
  const accounts = data.bankAccounts().filter((a) => a.status === 'active');
  const account = accounts.find((a) => a.main) ?? accounts[0];
  if (!account) throw new Error('the demo organization has no active bank account');
  // Varied but repeatable: the n-th receipt of a sandbox is always the same shop and amount.
  const n = accounts.reduce((sum, a) => sum + data.transactionsOf(a.id).length, 0);
  const label = SHOPS[n % SHOPS.length]!;
  const amount = Math.round((5 + ((n * 37) % 200) + ((n * 13) % 100) / 100) * 100) / 100;
  const tx = data.addTransaction({ bankAccountId: account.id, amount, label, operationType: 'card', vatRate: 20 });
  const fileName = `Ticket ${label} ${tx.emittedAt.slice(0, 10)}.pdf`;
  const attachment = data.attachReceipt(tx.id, {
    fileName,
    contentType: 'application/pdf',
    size: 20_000 + ((n * 7919) % 100_000),
    ...(opts.visibleAfterMs === undefined ? {} : { visibleAfterMs: opts.visibleAfterMs }),
  });
  return { transactionId: tx.id, attachmentId: attachment.id, label, fileName };
}
