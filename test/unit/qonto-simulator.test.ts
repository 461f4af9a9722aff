import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { attachmentBuffer, attachmentBytes, attachmentSha256 } from '../../src/simulators/qonto/content.js';
import { QontoData, frenchIban, probativeContentKey } from '../../src/simulators/qonto/data.js';
import { seedDemo } from '../../src/simulators/qonto/demo.js';
import { KEY, useQontoSimulators } from '../support/qonto-sim.js';
import type { QontoSimulator, QontoSimulatorOptions } from '../../src/simulators/qonto/server.js';

const AUTH = { authorization: `${KEY.login}:${KEY.secret}` };
const T0 = Date.parse('2025-03-15T12:00:00.000Z');
const iso = (ms: number): string => new Date(ms).toISOString();

interface ErrorBody {
  errors: { code: string; detail: string; source?: { parameter?: string } }[];
  trace_id: string;
}

const simulator = useQontoSimulators();

async function get(sim: QontoSimulator, path: string, headers: Record<string, string> = AUTH) {
  const res = await fetch(`${sim.url}${path}`, { headers });
  const type = res.headers.get('content-type') ?? '';
  const body: unknown = type.includes('json') ? await res.json() : await res.text();
  return { status: res.status, headers: res.headers, body: body as any };
}

async function expectQontoError(
  res: Awaited<ReturnType<typeof get>>,
  status: number,
  code: string,
  parameter?: string,
): Promise<void> {
  expect(res.status).toBe(status);
  const body = res.body as ErrorBody;
  expect(body.errors[0]!.code).toBe(code);
  expect(typeof body.errors[0]!.detail).toBe('string');
  if (parameter !== undefined) expect(body.errors[0]!.source).toEqual({ parameter });
  expect(body.trace_id).toMatch(/^[0-9a-f]{32}$/);
  expect(res.headers.get('x-tyk-trace-id')).toBe(body.trace_id);
}

describe('Qonto simulator: connections', () => {
  it('keeps a connection alive for the next request, as S3 and Qonto do', async () => {
    const { sim } = await simulator();
    for (let i = 0; i < 2; i++) expect((await get(sim, '/v2/organization')).status).toBe(200);
    const opened = sim.connections();
    for (let i = 0; i < 3; i++) expect((await get(sim, '/v2/organization')).status).toBe(200);
    expect(sim.connections()).toBe(opened);
  });
});

describe('Qonto simulator: authentication and errors', () => {
  it('accepts login:secret and bearer tokens only, with Qonto-style 401s otherwise', async () => {
    const { sim } = await simulator();
    expect((await get(sim, '/v2/organization')).status).toBe(200);
    const basic = `Basic ${Buffer.from(`${KEY.login}:${KEY.secret}`).toString('base64')}`;
    for (const authorization of [basic, `Bearer ${KEY.login}:${KEY.secret}`, `${KEY.secret}:${KEY.login}`, `${KEY.login}: ${KEY.secret}`]) {
      await expectQontoError(await get(sim, '/v2/organization', { authorization }), 401, 'unauthorized');
    }
    await expectQontoError(await get(sim, '/v2/organization', {}), 401, 'unauthorized');

    const owner = sim.data.addMembership({ firstName: 'A', lastName: 'B', role: 'owner' });
    const token = sim.issueAccessToken(owner.id);
    expect(token).toMatch(/^ory_at_/);
    const me = await get(sim, '/v2/membership', { authorization: `Bearer ${token}` });
    expect(me.body.membership).toMatchObject({ id: owner.id, role: 'owner' });
    await expectQontoError(await get(sim, '/v2/membership'), 403, 'forbidden');
    expect(() => sim.issueAccessToken('unknown')).toThrow(/unknown membership/);
  });

  it('expires bearer tokens after an hour, and enforces scopes', async () => {
    let clock = T0;
    const { sim } = await simulator({ now: () => clock });
    const owner = sim.data.addMembership({ firstName: 'A', lastName: 'B', role: 'owner' });
    const token = sim.issueAccessToken(owner.id);
    const bearer = { authorization: `Bearer ${token}` };
    expect((await get(sim, '/v2/organization', bearer)).status).toBe(200);
    clock += 3_600_000;
    await expectQontoError(await get(sim, '/v2/organization', bearer), 401, 'unauthorized');

    const membershipOnly = { authorization: `Bearer ${sim.issueAccessToken(owner.id, { scopes: ['membership.read'] })}` };
    const denied = await get(sim, '/v2/transactions?bank_account_id=x', membershipOnly);
    await expectQontoError(denied, 403, 'forbidden');
    expect(denied.body.errors[0].detail).toContain('missing required OAuth scope');
    const attachmentOnly = { authorization: `Bearer ${sim.issueAccessToken(owner.id, { scopes: ['attachment.read'] })}` };
    await expectQontoError(await get(sim, '/v2/attachments/nope', attachmentOnly), 404, 'not_found');
  });

  it('answers unknown paths with 404 and other methods with 405, in the error format', async () => {
    const { sim } = await simulator();
    await expectQontoError(await get(sim, '/v2/organizations'), 404, 'not_found');
    const res = await fetch(`${sim.url}/v2/organization`, { method: 'DELETE', headers: AUTH });
    expect(res.status).toBe(405);
    expect(((await res.json()) as ErrorBody).errors[0]!.code).toBe('method_not_allowed');
  });

  it('serves an HTML login page with status 200 when the staging token is missing', async () => {
    const { sim } = await simulator({ stagingToken: 'stg-1' });
    const missing = await get(sim, '/v2/organization');
    expect(missing.status).toBe(200);
    expect(missing.headers.get('content-type')).toMatch(/^text\/html/);
    expect(missing.body).toMatch(/<!DOCTYPE html>/);
    const wrong = await get(sim, '/v2/organization', { ...AUTH, 'x-qonto-staging-token': 'nope' });
    expect(wrong.headers.get('content-type')).toMatch(/^text\/html/);
    const ok = await get(sim, '/v2/organization', { ...AUTH, 'x-qonto-staging-token': 'stg-1' });
    expect(ok.body.organization.slug).toBe('acme-sas-4242');
  });

  it('limits each IP per 10 seconds and per 10 minutes', async () => {
    let clock = T0;
    const { sim } = await simulator({ now: () => clock, rateLimit: { perTenSeconds: 3, perTenMinutes: 5 } });
    const statuses = async (n: number) => {
      const out: number[] = [];
      for (let i = 0; i < n; i++) out.push((await get(sim, '/v2/organization')).status);
      return out;
    };
    expect(await statuses(4)).toEqual([200, 200, 200, 429]);
    await expectQontoError(await get(sim, '/v2/organization'), 429, 'too_many_requests');
    clock += 10_001;
    expect(await statuses(3)).toEqual([200, 200, 429]);
    clock += 60_000;
    expect(await statuses(1)).toEqual([429]);
    clock += 600_000;
    expect(await statuses(1)).toEqual([200]);
    expect(sim.rateLimited()).toBe(4);
  });

  it('throttles an IP that collected more than 200 401s within an hour', async () => {
    let clock = T0;
    const { sim } = await simulator({ now: () => clock });
    for (let i = 0; i < 201; i++) expect((await get(sim, '/v2/organization', { authorization: 'x:y' })).status).toBe(401);
    await expectQontoError(await get(sim, '/v2/organization'), 429, 'too_many_requests');
    clock += 3_600_000;
    expect((await get(sim, '/v2/organization')).status).toBe(200);
  });

  it('injects faults in the Qonto format with Retry-After, and drops connections', async () => {
    const { sim } = await simulator();
    sim.faults.add({ path: '/v2/organization' }, { kind: 'status', status: 503, retryAfterSec: 1 });
    const faulted = await get(sim, '/v2/organization');
    await expectQontoError(faulted, 503, 'service_unavailable');
    expect(faulted.headers.get('retry-after')).toBe('1');
    sim.faults.add({ path: '/v2/organization' }, { kind: 'drop' });
    await expect(get(sim, '/v2/organization')).rejects.toThrow();
    expect((await get(sim, '/v2/organization')).status).toBe(200);
  });
});

describe('Qonto simulator: transactions', () => {
  async function withTransactions(count: number) {
    const env = await simulator();
    for (let i = 0; i < count; i++) {
      const at = iso(T0 + i * 1000);
      env.sim.data.addTransaction({ bankAccountId: env.account.id, amount: i + 1, label: `T${i}`, emittedAt: at, createdAt: at });
    }
    return env;
  }

  it('sends meta exactly as documented, with nulls at the ends', async () => {
    const { sim, account } = await withTransactions(3);
    const first = await get(sim, `/v2/transactions?bank_account_id=${account.id}&per_page=2`);
    expect(first.body.meta).toStrictEqual({ current_page: 1, next_page: 2, prev_page: null, total_pages: 2, total_count: 3, per_page: 2 });
    expect(first.body.transactions).toHaveLength(2);
    const second = await get(sim, `/v2/transactions?bank_account_id=${account.id}&per_page=2&current_page=2`);
    expect(second.body.meta).toStrictEqual({ current_page: 2, next_page: null, prev_page: 1, total_pages: 2, total_count: 3, per_page: 2 });
    expect(second.body.transactions).toHaveLength(1);
    const beyond = await get(sim, `/v2/transactions?bank_account_id=${account.id}&per_page=2&page=5`);
    expect(beyond.body.transactions).toEqual([]);
    expect(beyond.body.meta).toMatchObject({ current_page: 5, next_page: null, prev_page: null });
    const all = await get(sim, `/v2/transactions?bank_account_id=${account.id}`);
    expect(all.body.meta.per_page).toBe(100);
  });

  it.each(['0', '101', 'abc', '-1', '2.5'])('rejects per_page=%s with errors naming the parameter', async (perPage) => {
    const { sim, account } = await withTransactions(1);
    await expectQontoError(await get(sim, `/v2/transactions?bank_account_id=${account.id}&per_page=${perPage}`), 422, 'invalid', 'per_page');
  });

  it('accepts per_page 1 and 100, and rejects page 0', async () => {
    const { sim, account } = await withTransactions(2);
    expect((await get(sim, `/v2/transactions?bank_account_id=${account.id}&per_page=1`)).body.transactions).toHaveLength(1);
    expect((await get(sim, `/v2/transactions?bank_account_id=${account.id}&per_page=100`)).body.transactions).toHaveLength(2);
    await expectQontoError(await get(sim, `/v2/transactions?bank_account_id=${account.id}&page=0`), 422, 'invalid', 'page');
  });

  it('requires an account, by id or IBAN', async () => {
    const { sim, account } = await withTransactions(1);
    await expectQontoError(await get(sim, '/v2/transactions'), 422, 'required', 'bank_account_id');
    await expectQontoError(await get(sim, '/v2/transactions?bank_account_id=nope'), 404, 'not_found', 'bank_account_id');
    const byIban = await get(sim, `/v2/transactions?iban=${account.iban}`);
    expect(byIban.body.transactions).toHaveLength(1);
  });

  it('lists only completed transactions unless status[] says otherwise', async () => {
    const { sim, account } = await simulator();
    for (const status of ['completed', 'pending', 'declined'] as const) {
      sim.data.addTransaction({ bankAccountId: account.id, amount: 1, label: status, status });
    }
    const labels = async (query: string) =>
      ((await get(sim, `/v2/transactions?bank_account_id=${account.id}${query}`)).body.transactions as { label: string }[])
        .map((t) => t.label)
        .sort();
    expect(await labels('')).toEqual(['completed']);
    expect(await labels('&status[]=pending&status[]=declined')).toEqual(['declined', 'pending']);
    expect(await labels('&status%5B%5D=pending')).toEqual(['pending']);
    await expectQontoError(await get(sim, `/v2/transactions?bank_account_id=${account.id}&status=invalid`), 422, 'not_in_list', 'status');
  });

  it('filters by dates, side, operation type and attachments; sorts; embeds includes', async () => {
    let clock = T0;
    const { sim, account } = await simulator({ now: () => clock });
    const day = 86_400_000;
    const mk = (label: string, daysAgo: number, extra: Partial<Parameters<QontoData['addTransaction']>[0]> = {}) =>
      sim.data.addTransaction({ bankAccountId: account.id, amount: 10, label, emittedAt: iso(T0 - daysAgo * day), createdAt: iso(T0 - daysAgo * day), ...extra });
    const a = mk('a', 10);
    mk('b', 5, { side: 'credit', operationType: 'income' });
    mk('c', 1, { operationType: 'transfer' });
    clock = T0 + 1000;
    const receipt = sim.data.attachReceipt(a.id, { fileName: 'a.pdf', contentType: 'application/pdf', size: 42 });
    const list = async (query: string) =>
      (await get(sim, `/v2/transactions?bank_account_id=${account.id}${query}`)).body.transactions as Record<string, any>[];
    const labels = async (query: string) => (await list(query)).map((t) => t.label);

    expect(await labels('')).toEqual(['c', 'b', 'a']); // default settled_at:desc
    expect(await labels('&sort_by=updated_at:asc')).toEqual(['b', 'c', 'a']);
    expect(await labels('&sort_by=emitted_at:asc')).toEqual(['a', 'b', 'c']);
    expect(await labels(`&updated_at_from=${iso(T0)}`)).toEqual(['a']);
    expect(await labels(`&emitted_at_from=${iso(T0 - 6 * day)}&emitted_at_to=${iso(T0 - day)}`)).toEqual(['c', 'b']);
    expect(await labels(`&settled_at_to=${iso(T0 - 6 * day)}`)).toEqual(['a']);
    expect(await labels('&side=credit')).toEqual(['b']);
    expect(await labels('&operation_type[]=transfer&operation_type[]=income')).toEqual(['c', 'b']);
    expect(await labels('&with_attachments=true')).toEqual(['a']);
    expect(await labels('&with_attachments=false')).toEqual(['c', 'b']);

    const plain = (await list('&with_attachments=true'))[0]!;
    expect(plain.attachments).toBeUndefined();
    expect(plain.attachment_ids).toEqual([receipt.id]);
    expect(plain.amount).toBe(10);
    expect(plain.updated_at).toBe(iso(T0 + 1000));
    const full = (await list('&with_attachments=true&includes[]=attachments&includes[]=labels&includes[]=vat_details'))[0]!;
    expect(full.attachments).toEqual([
      expect.objectContaining({ id: receipt.id, file_name: 'a.pdf', file_size: '42', file_content_type: 'application/pdf', created_at: iso(T0 + 1000) }),
    ]);
    expect(full.labels).toEqual([]);
    expect(full.vat_details).toBeDefined();

    for (const [query, parameter] of [
      ['&side=both', 'side'],
      ['&sort_by=amount:asc', 'sort_by'],
      ['&sort_by=updated_at:up', 'sort_by'],
      ['&includes[]=everything', 'includes'],
      ['&with_attachments=yes', 'with_attachments'],
      ['&updated_at_from=yesterday', 'updated_at_from'],
    ]) {
      const res = await get(sim, `/v2/transactions?bank_account_id=${account.id}${query}`);
      expect(res.status, query).toBe(422);
      expect(res.body.errors[0].source, query).toEqual({ parameter });
    }
  });

  it('serves one transaction, its attachments, accounts and memberships', async () => {
    const { sim, account } = await simulator();
    const tx = sim.data.addTransaction({ bankAccountId: account.id, amount: 99.99, label: 'Apple', side: 'debit' });
    const receipt = sim.data.attachReceipt(tx.id, { fileName: 'Foobar', contentType: 'image/png', size: 666 });
    const one = await get(sim, `/v2/transactions/${tx.id}?includes[]=attachments`);
    expect(one.body.transaction).toMatchObject({ id: tx.id, amount: 99.99, amount_cents: 9999, side: 'debit', status: 'completed', bank_account_id: account.id });
    expect(one.body.transaction.attachments[0].id).toBe(receipt.id);
    const atts = await get(sim, `/v2/transactions/${tx.id}/attachments`);
    expect(atts.body.attachments.map((a: { id: string }) => a.id)).toEqual([receipt.id]);
    await expectQontoError(await get(sim, '/v2/transactions/nope'), 404, 'not_found');

    const accounts = await get(sim, '/v2/bank_accounts');
    expect(accounts.body.bank_accounts[0]).toMatchObject({ id: account.id, iban: account.iban, balance: 10_000 - 99.99, main: true });
    expect(accounts.body.meta).toMatchObject({ total_count: 1, next_page: null });
    expect((await get(sim, `/v2/bank_accounts/${account.id}`)).body.bank_account.id).toBe(account.id);
    sim.data.addMembership({ firstName: 'Inv', lastName: 'Ited', role: null, status: 'invitable' });
    const members = await get(sim, '/v2/memberships?per_page=1');
    expect(members.body.memberships[0]).toMatchObject({ role: null, status: 'invitable', team_id: null });
    expect(members.body.meta).toStrictEqual({ current_page: 1, next_page: null, prev_page: null, total_pages: 1, total_count: 1, per_page: 1 });
  });
});

describe('Qonto simulator: attachment downloads', () => {
  async function withReceipt(size: number, opts: QontoSimulatorOptions = {}) {
    const env = await simulator(opts);
    const tx = env.sim.data.addTransaction({ bankAccountId: env.account.id, amount: 1, label: 'x' });
    const receipt = env.sim.data.attachReceipt(tx.id, { fileName: 'r.pdf', contentType: 'application/pdf', size });
    const url = (await get(env.sim, `/v2/attachments/${receipt.id}`)).body.attachment.url as string;
    return { ...env, tx, receipt, url };
  }

  async function s3(url: string, headers: Record<string, string> = {}) {
    const res = await fetch(url, { headers });
    return { res, text: res.ok ? '' : await res.text() };
  }

  it('serves the deterministic bytes with Content-Length and Content-Type, no auth header needed', async () => {
    const { receipt, url } = await withReceipt(200_001);
    expect(url).toMatch(/\/s3\/attachments\/.*X-Amz-Expires=1800.*X-Amz-Signature=[0-9a-f]{64}/);
    const res = await fetch(url);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-length')).toBe('200001');
    expect(res.headers.get('content-type')).toBe('application/pdf');
    expect(Buffer.from(await res.arrayBuffer()).equals(attachmentBuffer(receipt.id, 200_001))).toBe(true);
  });

  it('refuses the URL after 30 minutes, when tampered with, or when it carries an Authorization header', async () => {
    let clock = T0;
    const { sim, receipt, url } = await withReceipt(10, { now: () => clock });
    const bad = await s3(url.replace(/X-Amz-Expires=1800/, 'X-Amz-Expires=999999'));
    expect(bad.res.status).toBe(403);
    expect(bad.text).toMatch(/<Code>SignatureDoesNotMatch<\/Code>/);
    const withAuth = await s3(url, AUTH);
    expect(withAuth.res.status).toBe(400);
    expect(withAuth.text).toMatch(/<Code>InvalidArgument<\/Code>/);

    clock += 1_800_000;
    expect((await s3(url)).res.status).toBe(200);
    clock += 1_000;
    const expired = await s3(url);
    expect(expired.res.status).toBe(403);
    expect(expired.res.headers.get('content-type')).toBe('application/xml');
    expect(expired.text).toMatch(/<Code>AccessDenied<\/Code><Message>Request has expired<\/Message>/);

    const fresh = (await get(sim, `/v2/attachments/${receipt.id}`)).body.attachment.url as string;
    expect((await s3(fresh)).res.status).toBe(200);
    sim.data.removeAttachment(receipt.id);
    const gone = await s3(fresh);
    expect(gone.res.status).toBe(404);
    expect(gone.text).toMatch(/<Code>NoSuchKey<\/Code>/);
  });

  it('honours the URL lifetime option', async () => {
    let clock = T0;
    const { url } = await withReceipt(10, { now: () => clock, urlTtlSec: 60 });
    expect(url).toContain('X-Amz-Expires=60');
    clock += 61_000;
    expect((await s3(url)).res.status).toBe(403);
  });

  it('applies faults to downloads in S3 format, and can cut a download midway', async () => {
    const { sim, receipt, url } = await withReceipt(100_000);
    sim.faults.add({ path: '/s3/' }, { kind: 'status', status: 503, retryAfterSec: 1 });
    const faulted = await s3(url);
    expect(faulted.res.status).toBe(503);
    expect(faulted.res.headers.get('retry-after')).toBe('1');
    expect(faulted.text).toMatch(/<Code>SlowDown<\/Code>/);

    sim.faults.add({ path: '/s3/' }, { kind: 'drop-after-bytes', bytes: 1000 });
    const cut = await fetch(url);
    expect(cut.status).toBe(200);
    await expect(cut.arrayBuffer()).rejects.toThrow();
    expect((await fetch(url)).status).toBe(200);
    expect(sim.faults.served).toBe(2);
    expect(receipt.size).toBe(100_000);
  });

  it('serves a probative copy as its own PDF with its own signed URL, once available', async () => {
    const { sim, receipt, url } = await withReceipt(1_000);
    const view = async () => (await get(sim, `/v2/attachments/${receipt.id}`)).body.attachment.probative_attachment;
    expect(await view()).toEqual({ status: 'unavailable' });
    const updatedAt = sim.data.transaction(receipt.transactionId)!.updatedAt;
    sim.data.setProbative(receipt.id, { status: 'pending' });
    expect(await view()).toEqual({ status: 'pending' });
    sim.data.setProbative(receipt.id, { status: 'available', size: 4_321 });
    const copy = await view();
    expect(copy).toMatchObject({ status: 'available', file_name: 'r.pdf', file_size: '4321', file_content_type: 'application/pdf' });
    expect(copy.url).toMatch(/\/s3\/probative-attachments\/.*X-Amz-Signature=[0-9a-f]{64}/);
    // Qonto is not known to bump the transaction when the copy is made: a client must look again itself.
    expect(sim.data.transaction(receipt.transactionId)!.updatedAt).toBe(updatedAt);

    const res = await fetch(copy.url);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/pdf');
    expect(res.headers.get('content-length')).toBe('4321');
    const bytes = Buffer.from(await res.arrayBuffer());
    expect(bytes.equals(attachmentBuffer(probativeContentKey(receipt.id), 4_321))).toBe(true);
    expect(bytes.subarray(0, 1_000).equals(attachmentBuffer(receipt.id, 1_000))).toBe(false);

    // A copy's signature does not open the original, nor the other way round.
    expect((await fetch(copy.url.replace('/s3/probative-attachments/', '/s3/attachments/'))).status).toBe(403);
    expect((await fetch(url.replace('/s3/attachments/', '/s3/probative-attachments/'))).status).toBe(403);
    // Withdrawn: the URL handed out before no longer finds the object.
    sim.data.setProbative(receipt.id, { status: 'unavailable' });
    expect((await fetch(copy.url)).status).toBe(404);
    expect(() => sim.data.setProbative(receipt.id, { status: 'available', size: -1 })).toThrow(/invalid/);
  });

  it('bumps updated_at when a receipt is attached and when one is removed', async () => {
    let clock = T0;
    const { sim, account } = await simulator({ now: () => clock });
    const tx = sim.data.addTransaction({ bankAccountId: account.id, amount: 1, label: 'x', emittedAt: iso(T0 - 86_400_000) });
    expect(tx.updatedAt).toBe(iso(T0));
    clock += 5_000;
    const r = sim.data.attachReceipt(tx.id, { fileName: 'a.pdf', contentType: 'application/pdf', size: 1 });
    expect(tx.updatedAt).toBe(iso(T0 + 5_000));
    expect(r.createdAt).toBe(iso(T0 + 5_000));
    clock += 5_000;
    sim.data.removeAttachment(r.id);
    expect(tx.updatedAt).toBe(iso(T0 + 10_000));
    expect(tx.attachmentIds).toEqual([]);
    clock += 5_000;
    sim.data.setStatus(tx.id, 'declined');
    expect(tx).toMatchObject({ status: 'declined', settledAt: null, updatedAt: iso(T0 + 15_000) });
    for (let i = 0; i < 5; i++) sim.data.attachReceipt(tx.id, { fileName: `${i}.pdf`, contentType: 'application/pdf', size: 1 });
    expect(() => sim.data.attachReceipt(tx.id, { fileName: '6.pdf', contentType: 'application/pdf', size: 1 })).toThrow(/5 receipts/);
  });

  it('holds attachment_required and attachment_lost per transaction, set through the data API', async () => {
    let clock = T0;
    const { sim, account } = await simulator({ now: () => clock });
    const debit = sim.data.addTransaction({ bankAccountId: account.id, amount: 5, label: 'debit', emittedAt: iso(T0 - 1000) });
    const credit = sim.data.addTransaction({ bankAccountId: account.id, amount: 5, label: 'credit', side: 'credit', emittedAt: iso(T0 - 1000) });
    sim.data.addTransaction({ bankAccountId: account.id, amount: 5, label: 'waived', attachmentRequired: false, emittedAt: iso(T0 - 1000) });
    clock += 5_000;
    sim.data.setAttachmentLost(debit.id, true);
    expect(debit.updatedAt).toBe(iso(T0 + 5_000));
    clock += 5_000;
    sim.data.setAttachmentRequired(credit.id, true);
    expect(credit.updatedAt).toBe(iso(T0 + 10_000));
    const res = await get(sim, `/v2/transactions?bank_account_id=${account.id}`);
    const flags = Object.fromEntries(
      (res.body.transactions as any[]).map((t) => [t.label, { required: t.attachment_required, lost: t.attachment_lost }]),
    );
    expect(flags).toEqual({
      debit: { required: true, lost: true },
      credit: { required: true, lost: false },
      waived: { required: false, lost: false },
    });
  });
});

describe('Qonto simulator: content and demo data', () => {
  it('generates attachment bytes deterministically, as a stream, with shorter sizes as prefixes', async () => {
    const chunks: Buffer[] = [];
    for await (const chunk of attachmentBytes('att-1', 150_000)) chunks.push(chunk as Buffer);
    expect(chunks.length).toBeGreaterThan(1);
    const streamed = Buffer.concat(chunks);
    expect(streamed.equals(attachmentBuffer('att-1', 150_000))).toBe(true);
    expect(attachmentBuffer('att-1', 1000).equals(streamed.subarray(0, 1000))).toBe(true);
    expect(attachmentBuffer('att-2', 1000).equals(streamed.subarray(0, 1000))).toBe(false);
    expect(attachmentSha256('att-1', 150_000)).toBe(createHash('sha256').update(streamed).digest('hex'));
    expect(attachmentBuffer('att-1', 0)).toHaveLength(0);
  });

  it('builds valid IBANs', () => {
    for (const n of [1, 2, 99]) {
      const iban = frenchIban(n);
      expect(iban).toMatch(/^FR\d{25}$/);
      const rearranged = `${iban.slice(4)}1527${iban.slice(2, 4)}`;
      expect(BigInt(rearranged) % 97n).toBe(1n);
    }
  });

  it('seeds a deterministic demo organization with the awkward cases', () => {
    const seed = (s: number) => {
      const data = new QontoData(() => T0);
      return { data, summary: seedDemo(data, { seed: s, accounts: 3, months: 4, receipts: 60, bigFile: { bytes: 50 * 1024 * 1024 } }) };
    };
    const { data, summary } = seed(7);
    const again = seed(7);
    expect(again.summary).toEqual(summary);
    expect(seed(8).summary.attachmentIds).not.toEqual(summary.attachmentIds);

    expect(summary.bankAccountIds).toHaveLength(3);
    expect(summary.attachmentIds).toHaveLength(60);
    const txs = summary.transactionIds.map((id) => data.transaction(id)!);
    expect(txs).toHaveLength(summary.counts.transactions);
    expect(summary.counts.pending).toBeGreaterThan(0);
    expect(summary.counts.declined).toBeGreaterThan(0);
    expect(summary.counts.twoReceipts).toBeGreaterThan(0);
    expect(summary.counts.withoutReceipt).toBeGreaterThan(summary.counts.declined);
    expect(summary.lateAttachmentIds.length).toBeGreaterThan(0);
    expect(txs.filter((t) => t.attachmentIds.length === 2)).toHaveLength(summary.counts.twoReceipts);
    expect(new Set(txs.map((t) => t.bankAccountId)).size).toBe(3);
    // Payments without receipt: most expected (missing), a few declared lost, a few not expected.
    const noReceipt = txs.filter((t) => t.attachmentIds.length === 0 && t.status !== 'declined');
    expect(noReceipt.filter((t) => t.attachmentLost)).toHaveLength(summary.counts.lost);
    expect(noReceipt.filter((t) => !t.attachmentRequired)).toHaveLength(summary.counts.notRequired);
    expect(summary.counts.lost).toBeGreaterThan(0);
    expect(summary.counts.notRequired).toBeGreaterThan(0);
    expect(noReceipt.filter((t) => t.status === 'completed' && t.attachmentRequired && !t.attachmentLost).length).toBeGreaterThan(0);

    const firstMonth = Date.UTC(2024, 11, 1); // four months ending March 2025
    for (const t of txs) {
      expect(Date.parse(t.emittedAt)).toBeGreaterThanOrEqual(firstMonth);
      expect(Date.parse(t.emittedAt)).toBeLessThanOrEqual(T0);
      expect(Date.parse(t.updatedAt)).toBeLessThanOrEqual(T0);
    }
    for (const id of summary.lateAttachmentIds) {
      const a = data.attachment(id)!;
      const t = data.transaction(a.transactionId)!;
      expect(Date.parse(a.createdAt) - Date.parse(t.emittedAt)).toBeGreaterThanOrEqual(14 * 86_400_000);
      expect(Date.parse(t.updatedAt)).toBeGreaterThanOrEqual(Date.parse(a.createdAt));
    }
    const names = txs.map((t) => t.label);
    expect(names.some((n) => /[/:?]/.test(n))).toBe(true);
    expect(names.some((n) => /\p{Extended_Pictographic}/u.test(n))).toBe(true);
    expect(names.some((n) => n.length > 150)).toBe(true);
    const types = new Set(summary.attachmentIds.map((id) => data.attachment(id)!.contentType));
    expect(types).toEqual(new Set(['application/pdf', 'image/png', 'image/jpeg']));
    expect(data.attachment(summary.bigAttachmentId!)!.size).toBe(50 * 1024 * 1024);
    expect(data.memberships().map((m) => m.role)).toEqual(['owner', 'admin', 'accountant', 'employee', null]);
    // A mix of probative copies: available, still pending, unavailable, covering every receipt.
    const { available, pending, unavailable } = summary.probative;
    expect(available.length).toBeGreaterThan(0);
    expect(pending.length).toBeGreaterThan(0);
    expect(unavailable.length).toBeGreaterThan(0);
    expect([...available, ...pending, ...unavailable].sort()).toEqual([...summary.attachmentIds].sort());
    for (const id of available) expect(data.attachment(id)!.probative.status).toBe('available');
    for (const id of pending) expect(data.attachment(id)!.probative.status).toBe('pending');
  });

  it('serves the demo organization over HTTP', async () => {
    const { sim } = await simulator();
    const summary = seedDemo(sim.data, { receipts: 10 });
    const accountId = summary.bankAccountIds[0]!;
    const res = await get(sim, `/v2/transactions?bank_account_id=${accountId}&status[]=completed&status[]=pending&includes[]=attachments`);
    expect(res.status).toBe(200);
    expect(res.body.transactions.length).toBeGreaterThan(0);
  });
});
