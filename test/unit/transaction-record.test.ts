import { describe, expect, it } from 'vitest';
import { TransactionSchema, type Transaction } from '../../src/qonto/schemas.js';
import { transactionRecord } from '../../src/sync/transaction-record.js';

const account = { id: 'acc-1', folderName: 'Main (1234)' };
const tx = (fields: Record<string, unknown> = {}): Transaction =>
  TransactionSchema.parse({
    id: 'tx-1',
    amount: 52.4,
    currency: 'EUR',
    side: 'debit',
    status: 'completed',
    label: 'AMAZON PAYMENTS',
    clean_counterparty_name: 'Amazon',
    emitted_at: '2026-03-31T22:30:00.000Z',
    updated_at: '2026-04-01T08:00:00.000Z',
    attachment_required: true,
    attachment_lost: false,
    ...fields,
  });

describe('transactionRecord', () => {
  it('takes the day and period in the integration zone, the signed amount in cents and the flags', () => {
    expect(transactionRecord(account, tx(), 0, 'Europe/Paris')).toEqual({
      transactionId: 'tx-1',
      bankAccountId: 'acc-1',
      accountName: 'Main (1234)',
      emittedAt: '2026-03-31T22:30:00.000Z',
      localDate: '2026-04-01',
      period: '2026-04',
      amountCents: -5240,
      currency: 'EUR',
      counterparty: 'Amazon',
      status: 'completed',
      required: true,
      lost: false,
      attachments: 0,
    });
    expect(transactionRecord(account, tx(), 2, 'UTC')).toMatchObject({ localDate: '2026-03-31', period: '2026-03', attachments: 2 });
  });

  it('reads a credit as positive, a string amount exactly, an offset instant as UTC, and the label without a counterparty', () => {
    const record = transactionRecord(
      account,
      tx({ side: 'credit', amount: '0,10', emitted_at: '2026-03-01T00:30:00+02:00', clean_counterparty_name: null, attachment_lost: true }),
      0,
      'UTC',
    );
    expect(record).toMatchObject({ amountCents: 10, emittedAt: '2026-02-28T22:30:00.000Z', localDate: '2026-02-28', counterparty: 'AMAZON PAYMENTS', lost: true });
  });

  it('rounds the amount as the receipt file names do: the decimal sent, not its binary approximation', () => {
    expect(transactionRecord(account, tx({ amount: 1.005 }), 0, 'UTC')).toMatchObject({ amountCents: -101 });
    expect(transactionRecord(account, tx({ amount: 0.285, side: 'credit' }), 0, 'UTC')).toMatchObject({ amountCents: 29 });
  });

  it('reads absent flags as Qonto would set them: a debit needs a receipt, a credit not, none lost', () => {
    const debit = tx({ attachment_required: undefined, attachment_lost: null });
    expect(transactionRecord(account, debit, 0, 'UTC')).toMatchObject({ required: true, lost: false });
    expect(transactionRecord(account, tx({ side: 'credit', attachment_required: null }), 0, 'UTC')).toMatchObject({ required: false });
    expect(transactionRecord(account, tx({ attachment_required: false }), 0, 'UTC')).toMatchObject({ required: false });
  });

  it('makes no record of data it cannot read, rather than failing the account', () => {
    expect(transactionRecord(account, tx({ emitted_at: '2026-03-01T10:00:00' }), 0, 'UTC')).toBeNull();
    expect(transactionRecord(account, tx({ amount: 1.2345e17 }), 0, 'UTC')).toBeNull();
  });
});
