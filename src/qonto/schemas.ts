/**
 * Zod schemas for the Qonto Business API answers we read. Tolerant on purpose (docs/contracts-qonto.md, Versioning):
 * unknown fields pass through, enum-like fields accept any string, nullable fields accept null or
 * absence, and the types Qonto documents inconsistently (amounts, file sizes) are normalised.
 */
import { z } from 'zod';

/** Amounts come as numbers (`52.4`) in most examples but as strings in others (`"50.00"`, `"10,00"`). */
export const AmountSchema = z.union([
  z.number(),
  z
    .string()
    .trim()
    .regex(/^-?\d+(?:[.,]\d+)?$/, 'not a decimal amount')
    .transform((s) => Number(s.replace(',', '.'))),
]);

/** `file_size` is documented as a string of bytes (`"666"`); accept a plain integer too. */
const ByteCountSchema = z.union([
  z.number().int().nonnegative(),
  z
    .string()
    .trim()
    .regex(/^\d+$/, 'not a byte count')
    .transform((s) => Number(s)),
]);

/** Fields Qonto may send as null or leave out; both read as `undefined`. */
const optionalString = z
  .string()
  .nullish()
  .transform((v) => v ?? undefined)
  .optional();

export const BankAccountSchema = z.looseObject({
  id: z.string(),
  name: z
    .string()
    .nullish()
    .transform((v) => v ?? ''),
  iban: z.string(),
  currency: optionalString,
  status: optionalString,
  main: z
    .boolean()
    .nullish()
    .transform((v) => v ?? undefined)
    .optional(),
});
export type BankAccount = z.infer<typeof BankAccountSchema>;

export const OrganizationSchema = z.looseObject({
  id: z.string(),
  slug: z.string(),
  name: optionalString,
  legal_name: optionalString,
  legal_country: optionalString,
  bank_accounts: z
    .array(BankAccountSchema)
    .nullish()
    .transform((v) => v ?? []),
});
export type Organization = z.infer<typeof OrganizationSchema>;

/** The PAdES-signed copy Qonto makes of many attachments (docs/probative-copies.md). Only `status` is
 * always there; any status string passes (src/sync/probative.ts reads unknown ones as not yet
 * available), and a malformed object reads as absent rather than failing the receipt itself. */
export const ProbativeAttachmentSchema = z.looseObject({
  status: z.string(),
  file_name: optionalString,
  file_content_type: optionalString,
  file_size: ByteCountSchema.nullish().transform((v) => v ?? undefined).optional(),
  url: optionalString,
});
export type ProbativeAttachment = z.infer<typeof ProbativeAttachmentSchema>;

export const AttachmentSchema = z.looseObject({
  id: z.string(),
  created_at: optionalString,
  file_name: z.string(),
  file_size: ByteCountSchema,
  file_content_type: z.string(),
  /** Pre-signed download URL, valid 30 minutes: fetch the attachment again right before use. */
  url: z.string(),
  probative_attachment: ProbativeAttachmentSchema.nullish()
    .catch(undefined)
    .transform((v) => v ?? undefined)
    .optional(),
});
export type Attachment = z.infer<typeof AttachmentSchema>;

export type TransactionStatus = 'completed' | 'pending' | 'declined';

export const TransactionSchema = z.looseObject({
  id: z.string(),
  transaction_id: optionalString,
  amount: AmountSchema,
  currency: z.string(),
  side: z.union([z.enum(['credit', 'debit']), z.string()]),
  status: z.union([z.enum(['completed', 'pending', 'declined']), z.string()]),
  label: optionalString,
  clean_counterparty_name: optionalString,
  emitted_at: z.string(),
  settled_at: optionalString,
  updated_at: z.string(),
  bank_account_id: optionalString,
  operation_type: optionalString,
  attachment_ids: z
    .array(z.string())
    .nullish()
    .transform((v) => v ?? []),
  /** Whether the organization expects a receipt for it (absent: read as "a debit needs one"). */
  attachment_required: z
    .boolean()
    .nullish()
    .transform((v) => v ?? undefined)
    .optional(),
  /** A member declared its receipt lost. */
  attachment_lost: z
    .boolean()
    .nullish()
    .transform((v) => v ?? undefined)
    .optional(),
  /** Present only when requested with `includes[]=attachments`. */
  attachments: z
    .array(AttachmentSchema)
    .nullish()
    .transform((v) => v ?? undefined)
    .optional(),
});
export type Transaction = z.infer<typeof TransactionSchema>;

export const MembershipSchema = z.looseObject({
  id: z.string(),
  /** `null` for members who have not accepted their invitation yet. */
  role: z
    .string()
    .nullish()
    .transform((v) => v ?? null),
  first_name: optionalString,
  last_name: optionalString,
  email: optionalString,
  status: optionalString,
  /** The member's language (e.g. `de`): the language of their alert mails unless the page gave one. */
  locale: optionalString,
});
export type Membership = z.infer<typeof MembershipSchema>;

/** Pagination block (docs/contracts-qonto.md, Pagination); some endpoints leave `next_page` out instead of sending null. */
export const PageMetaSchema = z.looseObject({
  current_page: z.number().int().nullish(),
  next_page: z
    .number()
    .int()
    .nullish()
    .transform((v) => v ?? null),
  total_pages: z.number().int().nullish(),
  total_count: z.number().int().nullish(),
});

export const OrganizationResponseSchema = z.object({ organization: OrganizationSchema });
export const TransactionsPageSchema = z.object({
  transactions: z.array(TransactionSchema),
  meta: PageMetaSchema.nullish(),
});
export const AttachmentResponseSchema = z.object({ attachment: AttachmentSchema });
export const MembershipResponseSchema = z.object({ membership: MembershipSchema });
export const MembershipsPageSchema = z.object({
  memberships: z.array(MembershipSchema),
  meta: PageMetaSchema.nullish(),
});

/** The events an integration subscribes to (docs/webhooks.md). */
export type WebhookType = 'v1/transactions' | 'v1/consent-revocations';

/** A webhook subscription as Qonto answers it. Its `secret` is left out: it is ours, kept sealed. */
export const WebhookSubscriptionSchema = z
  .looseObject({
    id: z.string(),
    organization_id: optionalString,
    membership_id: optionalString,
    callback_url: z.string(),
    types: z
      .array(z.string())
      .nullish()
      .transform((v) => v ?? []),
    description: optionalString,
    created_at: optionalString,
    updated_at: optionalString,
  })
  .transform(({ secret: _secret, ...rest }) => rest);
export type WebhookSubscription = z.output<typeof WebhookSubscriptionSchema>;

/** Qonto's examples show the subscription itself; wrapped in `webhook_subscription` is read as well. */
export const WebhookSubscriptionResponseSchema = z.union([
  z.object({ webhook_subscription: WebhookSubscriptionSchema }).transform((r) => r.webhook_subscription),
  WebhookSubscriptionSchema,
]);
/** A page of `GET /v2/webhook_subscriptions`. Qonto documents no example: the list is read under
 * `webhook_subscriptions` or `subscriptions` (with the usual `meta`), or as a bare array. */
export const WebhookSubscriptionsPageSchema = z.union([
  z
    .object({ webhook_subscriptions: z.array(WebhookSubscriptionSchema), meta: PageMetaSchema.nullish() })
    .transform((r) => ({ subscriptions: r.webhook_subscriptions, nextPage: r.meta?.next_page ?? null })),
  z
    .object({ subscriptions: z.array(WebhookSubscriptionSchema), meta: PageMetaSchema.nullish() })
    .transform((r) => ({ subscriptions: r.subscriptions, nextPage: r.meta?.next_page ?? null })),
  z.array(WebhookSubscriptionSchema).transform((subscriptions) => ({ subscriptions, nextPage: null })),
]);

/** Qonto's error body (docs/contracts-qonto.md, Errors); parsed leniently so a non-conforming body never hides the status. */
export const ErrorBodySchema = z.looseObject({
  errors: z
    .array(
      z.looseObject({
        code: optionalString,
        detail: optionalString,
        source: z
          .looseObject({ parameter: optionalString, pointer: optionalString })
          .nullish(),
      }),
    )
    .nullish(),
  trace_id: optionalString,
});
export type ErrorBody = z.infer<typeof ErrorBodySchema>;
