/**
 * Page-number pagination as Qonto does it (docs/contracts-qonto.md, Transactions): `page` (older clients send
 * `current_page`), `per_page` 1..100, and a `meta` block whose `next_page`/`prev_page` are null at
 * the ends (Kaminari semantics: no previous page for the first page or past the last one).
 */
import type { QontoErrorItem } from './respond.js';

export interface Paging {
  page: number;
  perPage: number;
}

export interface PageMeta {
  current_page: number;
  next_page: number | null;
  prev_page: number | null;
  total_pages: number;
  total_count: number;
  per_page: number;
}

const MAX_PER_PAGE = 100;

function intParam(q: URLSearchParams, names: string[], min: number, max: number): number | 'invalid' | undefined {
  const name = names.find((n) => q.has(n));
  if (name === undefined) return undefined;
  const raw = q.get(name)!.trim();
  if (!/^\d+$/.test(raw)) return 'invalid';
  const value = Number(raw);
  return value >= min && value <= max ? value : 'invalid';
}

export function parsePaging(q: URLSearchParams, errors: QontoErrorItem[]): Paging {
  const page = intParam(q, ['page', 'current_page'], 1, Number.MAX_SAFE_INTEGER);
  const perPage = intParam(q, ['per_page'], 1, MAX_PER_PAGE);
  if (page === 'invalid') {
    errors.push({ code: 'invalid', detail: 'page must be an integer greater than or equal to 1', source: { parameter: 'page' } });
  }
  if (perPage === 'invalid') {
    errors.push({
      code: 'invalid',
      detail: `per_page must be an integer between 1 and ${MAX_PER_PAGE}`,
      source: { parameter: 'per_page' },
    });
  }
  return {
    page: typeof page === 'number' ? page : 1,
    perPage: typeof perPage === 'number' ? perPage : MAX_PER_PAGE,
  };
}

export function paginate<T>(items: T[], { page, perPage }: Paging): { items: T[]; meta: PageMeta } {
  const totalPages = Math.ceil(items.length / perPage);
  return {
    items: items.slice((page - 1) * perPage, page * perPage),
    meta: {
      current_page: page,
      next_page: page < totalPages ? page + 1 : null,
      prev_page: page > 1 && page <= totalPages ? page - 1 : null,
      total_pages: totalPages,
      total_count: items.length,
      per_page: perPage,
    },
  };
}
