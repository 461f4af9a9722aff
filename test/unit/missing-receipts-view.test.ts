import { describe, expect, it } from 'vitest';
import { MAX_LINES, MissingReceipts, missingView } from '../../src/api/pages/missing-receipts.js';
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

/** hono/jsx elements are HTML strings (or promises of them). */
const render = async (element: unknown): Promise<string> => String(await (element as Promise<string>));

describe('missing receipts on the dashboard', () => {
  const list = [
    m(),
    m({ transactionId: 'tx-2', date: '2026-11-20', counterparty: 'SNCF', lost: true }),
    m({ transactionId: 'tx-3', period: '2026-10', date: '2026-10-31', amountCents: -999 }),
    m({ transactionId: 'tx-4', account: 'Marketing (0215)', currency: 'XYZ1' }),
  ];

  it('says per account and period how many transactions still have no receipt, in English and German', () => {
    const en = missingView(list, 'en', 'i1');
    expect(en.accounts.map((a) => [a.account, a.periods.map((p) => [p.line, p.lost])])).toEqual([
      ['Main (0107)', [['2026-11: 2 transactions still without a receipt', '1 declared lost'], ['2026-10: 1 transaction still without a receipt', null]]],
      ['Marketing (0215)', [['2026-11: 1 transaction still without a receipt', null]]],
    ]);
    const de = missingView(list, 'de', 'i1');
    expect(de.accounts[0]!.periods.map((p) => [p.line, p.lost])).toEqual([
      ['2026-11: 2 Transaktionen noch ohne Beleg', '1 als verloren gemeldet'],
      ['2026-10: 1 Transaktion noch ohne Beleg', null],
    ]);
    expect(en.accounts[0]!.periods[0]!.items).toEqual([
      { date: '3 Nov 2026', counterparty: 'Amazon', amount: '-€52.40', lost: false },
      { date: '20 Nov 2026', counterparty: 'SNCF', amount: '-€52.40', lost: true },
    ]);
    expect(de.accounts[0]!.periods[1]!.items[0]).toMatchObject({ date: '31. Okt. 2026', amount: expect.stringMatching(/^-9,99\s€$/) });
    expect(en.accounts[1]!.periods[0]!.items[0]!.amount).toBe('-52.40 XYZ1');
    expect(en.csvUrl).toBe('/api/integrations/i1/missing-receipts?format=csv');
  });

  it('counts every transaction of a long period but shows only the first ones, pointing to the CSV for the rest', async () => {
    const many = Array.from({ length: MAX_LINES + 7 }, (_, n) => m({ transactionId: `tx-${n}`, date: `2026-11-${String((n % 28) + 1).padStart(2, '0')}`, lost: n === MAX_LINES + 6 }));
    const view = missingView(many, 'en', 'i1');
    const period = view.accounts[0]!.periods[0]!;
    expect([period.line, period.lost, period.items.length, period.more]).toEqual([
      `2026-11: ${MAX_LINES + 7} transactions still without a receipt`,
      '1 declared lost',
      MAX_LINES,
      '… and 7 more: the CSV lists them all.',
    ]);
    expect(missingView(many, 'de', 'i1').accounts[0]!.periods[0]!.more).toBe('… und 7 weitere: die CSV-Datei listet alle.');
    const html = await render(MissingReceipts({ id: 'i1', view }));
    expect(html).toContain(`data-count="${MAX_LINES + 7}"`);
    expect(html.match(/<tr>/g)?.length).toBe(MAX_LINES + 1);
    expect(html).toContain('… and 7 more');
    expect(missingView(list, 'en', 'i1').accounts[0]!.periods[0]!.more).toBeNull();
  });

  it('renders the lines with the transactions on demand and the CSV link, or says nothing is missing', async () => {
    const html = await render(MissingReceipts({ id: 'i1', view: missingView(list, 'en', 'i1') }));
    expect(html).toContain('<summary>2026-11: 2 transactions still without a receipt');
    expect(html).toMatch(/<details[^>]*data-missing-period="2026-10"[^>]*data-count="1"/);
    expect(html).toContain('SNCF<span class="muted"> (declared lost)</span>');
    expect(html).toContain('href="/api/integrations/i1/missing-receipts?format=csv"');
    // The period reminder's mail links here (alertLink: #missing-<id>).
    expect(html).toMatch(/<div class="missing-receipts" id="missing-i1"/);
    const none = await render(MissingReceipts({ id: 'i1', view: missingView([], 'de', 'i1') }));
    expect(none).toContain('Jede abgeschlossene Transaktion, die einen Beleg braucht, hat einen.');
    expect(none).not.toContain('<details');
  });
});
