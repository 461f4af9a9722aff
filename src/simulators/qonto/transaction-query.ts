/**
 * The query language of GET /v2/transactions (docs/contracts-qonto.md, Transactions): account selection, status filter
 * (completed only when omitted), side, operation types, date ranges, attachment presence,
 * includes, sorting and paging. Invalid values give Qonto-style errors naming the parameter.
 */
import type { QontoData, SimBankAccount, SimTransaction } from './data.js';
import { parsePaging, type Paging } from './paging.js';
import type { QontoErrorItem } from './respond.js';

export type Include = 'attachments' | 'labels' | 'vat_details';
type DateField = 'updatedAt' | 'emittedAt' | 'settledAt' | 'createdAt';

export interface TransactionFilter {
  bankAccount: SimBankAccount;
  statuses: Set<string>;
  side?: string;
  operationTypes?: Set<string>;
  ranges: { field: DateField; from?: number; to?: number }[];
  withAttachments?: boolean;
  includes: Set<Include>;
  sort: { field: DateField; descending: boolean };
  paging: Paging;
}

export type ParsedTransactionQuery =
  | { ok: true; filter: TransactionFilter }
  | { ok: false; status: number; errors: QontoErrorItem[] };

const STATUSES = ['pending', 'declined', 'completed'];
const SIDES = ['credit', 'debit'];
const INCLUDES: Include[] = ['attachments', 'labels', 'vat_details'];
const SORT_FIELDS: Record<string, DateField> = {
  settled_at: 'settledAt',
  updated_at: 'updatedAt',
  emitted_at: 'emittedAt',
  created_at: 'createdAt',
};
const RANGE_PARAMS: [string, DateField][] = [
  ['updated_at', 'updatedAt'],
  ['emitted_at', 'emittedAt'],
  ['settled_at', 'settledAt'],
  ['created_at', 'createdAt'],
];

/** Array parameters arrive as `key[]=a&key[]=b`; a bare `key=a` is read the same way. */
function listParam(q: URLSearchParams, name: string): string[] {
  return [...q.getAll(`${name}[]`), ...q.getAll(name)];
}

function notInList(parameter: string, allowed: string[]): QontoErrorItem {
  return { code: 'not_in_list', detail: `${parameter} must be one of: ${allowed.join(', ')}`, source: { parameter } };
}

export function parseIncludes(q: URLSearchParams, errors: QontoErrorItem[]): Set<Include> {
  const values = listParam(q, 'includes');
  if (values.some((v) => !INCLUDES.includes(v as Include))) errors.push(notInList('includes', INCLUDES));
  return new Set(values.filter((v): v is Include => INCLUDES.includes(v as Include)));
}

function parseDate(q: URLSearchParams, parameter: string, errors: QontoErrorItem[]): number | undefined {
  const raw = q.get(parameter);
  if (raw === null) return undefined;
  const ms = /^\d{4}-\d{2}-\d{2}/.test(raw) ? Date.parse(raw) : Number.NaN;
  if (Number.isNaN(ms)) {
    errors.push({ code: 'invalid', detail: `${parameter} must be an ISO 8601 date`, source: { parameter } });
    return undefined;
  }
  return ms;
}

/** `bank_account_id` wins over `iban`; one of them is required. */
function resolveAccount(q: URLSearchParams, data: QontoData): { account: SimBankAccount } | { status: number; error: QontoErrorItem } {
  const notFound = (parameter: string) => ({
    status: 404,
    error: { code: 'not_found', detail: 'Bank account not found', source: { parameter } },
  });
  const id = q.get('bank_account_id');
  if (id) {
    const account = data.bankAccount(id);
    return account ? { account } : notFound('bank_account_id');
  }
  const iban = q.get('iban');
  if (iban) {
    const account = data.bankAccountByIban(iban);
    return account ? { account } : notFound('iban');
  }
  return {
    status: 422,
    error: { code: 'required', detail: 'bank_account_id or iban is required', source: { parameter: 'bank_account_id' } },
  };
}

export function parseTransactionQuery(q: URLSearchParams, data: QontoData): ParsedTransactionQuery {
  const resolved = resolveAccount(q, data);
  if ('error' in resolved) return { ok: false, status: resolved.status, errors: [resolved.error] };
  const errors: QontoErrorItem[] = [];

  const statuses = listParam(q, 'status');
  if (statuses.some((s) => !STATUSES.includes(s))) errors.push(notInList('status', STATUSES));

  const side = q.get('side') ?? undefined;
  if (side !== undefined && !SIDES.includes(side)) errors.push(notInList('side', SIDES));

  const operationTypes = listParam(q, 'operation_type');

  const ranges: TransactionFilter['ranges'] = [];
  for (const [name, field] of RANGE_PARAMS) {
    const from = parseDate(q, `${name}_from`, errors);
    const to = parseDate(q, `${name}_to`, errors);
    if (from !== undefined || to !== undefined) ranges.push({ field, from, to });
  }

  const withAttachmentsRaw = q.get('with_attachments');
  if (withAttachmentsRaw !== null && !['true', 'false'].includes(withAttachmentsRaw)) {
    errors.push(notInList('with_attachments', ['true', 'false']));
  }

  const includes = parseIncludes(q, errors);

  const [sortProperty = 'settled_at', sortOrder = 'desc'] = (q.get('sort_by') ?? 'settled_at:desc').split(':');
  const sortField = SORT_FIELDS[sortProperty];
  if (!sortField || !['asc', 'desc'].includes(sortOrder)) {
    errors.push({
      code: 'invalid',
      detail: `sort_by must be <property>:<asc|desc> with property one of: ${Object.keys(SORT_FIELDS).join(', ')}`,
      source: { parameter: 'sort_by' },
    });
  }

  const paging = parsePaging(q, errors);
  if (errors.length > 0) return { ok: false, status: 422, errors };

  return {
    ok: true,
    filter: {
      bankAccount: resolved.account,
      statuses: new Set(statuses.length > 0 ? statuses : ['completed']),
      side,
      operationTypes: operationTypes.length > 0 ? new Set(operationTypes) : undefined,
      ranges,
      withAttachments: withAttachmentsRaw === null ? undefined : withAttachmentsRaw === 'true',
      includes,
      sort: { field: sortField ?? 'settledAt', descending: sortOrder === 'desc' },
      paging,
    },
  };
}

/** Matching transactions in answer order. Ranges are inclusive; a null date never matches a range. */
export function selectTransactions(data: QontoData, f: TransactionFilter): SimTransaction[] {
  const inRanges = (t: SimTransaction): boolean =>
    f.ranges.every(({ field, from, to }) => {
      const value = t[field];
      if (value === null) return false;
      const ms = Date.parse(value);
      return (from === undefined || ms >= from) && (to === undefined || ms <= to);
    });
  const matches = data
    .transactionsOf(f.bankAccount.id)
    .filter(
      (t) =>
        f.statuses.has(t.status) &&
        (f.side === undefined || t.side === f.side) &&
        (f.operationTypes === undefined || f.operationTypes.has(t.operationType)) &&
        (f.withAttachments === undefined || data.visibleAttachmentIds(t).length > 0 === f.withAttachments) &&
        inRanges(t),
    );
  // Like PostgreSQL, nulls (unsettled transactions) sort as the largest value; ties break on id so
  // pages stay stable.
  const key = (t: SimTransaction): number => {
    const value = t[f.sort.field];
    return value === null ? Number.POSITIVE_INFINITY : Date.parse(value);
  };
  const direction = f.sort.descending ? -1 : 1;
  return matches.sort((a, b) => direction * (key(a) - key(b) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)));
}
