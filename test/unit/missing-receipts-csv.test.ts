import { describe, expect, it } from 'vitest';
import { csvField, missingReceiptJson, missingReceiptsCsv } from '../../src/api/missing-receipts.js';
import type { MissingReceipt } from '../../src/store/types.js';

const m = (patch: Partial<MissingReceipt> = {}): MissingReceipt => ({
  transactionId: 'tx-1',
  date: '2026-11-03',
  amountCents: -5240,
  currency: 'EUR',
  counterparty: 'Amazon',
  account: 'Main (0107)',
  period: '2026-11',
  lost: false,
  ...patch,
});

describe('missing receipts as CSV and JSON', () => {
  it('writes the header and one CRLF line per receipt, the amount from cents exactly', () => {
    const csv = missingReceiptsCsv([m(), m({ transactionId: 'tx-2', amountCents: 5, lost: true }), m({ transactionId: 'tx-3', amountCents: -100_000_001 })]);
    expect(csv).toBe(
      [
        'transactionId,date,amount,currency,counterparty,account,period,lost',
        'tx-1,2026-11-03,-52.40,EUR,Amazon,Main (0107),2026-11,false',
        'tx-2,2026-11-03,0.05,EUR,Amazon,Main (0107),2026-11,true',
        'tx-3,2026-11-03,-1000000.01,EUR,Amazon,Main (0107),2026-11,false',
        '',
      ].join('\r\n'),
    );
    expect(missingReceiptsCsv([])).toBe('transactionId,date,amount,currency,counterparty,account,period,lost\r\n');
  });

  it('quotes commas, quotes, line breaks and edge spaces, and defuses formulas in text a person typed', () => {
    expect(csvField('Tax, "office"')).toBe('"Tax, ""office"""');
    expect(csvField('two\nlines')).toBe('"two\nlines"');
    expect(csvField(' padded')).toBe('" padded"');
    expect(csvField('=HYPERLINK("x")', true)).toBe(`"'=HYPERLINK(""x"")"`);
    expect(csvField('@SUM(A1)', true)).toBe("'@SUM(A1)");
    expect(csvField('-minus', true)).toBe("'-minus");
    expect(csvField('-minus')).toBe('-minus');
    const line = missingReceiptsCsv([m({ counterparty: '+33 1 23 45', account: 'Taxes, "Reserve" (9876)' })]).split('\r\n')[1];
    expect(line).toBe(`tx-1,2026-11-03,-52.40,EUR,'+33 1 23 45,"Taxes, ""Reserve"" (9876)",2026-11,false`);
  });

  it('answers JSON with the amount in currency units', () => {
    expect(missingReceiptJson(m({ lost: true }))).toEqual({
      transactionId: 'tx-1',
      date: '2026-11-03',
      amount: -52.4,
      currency: 'EUR',
      counterparty: 'Amazon',
      account: 'Main (0107)',
      period: '2026-11',
      lost: true,
    });
  });
});
