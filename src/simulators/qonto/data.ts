/**
 * In-memory state of the Qonto simulator: one organization with its bank accounts, transactions,
 * attachments and memberships. Tests and the demo seeding mutate it directly; the HTTP server
 * (server.ts) only reads it. Timestamps are ISO-8601 strings with milliseconds, as Qonto sends them;
 * "now" comes from the injected clock so tests can move time.
 */
import { randomBytes, randomUUID } from 'node:crypto';

export type TransactionStatus = 'completed' | 'pending' | 'declined';
export type Side = 'credit' | 'debit';

export interface SimOrganization {
  id: string;
  slug: string;
  name: string;
  legalName: string;
  legalCountry: string;
  legalNumber: string;
  locale: string;
}

export interface SimBankAccount {
  id: string;
  slug: string;
  name: string;
  iban: string;
  bic: string;
  currency: string;
  status: 'active' | 'closed';
  main: boolean;
  /** Balance before any simulated transaction; the served balance adds completed ones. */
  openingBalance: number;
  updatedAt: string;
}

export interface SimTransaction {
  id: string;
  /** Human-readable id, e.g. `acme-sas-4242-transaction-17`. */
  transactionId: string;
  bankAccountId: string;
  /** Unsigned, in `currency`; `side` gives the direction. */
  amount: number;
  currency: string;
  side: Side;
  status: TransactionStatus;
  operationType: string;
  label: string;
  counterpartyName: string | null;
  note: string | null;
  reference: string | null;
  category: string;
  vatRate: number | null;
  cardLastDigits: string | null;
  emittedAt: string;
  settledAt: string | null;
  createdAt: string;
  updatedAt: string;
  attachmentIds: string[];
  /** Qonto's `attachment_required`: whether the organization expects a receipt for it. */
  attachmentRequired: boolean;
  /** Qonto's `attachment_lost`: a member declared the receipt lost. */
  attachmentLost: boolean;
}

export interface SimAttachment {
  id: string;
  transactionId: string;
  fileName: string;
  contentType: string;
  /** Bytes; the body is generated from (id, size), see content.ts. */
  size: number;
  createdAt: string;
  /** Its PAdES-signed probative copy (docs/probative-copies.md). */
  probative: SimProbative;
  /** Epoch ms from which the API shows it: Qonto processes an upload in the background, so an
   * event can name an attachment that listings and GETs do not return yet. */
  visibleAt: number;
}

/** Where an attachment's probative copy stands: `available` with its own bytes (generated from
 * (probativeContentKey(id), size), see content.ts), not made yet (`pending`), or none (`unavailable`). */
export type SimProbative = { status: 'available'; size: number } | { status: 'pending' } | { status: 'unavailable' };

/** The content key of a probative copy's bytes: distinct from the original's. */
export const probativeContentKey = (attachmentId: string): string => `${attachmentId}#probative`;

export interface SimMembership {
  id: string;
  firstName: string;
  lastName: string;
  email: string;
  /** `null` while the invitation is not accepted (status `invitable`). */
  role: string | null;
  status: string;
  teamId: string | null;
}

export type NewBankAccount = Partial<Omit<SimBankAccount, 'updatedAt'>>;

export interface NewTransaction {
  bankAccountId: string;
  amount: number;
  label: string;
  side?: Side;
  /** Default `completed`. */
  status?: TransactionStatus;
  /** Default now(). */
  emittedAt?: string;
  /** Default: `emittedAt` when completed, null otherwise. */
  settledAt?: string | null;
  /** When the transaction appeared in Qonto; default now(). Seeding history passes the past. */
  createdAt?: string;
  /** Default `createdAt`. */
  updatedAt?: string;
  id?: string;
  currency?: string;
  operationType?: string;
  counterpartyName?: string | null;
  note?: string | null;
  reference?: string | null;
  category?: string;
  vatRate?: number | null;
  cardLastDigits?: string | null;
  /** Default: true for a debit, false for a credit. */
  attachmentRequired?: boolean;
  /** Default false. */
  attachmentLost?: boolean;
}

export interface NewReceipt {
  fileName: string;
  contentType: string;
  size: number;
  /** When the receipt was attached; default now(). */
  createdAt?: string;
  id?: string;
  /** Default `{ status: 'unavailable' }`. */
  probative?: SimProbative;
  /** How long after now() the API still hides it (Qonto's background processing); default 0. */
  visibleAfterMs?: number;
}

/** What changed, for the webhook dispatcher (webhooks.ts): a transaction as it is after the change,
 * or a membership whose consent to an OAuth app was withdrawn in Qonto. */
export type SimChange =
  | { type: 'transaction'; event: 'created' | 'updated'; tx: SimTransaction }
  | { type: 'consent-revocation'; membershipId: string };

/** A webhook subscription as Qonto keeps it (docs/webhooks.md). */
export interface SimWebhookSubscription {
  id: string;
  /** The membership whose OAuth token created it; null when an API key (or the operator) did. */
  membershipId: string | null;
  /** The OAuth app that created it, named in consent-revocation events; null for API keys. */
  clientId: string | null;
  callbackUrl: string;
  types: string[];
  description: string | null;
  secret: string;
  createdAt: string;
  updatedAt: string;
}

export type NewWebhookSubscription = Pick<SimWebhookSubscription, 'callbackUrl' | 'types'> &
  Partial<Omit<SimWebhookSubscription, 'callbackUrl' | 'types' | 'createdAt' | 'updatedAt'>>;

export type NewMembership = Partial<SimMembership> & Pick<SimMembership, 'firstName' | 'lastName'>;

/** Qonto's app allows at most five receipts per transaction (docs/contracts-qonto.md, Attachments). */
export const MAX_RECEIPTS_PER_TRANSACTION = 5;

const iso = (ms: number): string => new Date(ms).toISOString();

export class QontoData {
  readonly organization: SimOrganization;
  private readonly accounts = new Map<string, SimBankAccount>();
  private readonly txs = new Map<string, SimTransaction>();
  private readonly files = new Map<string, SimAttachment>();
  private readonly members = new Map<string, SimMembership>();
  private readonly subscriptions = new Map<string, SimWebhookSubscription>();
  private readonly listeners: ((change: SimChange) => void)[] = [];
  private txCounter = 0;

  constructor(
    readonly now: () => number = Date.now,
    organization: Partial<SimOrganization> = {},
  ) {
    this.organization = {
      id: randomUUID(),
      slug: 'acme-sas-4242',
      name: 'Acme SAS',
      legalName: 'ACME SAS',
      legalCountry: 'FR',
      legalNumber: '123456789',
      locale: 'fr',
      ...organization,
    };
  }

  /** Calls `listener` after every change a webhook reports; returns a function that removes it. */
  onChange(listener: (change: SimChange) => void): () => void {
    this.listeners.push(listener);
    return () => {
      const at = this.listeners.indexOf(listener);
      if (at >= 0) this.listeners.splice(at, 1);
    };
  }

  private emit(change: SimChange): void {
    for (const listener of [...this.listeners]) listener(change);
  }

  private changed(tx: SimTransaction, event: 'created' | 'updated' = 'updated'): void {
    this.emit({ type: 'transaction', event, tx });
  }

  /** The membership withdrew its consent in Qonto (the server also invalidates its tokens). */
  revokeConsent(membershipId: string): void {
    this.emit({ type: 'consent-revocation', membershipId });
  }

  addBankAccount(input: NewBankAccount = {}): SimBankAccount {
    const n = this.accounts.size + 1;
    const account: SimBankAccount = {
      id: randomUUID(),
      slug: `${this.organization.slug}-bank-account-${n}`,
      name: n === 1 ? 'Compte principal' : `Compte ${n}`,
      iban: frenchIban(n),
      bic: 'QNTOFRP1',
      currency: 'EUR',
      status: 'active',
      main: this.accounts.size === 0,
      openingBalance: 10_000,
      ...input,
      updatedAt: iso(this.now()),
    };
    this.accounts.set(account.id, account);
    return account;
  }

  bankAccounts(): SimBankAccount[] {
    return [...this.accounts.values()];
  }

  bankAccount(id: string): SimBankAccount | undefined {
    return this.accounts.get(id);
  }

  bankAccountByIban(iban: string): SimBankAccount | undefined {
    const wanted = iban.replace(/\s+/g, '').toUpperCase();
    return this.bankAccounts().find((a) => a.iban === wanted);
  }

  addTransaction(input: NewTransaction): SimTransaction {
    if (!this.accounts.has(input.bankAccountId)) throw new Error(`unknown bank account ${input.bankAccountId}`);
    const status = input.status ?? 'completed';
    const emittedAt = input.emittedAt ?? iso(this.now());
    const createdAt = input.createdAt ?? iso(this.now());
    this.txCounter += 1;
    const tx: SimTransaction = {
      id: input.id ?? randomUUID(),
      transactionId: `${this.organization.slug}-transaction-${this.txCounter}`,
      bankAccountId: input.bankAccountId,
      amount: input.amount,
      currency: input.currency ?? 'EUR',
      side: input.side ?? 'debit',
      status,
      operationType: input.operationType ?? 'card',
      label: input.label,
      counterpartyName: input.counterpartyName === undefined ? input.label : input.counterpartyName,
      note: input.note ?? null,
      reference: input.reference ?? null,
      category: input.category ?? 'other_expense',
      vatRate: input.vatRate ?? null,
      cardLastDigits: input.cardLastDigits ?? null,
      emittedAt,
      settledAt: input.settledAt !== undefined ? input.settledAt : status === 'completed' ? emittedAt : null,
      createdAt,
      updatedAt: input.updatedAt ?? createdAt,
      attachmentIds: [],
      attachmentRequired: input.attachmentRequired ?? (input.side ?? 'debit') === 'debit',
      attachmentLost: input.attachmentLost ?? false,
    };
    this.txs.set(tx.id, tx);
    this.changed(tx, 'created');
    return tx;
  }

  transaction(id: string): SimTransaction | undefined {
    return this.txs.get(id);
  }

  transactionsOf(bankAccountId: string): SimTransaction[] {
    return [...this.txs.values()].filter((t) => t.bankAccountId === bankAccountId);
  }

  /** Attaches a receipt; like Qonto, this bumps the transaction's `updated_at` (to the attach time). */
  attachReceipt(transactionId: string, input: NewReceipt): SimAttachment {
    const tx = this.requireTransaction(transactionId);
    if (tx.attachmentIds.length >= MAX_RECEIPTS_PER_TRANSACTION) {
      throw new Error(`transaction ${transactionId} already has ${MAX_RECEIPTS_PER_TRANSACTION} receipts`);
    }
    if (!Number.isSafeInteger(input.size) || input.size < 0) throw new Error(`invalid receipt size ${input.size}`);
    const createdAt = input.createdAt ?? iso(this.now());
    const attachment: SimAttachment = {
      id: input.id ?? randomUUID(),
      transactionId,
      fileName: input.fileName,
      contentType: input.contentType,
      size: input.size,
      createdAt,
      probative: checkedProbative(input.probative ?? { status: 'unavailable' }),
      // Without a delay it is visible whatever a test's clock does later.
      visibleAt: input.visibleAfterMs ? this.now() + input.visibleAfterMs : Number.NEGATIVE_INFINITY,
    };
    this.files.set(attachment.id, attachment);
    tx.attachmentIds.push(attachment.id);
    if (Date.parse(createdAt) > Date.parse(tx.updatedAt)) tx.updatedAt = createdAt;
    this.changed(tx);
    return attachment;
  }

  attachment(id: string): SimAttachment | undefined {
    return this.files.get(id);
  }

  /** Sets where the attachment's probative copy stands (Qonto makes it some time after the upload).
   * Leaves the transaction's `updated_at` alone: nothing says Qonto bumps it, so a client must look
   * at pending copies again by itself. */
  setProbative(attachmentId: string, probative: SimProbative): SimAttachment {
    const attachment = this.files.get(attachmentId);
    if (!attachment) throw new Error(`unknown attachment ${attachmentId}`);
    attachment.probative = checkedProbative(probative);
    return attachment;
  }

  attachmentsOf(transactionId: string): SimAttachment[] {
    return this.requireTransaction(transactionId).attachmentIds.map((id) => this.files.get(id)!);
  }

  /** Whether the API shows the attachment yet (see `visibleAt`). */
  isVisible(attachment: SimAttachment): boolean {
    return this.now() >= attachment.visibleAt;
  }

  /** The attachment ids the API returns for the transaction now (the processed ones). */
  visibleAttachmentIds(tx: SimTransaction): string[] {
    return tx.attachmentIds.filter((id) => this.isVisible(this.files.get(id)!));
  }

  /** A member leaves the organization: tokens issued to them no longer name an organization. */
  removeMembership(membershipId: string): void {
    if (!this.members.delete(membershipId)) throw new Error(`unknown membership ${membershipId}`);
  }

  /** Deletes a receipt in Qonto (its download URL stops working); bumps `updated_at` to now(). */
  removeAttachment(attachmentId: string): void {
    const attachment = this.files.get(attachmentId);
    if (!attachment) throw new Error(`unknown attachment ${attachmentId}`);
    this.files.delete(attachmentId);
    const tx = this.requireTransaction(attachment.transactionId);
    tx.attachmentIds = tx.attachmentIds.filter((id) => id !== attachmentId);
    tx.updatedAt = iso(this.now());
    this.changed(tx);
  }

  /** Moves a transaction to another status (a pending one settles, say); bumps `updated_at`. */
  setStatus(transactionId: string, status: TransactionStatus): SimTransaction {
    const tx = this.requireTransaction(transactionId);
    tx.status = status;
    tx.settledAt = status === 'completed' ? (tx.settledAt ?? iso(this.now())) : null;
    tx.updatedAt = iso(this.now());
    this.changed(tx);
    return tx;
  }

  /** Sets whether a receipt is expected for the transaction (Qonto's `attachment_required`); bumps `updated_at`. */
  setAttachmentRequired(transactionId: string, required: boolean): SimTransaction {
    const tx = this.requireTransaction(transactionId);
    tx.attachmentRequired = required;
    tx.updatedAt = iso(this.now());
    this.changed(tx);
    return tx;
  }

  /** Declares the receipt lost, or takes that back (Qonto's `attachment_lost`); bumps `updated_at`. */
  setAttachmentLost(transactionId: string, lost: boolean): SimTransaction {
    const tx = this.requireTransaction(transactionId);
    tx.attachmentLost = lost;
    tx.updatedAt = iso(this.now());
    this.changed(tx);
    return tx;
  }

  /** Sets `updated_at` directly, e.g. to place a change exactly on a sync cursor boundary. */
  setUpdatedAt(transactionId: string, updatedAt: string): void {
    this.requireTransaction(transactionId).updatedAt = updatedAt;
  }

  addMembership(input: NewMembership): SimMembership {
    const member: SimMembership = {
      id: randomUUID(),
      email: `${input.firstName}.${input.lastName}@example.com`.toLowerCase(),
      role: 'employee',
      status: 'active',
      teamId: null,
      ...input,
    };
    this.members.set(member.id, member);
    return member;
  }

  /** Registers a subscription directly, as an operator does in Qonto's web app (API-key mode). */
  addWebhookSubscription(input: NewWebhookSubscription): SimWebhookSubscription {
    const at = iso(this.now());
    const subscription: SimWebhookSubscription = {
      id: randomUUID(),
      membershipId: null,
      clientId: null,
      description: null,
      secret: randomBytes(32).toString('hex'),
      ...input,
      types: [...input.types],
      createdAt: at,
      updatedAt: at,
    };
    this.subscriptions.set(subscription.id, subscription);
    return subscription;
  }

  webhookSubscriptions(): SimWebhookSubscription[] {
    return [...this.subscriptions.values()];
  }

  webhookSubscription(id: string): SimWebhookSubscription | undefined {
    return this.subscriptions.get(id);
  }

  updateWebhookSubscription(id: string, changes: Partial<Pick<SimWebhookSubscription, 'callbackUrl' | 'types' | 'description' | 'secret'>>): SimWebhookSubscription {
    const subscription = this.subscriptions.get(id);
    if (!subscription) throw new Error(`unknown webhook subscription ${id}`);
    Object.assign(subscription, changes, { updatedAt: iso(this.now()) });
    return subscription;
  }

  deleteWebhookSubscription(id: string): boolean {
    return this.subscriptions.delete(id);
  }

  memberships(): SimMembership[] {
    return [...this.members.values()];
  }

  membership(id: string): SimMembership | undefined {
    return this.members.get(id);
  }

  /** Opening balance plus completed movements; pending debits also reduce the authorized balance. */
  balances(bankAccountId: string): { balance: number; authorized: number } {
    const account = this.accounts.get(bankAccountId);
    let balance = account?.openingBalance ?? 0;
    let pendingDebits = 0;
    for (const t of this.transactionsOf(bankAccountId)) {
      if (t.status === 'completed') balance += t.side === 'credit' ? t.amount : -t.amount;
      else if (t.status === 'pending' && t.side === 'debit') pendingDebits += t.amount;
    }
    const round = (x: number): number => Math.round(x * 100) / 100;
    return { balance: round(balance), authorized: round(balance - pendingDebits) };
  }

  private requireTransaction(id: string): SimTransaction {
    const tx = this.txs.get(id);
    if (!tx) throw new Error(`unknown transaction ${id}`);
    return tx;
  }
}

function checkedProbative(probative: SimProbative): SimProbative {
  if (probative.status === 'available' && (!Number.isSafeInteger(probative.size) || probative.size < 0)) {
    throw new Error(`invalid probative copy size ${probative.size}`);
  }
  return { ...probative };
}

/** A French IBAN with valid ISO 13616 check digits, distinct per `n`. */
export function frenchIban(n: number): string {
  const bban = `16958000${String(n).padStart(13, '0')}${String((n * 7) % 97).padStart(2, '0')}`;
  // Letters become numbers (F=15, R=27); the country code and "00" move to the end.
  const numeric = BigInt(`${bban}152700`);
  const check = 98n - (numeric % 97n);
  return `FR${String(check).padStart(2, '0')}${bban}`;
}
