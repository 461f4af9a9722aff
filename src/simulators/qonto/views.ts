/**
 * JSON shapes the simulator serves, field names and types as in docs/contracts-qonto.md (accounts, transactions,
 * attachments, memberships): snake_case, `file_size` as a string, amounts as numbers unless the simulator is told
 * to use the documented string variants.
 */
import type { QontoData, SimAttachment, SimBankAccount, SimMembership, SimTransaction } from './data.js';
import type { Include } from './transaction-query.js';

/** `number` (most examples), `string` (`"50.00"`, webhook examples) or `decimal-comma` (`"10,00"`). */
export type AmountFormat = 'number' | 'string' | 'decimal-comma';

export interface ViewContext {
  data: QontoData;
  amountFormat: AmountFormat;
  /** Signed download URL of an attachment (or of its probative copy), valid from now. */
  downloadUrl: (attachmentId: string, kind?: 'original' | 'probative') => string;
}

const cents = (amount: number): number => Math.round(amount * 100);

function amount(value: number, format: AmountFormat): number | string {
  if (format === 'number') return value;
  const fixed = value.toFixed(2);
  return format === 'string' ? fixed : fixed.replace('.', ',');
}

export function bankAccountView(ctx: ViewContext, a: SimBankAccount): Record<string, unknown> {
  const { balance, authorized } = ctx.data.balances(a.id);
  return {
    id: a.id,
    slug: a.slug,
    iban: a.iban,
    bic: a.bic,
    currency: a.currency,
    balance,
    balance_cents: cents(balance),
    authorized_balance: authorized,
    authorized_balance_cents: cents(authorized),
    name: a.name,
    updated_at: a.updatedAt,
    status: a.status,
    main: a.main,
    organization_id: ctx.data.organization.id,
    is_external_account: false,
    account_number: null,
  };
}

export function organizationView(ctx: ViewContext): Record<string, unknown> {
  const o = ctx.data.organization;
  return {
    id: o.id,
    name: o.name,
    slug: o.slug,
    legal_name: o.legalName,
    locale: o.locale,
    legal_share_capital: 10_000,
    legal_country: o.legalCountry,
    legal_registration_date: '2020-01-15',
    legal_form: 'SAS',
    legal_address: '18 rue de Navarin, 75009 Paris',
    legal_sector: '6201Z',
    contract_signed_at: '2020-01-20 10:00:00.000000',
    legal_number: o.legalNumber,
    bank_accounts: ctx.data.bankAccounts().map((a) => bankAccountView(ctx, a)),
  };
}

export function attachmentView(ctx: ViewContext, a: SimAttachment): Record<string, unknown> {
  return {
    id: a.id,
    created_at: a.createdAt,
    file_name: a.fileName,
    file_size: String(a.size),
    file_content_type: a.contentType,
    url: ctx.downloadUrl(a.id),
    probative_attachment: probativeView(ctx, a),
  };
}

/** Qonto's `probative_attachment`: a PDF of its own, with its own pre-signed URL, once available. */
function probativeView(ctx: ViewContext, a: SimAttachment): Record<string, unknown> {
  if (a.probative.status !== 'available') return { status: a.probative.status };
  return {
    status: 'available',
    file_name: `${a.fileName.replace(/\.[A-Za-z0-9]+$/, '')}.pdf`,
    file_size: String(a.probative.size),
    file_content_type: 'application/pdf',
    url: ctx.downloadUrl(a.id, 'probative'),
  };
}

export function transactionView(ctx: ViewContext, t: SimTransaction, includes: Set<Include>): Record<string, unknown> {
  const vatAmount = t.vatRate === null ? null : Math.round((t.amount - t.amount / (1 + t.vatRate / 100)) * 100) / 100;
  const view: Record<string, unknown> = {
    id: t.id,
    transaction_id: t.transactionId,
    amount: amount(t.amount, ctx.amountFormat),
    amount_cents: cents(t.amount),
    settled_balance: null,
    settled_balance_cents: null,
    attachment_ids: ctx.data.visibleAttachmentIds(t),
    local_amount: amount(t.amount, ctx.amountFormat),
    local_amount_cents: cents(t.amount),
    side: t.side,
    operation_type: t.operationType,
    currency: t.currency,
    local_currency: t.currency,
    label: t.label,
    clean_counterparty_name: t.counterpartyName,
    settled_at: t.settledAt,
    emitted_at: t.emittedAt,
    created_at: t.createdAt,
    updated_at: t.updatedAt,
    status: t.status,
    note: t.note,
    reference: t.reference,
    vat_amount: vatAmount,
    vat_amount_cents: vatAmount === null ? null : cents(vatAmount),
    vat_rate: t.vatRate,
    initiator_id: null,
    label_ids: [],
    attachment_lost: t.attachmentLost,
    attachment_required: t.attachmentRequired,
    card_last_digits: t.cardLastDigits,
    category: t.category,
    subject_type: t.operationType === 'card' ? 'Card' : 'Transfer',
    bank_account_id: t.bankAccountId,
    is_external_transaction: false,
  };
  if (includes.has('attachments')) view.attachments = ctx.data.attachmentsOf(t.id).filter((a) => ctx.data.isVisible(a)).map((a) => attachmentView(ctx, a));
  if (includes.has('labels')) view.labels = [];
  if (includes.has('vat_details')) view.vat_details = { items: [] };
  return view;
}

export function membershipView(m: SimMembership): Record<string, unknown> {
  return {
    id: m.id,
    first_name: m.firstName,
    last_name: m.lastName,
    email: m.email,
    role: m.role,
    status: m.status,
    team_id: m.teamId,
    residence_country: 'FR',
    nationality: 'FR',
    ubo: m.role === 'owner',
  };
}
