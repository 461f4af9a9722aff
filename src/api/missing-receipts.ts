import { createRoute, z } from '@hono/zod-openapi';
import type { MissingReceipt } from '../store/types.js';
import { decimal } from './decimal.js';
import { CREDENTIALS, oneIntegration } from './integration-routes.js';
import { errorResponse } from './response-schemas.js';
import { idParam } from './schemas.js';

/** `GET /api/integrations/:id/missing-receipts`: the completed transactions without the receipt they
 * need (docs/missing-receipts.md), as JSON or CSV. */

export const missingReceiptsQuery = z.object({
  format: z.enum(['json', 'csv']).default('json').openapi({ description: 'json (default) or csv (a download, same columns)' }),
});

const missingReceipt = z
  .object({
    transactionId: z.string().openapi({ description: "Qonto's transaction id" }),
    date: z.string().openapi({ format: 'date', description: "Day of emitted_at in the integration's time zone" }),
    amount: z.number().openapi({ description: 'Signed: a debit is negative' }),
    currency: z.string(),
    counterparty: z.string(),
    account: z.string().openapi({ description: 'The business account, as its OneDrive folder is named' }),
    period: z.string().openapi({ description: 'YYYY-MM, as the period folder' }),
    lost: z.boolean().openapi({ description: 'The receipt was declared lost in Qonto' }),
  })
  .openapi('MissingReceipt');

export const missingReceiptsBody = z.object({ missing: z.array(missingReceipt) }).openapi('MissingReceipts');

export const missingReceiptsRoute = createRoute({
  tags: ['integrations'],
  security: [{ [CREDENTIALS]: [] }],
  method: 'get',
  path: '/{id}/missing-receipts',
  summary: 'Completed transactions since the start date that need a receipt and have none (or whose receipt was declared lost)',
  request: { params: idParam, query: missingReceiptsQuery },
  responses: {
    200: {
      description: 'By period, account and date; as of the last run',
      content: { 'application/json': { schema: missingReceiptsBody }, 'text/csv': { schema: z.string() } },
    },
    ...oneIntegration,
    400: errorResponse('A malformed integration id, or a format other than json or csv', ['invalid_request']),
  },
});

export const CSV_COLUMNS = ['transactionId', 'date', 'amount', 'currency', 'counterparty', 'account', 'period', 'lost'] as const;

/** The API's view of a missing receipt: the amount in currency units. */
export function missingReceiptJson(m: MissingReceipt): z.infer<typeof missingReceipt> {
  return { transactionId: m.transactionId, date: m.date, amount: m.amountCents / 100, currency: m.currency, counterparty: m.counterparty, account: m.account, period: m.period, lost: m.lost };
}

/** One RFC 4180 field. Text a person typed (counterparty, account) that a spreadsheet would run as a
 * formula (`=`, `+`, `-`, `@`, tab, CR first) gets a leading apostrophe, as OWASP advises against CSV
 * injection; the amount, written by us, stays a number. */
export function csvField(value: string, text = false): string {
  const safe = text && /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return /[",\r\n]|^\s|\s$/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

/** The CSV download: a header, then one line per missing receipt, CRLF-terminated (RFC 4180). */
export function missingReceiptsCsv(missing: readonly MissingReceipt[]): string {
  const lines = [CSV_COLUMNS.join(',')];
  for (const m of missing) {
    lines.push(
      [
        csvField(m.transactionId),
        csvField(m.date),
        decimal(m.amountCents),
        csvField(m.currency),
        csvField(m.counterparty, true),
        csvField(m.account, true),
        csvField(m.period),
        m.lost ? 'true' : 'false',
      ].join(','),
    );
  }
  return `${lines.join('\r\n')}\r\n`;
}
