import type { Hono } from 'hono';
import type { ExportLogEntry } from '../../src/api/export-log.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { QontoData } from '../../src/simulators/qonto/data.js';
import type { DemoSummary } from '../../src/simulators/qonto/demo.js';
import { accountFolderName } from '../../src/sync/naming.js';
import { periodOf, startOfLocalDay } from '../../src/sync/periods.js';
import { startApiBed, type ApiBed } from '../support/api-bed.js';
import { ADMIN_TOKEN } from '../support/harness.js';

/**
 * Missing receipts end to end: the real workflow on the run's dev server, the Qonto and Microsoft
 * simulators over HTTP, the API and the dashboard panel. What they say is checked against what the
 * simulator holds, per period and business account, before and after receipts change in Qonto.
 */
const ZONE = 'Europe/Paris';
const auth = { authorization: `Bearer ${ADMIN_TOKEN}` };

let bed: ApiBed;
let app: Hono;
let data: QontoData;
let demo: DemoSummary;

beforeAll(async () => {
  bed = await startApiBed({ demo: { seed: 5, accounts: 2, months: 3, receipts: 60 } });
  app = bed.app;
  data = bed.h.sims.qonto.data;
  demo = bed.h.sims.demo!;
});

afterAll(() => bed?.close());

interface Missing {
  transactionId: string;
  date: string;
  amount: number;
  currency: string;
  counterparty: string;
  account: string;
  period: string;
  lost: boolean;
}

/** The simulator's truth: completed transactions of the start date or later without any receipt that
 * require one or whose receipt was declared lost. */
function truth(syncFrom: string): Map<string, { account: string; period: string; lost: boolean }> {
  const from = Date.parse(startOfLocalDay(syncFrom, ZONE));
  const out = new Map<string, { account: string; period: string; lost: boolean }>();
  for (const a of data.bankAccounts()) {
    for (const t of data.transactionsOf(a.id)) {
      if (t.status !== 'completed' || Date.parse(t.emittedAt) < from || t.attachmentIds.length > 0) continue;
      if (!t.attachmentRequired && !t.attachmentLost) continue;
      out.set(t.id, { account: accountFolderName({ name: a.name, iban: a.iban }), period: periodOf(t.emittedAt, ZONE).month, lost: t.attachmentLost });
    }
  }
  return out;
}

const perPeriodAndAccount = (items: Iterable<{ account: string; period: string }>) => {
  const counts: Record<string, number> = {};
  for (const i of items) counts[`${i.period} ${i.account}`] = (counts[`${i.period} ${i.account}`] ?? 0) + 1;
  return counts;
};

const call = (path: string, headers: Record<string, string> = auth) => app.request(path, { headers });
const json = async <T>(path: string, method = 'GET', body?: unknown): Promise<T> => {
  const res = await app.request(path, {
    method,
    headers: { ...auth, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return (await res.json()) as T;
};

interface Status {
  status: string;
  nextRunAt: string | null;
  syncFrom: string;
  lastRun: { finishedAt: string; kind: string } | null;
}

async function until<T>(get: () => Promise<T>, done: (v: T) => boolean, what: string): Promise<T> {
  const deadline = Date.now() + 180_000;
  for (;;) {
    const v = await get();
    if (done(v)) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(v)}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

async function adminCookie(): Promise<string> {
  const res = await app.request('/auth/admin/login', {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', origin: bed.config.PUBLIC_URL },
    body: new URLSearchParams({ token: ADMIN_TOKEN }).toString(),
  });
  return res.headers.getSetCookie().find((c) => c.startsWith('admin_session='))!.split(';')[0]!;
}

const unescape = (s: string) => s.replace(/&amp;/g, '&').replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&lt;/g, '<').replace(/&gt;/g, '>');

/** The dashboard panel's counts per period and account, and its lines. */
async function panel(id: string, cookie: string, lang: 'en' | 'de') {
  const res = await call(`/integrations/${id}/panel`, { cookie, accept: 'text/html', 'accept-language': lang });
  expect(res.status).toBe(200);
  const html = await res.text();
  const counts: Record<string, number> = {};
  for (const m of html.matchAll(/data-keep-open="([^"]*)" data-missing-period="([^"]*)" data-count="(\d+)"/g)) {
    const account = unescape(m[1]!).slice(id.length + 1, -(m[2]!.length + 1));
    counts[`${m[2]} ${account}`] = Number(m[3]);
  }
  return { html, counts };
}

describe('missing receipts', () => {
  it('lists on the dashboard and through the API what the simulator holds, per period and account, and follows changes', async () => {
    expect(demo.counts.lost).toBeGreaterThan(0);
    expect(demo.counts.notRequired).toBeGreaterThan(0);
    const [main, second] = demo.bankAccountIds;
    const today = new Date(data.now()).toISOString().slice(0, 10);
    const monthStart = `${today.slice(0, 8)}01`;
    const syncFrom = new Date(Date.UTC(Number(today.slice(0, 4)), Number(today.slice(5, 7)) - 3, 1)).toISOString().slice(0, 10);
    // Cases of our own besides the demo's: a credit (none required), a pending payment, one settled
    // today, and a counterparty that needs quoting in CSV.
    data.addTransaction({ bankAccountId: second!, amount: 99, label: 'Refund', side: 'credit', emittedAt: new Date(data.now() - 3_600_000).toISOString() });
    data.addTransaction({ bankAccountId: main!, amount: 12.3, label: 'Pending', status: 'pending', emittedAt: new Date(data.now() - 3_600_000).toISOString() });
    const quoted = data.addTransaction({ bankAccountId: second!, amount: 7.5, label: 'Tax, "office"', emittedAt: new Date(data.now() - 7_200_000).toISOString() });

    const { id, authorizationUrl } = await json<{ id: string; authorizationUrl: string }>('/api/integrations', 'POST');
    const authorize = new URL(authorizationUrl);
    authorize.searchParams.set('login_hint', bed.h.newUser(`missing-${id.slice(0, 8)}`).username);
    const back = new URL((await fetch(authorize, { redirect: 'manual' })).headers.get('location')!);
    await app.request(`${back.pathname}${back.search}`);
    await json(`/api/integrations/${id}/finish`, 'POST', { syncFrom, timeZone: ZONE });
    const status = () => json<Status>(`/api/integrations/${id}`);
    let last = await until(status, (s) => s.status === 'idle' && s.nextRunAt !== null && s.lastRun !== null, 'the backfill');

    const cookie = await adminCookie();
    const check = async (from: string) => {
      const expected = truth(from);
      const { missing } = await json<{ missing: Missing[] }>(`/api/integrations/${id}/missing-receipts?format=json`);
      expect(new Set(missing.map((m) => m.transactionId))).toEqual(new Set(expected.keys()));
      expect(perPeriodAndAccount(missing)).toEqual(perPeriodAndAccount(expected.values()));
      for (const m of missing) expect(m).toMatchObject(expected.get(m.transactionId)!);
      const en = await panel(id, cookie, 'en');
      expect(en.counts).toEqual(perPeriodAndAccount(expected.values()));
      // The export log lists the same transactions, as rows without a file, by date.
      const { entries } = await json<{ entries: ExportLogEntry[] }>(`/api/integrations/${id}/export-log?format=json`);
      const logged = entries.filter((e) => e.state === 'missing' || e.state === 'lost');
      const byId = <T extends { transactionId: string }>(items: T[]) => [...items].sort((a, b) => (a.transactionId < b.transactionId ? -1 : 1));
      expect(byId(logged)).toEqual(
        byId(missing).map((m) =>
          expect.objectContaining({ transactionId: m.transactionId, attachmentId: null, path: null, sha256: null, date: m.date, account: m.account, currency: m.currency, counterparty: m.counterparty, state: m.lost ? 'lost' : 'missing' }),
        ),
      );
      expect(logged).toHaveLength(missing.length);
      for (const e of logged) expect(Number(e.amount)).toBe(missing.find((m) => m.transactionId === e.transactionId)!.amount);
      const dates = entries.map((e) => e.date ?? '');
      expect(dates).toEqual([...dates].sort());
      // A range keeps the transactions of its days only.
      const day = missing[0]!.date;
      const ranged = await json<{ entries: ExportLogEntry[] }>(`/api/integrations/${id}/export-log?format=json&from=${day}&to=${day}`);
      expect(ranged.entries.filter((e) => e.state === 'missing' || e.state === 'lost').map((e) => e.transactionId).sort()).toEqual(
        missing.filter((m) => m.date === day).map((m) => m.transactionId).sort(),
      );
      return { expected, missing, en };
    };

    const first = await check(syncFrom);
    expect(first.missing.length).toBeGreaterThan(2);
    expect(first.missing.some((m) => m.lost)).toBe(true);
    const q = first.missing.find((m) => m.transactionId === quoted.id)!;
    expect(q).toMatchObject({ amount: -7.5, currency: 'EUR', counterparty: 'Tax, "office"', period: today.slice(0, 7) });
    // The words, in both languages, for one period of one account.
    const [key, n] = Object.entries(first.en.counts)[0]!;
    const period = key.slice(0, 7);
    expect(first.en.html).toContain(`${period}: ${n} ${n === 1 ? 'transaction' : 'transactions'} still without a receipt`);
    expect((await panel(id, cookie, 'de')).html).toContain(`${period}: ${n} ${n === 1 ? 'Transaktion' : 'Transaktionen'} noch ohne Beleg`);
    expect(first.en.html).toContain(`href="/api/integrations/${id}/missing-receipts?format=csv"`);

    const csv = await call(`/api/integrations/${id}/missing-receipts?format=csv`);
    expect(csv.headers.get('content-type')).toBe('text/csv; charset=utf-8');
    expect(csv.headers.get('content-disposition')).toMatch(/^attachment; filename="missing-receipts-\d{4}-\d{2}-\d{2}\.csv"$/);
    const lines = (await csv.text()).split('\r\n');
    expect(lines[0]).toBe('transactionId,date,amount,currency,counterparty,account,period,lost');
    expect(lines.filter((l) => l !== '')).toHaveLength(first.missing.length + 1);
    expect(lines).toContain(`${quoted.id},${q.date},-7.50,EUR,"Tax, ""office""",${q.account},${q.period},false`);

    // In Qonto: a receipt arrives for one, another's receipt is removed, a third is declared lost.
    const fixed = first.missing.find((m) => !m.lost)!;
    const withReceipt = data
      .bankAccounts()
      .flatMap((a) => data.transactionsOf(a.id))
      .find((t) => t.status === 'completed' && t.attachmentIds.length === 1 && t.attachmentRequired && Date.parse(t.emittedAt) >= Date.parse(startOfLocalDay(syncFrom, ZONE)))!;
    data.attachReceipt(fixed.transactionId, { fileName: 'late.pdf', contentType: 'application/pdf', size: 2_000 });
    data.removeAttachment(withReceipt.attachmentIds[0]!);
    const waived = data
      .bankAccounts()
      .flatMap((a) => data.transactionsOf(a.id))
      .find((t) => t.attachmentIds.length === 0 && !t.attachmentRequired && t.status === 'completed' && Date.parse(t.emittedAt) >= Date.parse(startOfLocalDay(syncFrom, ZONE)))!;
    data.setAttachmentLost(waived.id, true);

    expect((await app.request(`/api/integrations/${id}/sync`, { method: 'POST', headers: auth })).status).toBe(202);
    last = await until(status, (s) => s.status === 'idle' && s.lastRun !== null && s.lastRun.finishedAt !== last.lastRun!.finishedAt, 'the sync');
    const after = await check(syncFrom);
    const ids = after.missing.map((m) => m.transactionId);
    expect(ids).not.toContain(fixed.transactionId);
    expect(ids).toContain(withReceipt.id);
    expect(after.missing.find((m) => m.transactionId === waived.id)?.lost).toBe(true);

    // A later start date leaves the earlier months out at once; the earlier one brings them back.
    await json(`/api/integrations/${id}`, 'PATCH', { syncFrom: monthStart });
    await check(monthStart);
    expect((await json<{ missing: Missing[] }>(`/api/integrations/${id}/missing-receipts`)).missing.every((m) => m.date >= monthStart)).toBe(true);
    await until(status, (s) => s.status === 'idle' && s.lastRun?.kind === 'reconfigure' && s.lastRun.finishedAt !== last.lastRun!.finishedAt, 'the reconfiguration');
    last = await status();
    await json(`/api/integrations/${id}`, 'PATCH', { syncFrom });
    await until(status, (s) => s.status === 'idle' && s.lastRun !== null && s.lastRun.finishedAt !== last.lastRun!.finishedAt, 'the second reconfiguration');
    await check(syncFrom);
  });
});
