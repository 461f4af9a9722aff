import { z } from '@hono/zod-openapi';
import type { TransactionChange } from '../../workflows/messages.js';

/**
 * What Qonto POSTs to `/webhooks/qonto` (docs/webhooks.md). Only what the receiver uses is read; other
 * fields (amounts, labels, IBANs) are accepted and dropped here, so they never reach Temporal's history.
 */
const id = z.string().min(1).max(200);

export const webhookDelivery = z
  .object({
    id: id.openapi({ description: "Qonto's event id: a retry or duplicate carries the same" }),
    subscription_id: id.nullable().optional(),
    organization_id: id,
    membership_id: id.nullable().optional(),
    type: z.string().min(1).max(100).openapi({ example: 'v1/transactions' }),
    created_at: z.string().max(100).optional(),
    data: z.record(z.string(), z.unknown()),
  })
  .openapi('WebhookDelivery', { description: 'A Qonto webhook event; `X-Qonto-Signature` signs the raw body' });

export type WebhookDelivery = z.infer<typeof webhookDelivery>;

/** `data` of a `v1/transactions` event: the transaction's id and the attachments it had. */
const transactionData = z.object({
  id,
  attachment_ids: z.array(id).max(1_000).nullable().optional(),
});

/** `data` of a `v1/consent-revocations` event: whose OAuth client lost the consent. */
const revocationData = z.object({ client_id: z.string().min(1).max(200) });

export const TRANSACTIONS = 'v1/transactions';
export const CONSENT_REVOCATIONS = 'v1/consent-revocations';

/** What a delivery asks of us, decided from its body alone. */
export type WebhookAction =
  | { kind: 'transaction'; change: TransactionChange }
  | { kind: 'revocation'; clientId: string }
  | { kind: 'ignored' };

/**
 * Parses a raw body into the delivery and its action; null when it is not JSON or not a delivery of the
 * shape its `type` promises (the caller answers 400). Types we do not subscribe to are `ignored`.
 */
export function parseDelivery(raw: Uint8Array, receivedAt: string): { delivery: WebhookDelivery; action: WebhookAction } | null {
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(raw));
  } catch {
    return null;
  }
  const parsed = webhookDelivery.safeParse(json);
  if (!parsed.success) return null;
  const delivery = parsed.data;
  if (delivery.type === TRANSACTIONS) {
    const data = transactionData.safeParse(delivery.data);
    if (!data.success) return null;
    return { delivery, action: { kind: 'transaction', change: { transactionId: data.data.id, attachmentIds: data.data.attachment_ids ?? [], receivedAt } } };
  }
  if (delivery.type === CONSENT_REVOCATIONS) {
    const data = revocationData.safeParse(delivery.data);
    if (!data.success) return null;
    return { delivery, action: { kind: 'revocation', clientId: data.data.client_id } };
  }
  return { delivery, action: { kind: 'ignored' } };
}
