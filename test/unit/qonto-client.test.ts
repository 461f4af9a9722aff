import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { FatalError, NotFoundError, ReconnectRequiredError, RetryableError } from '../../src/errors.js';
import { BackoffGate } from '../../src/http/backoff-gate.js';
import { QontoClient, type QontoAuth, type QontoClientOptions } from '../../src/qonto/client.js';
import { attachmentBuffer, attachmentSha256 } from '../../src/simulators/qonto/content.js';
import { AttachmentSchema } from '../../src/qonto/schemas.js';
import { probativeContentKey } from '../../src/simulators/qonto/data.js';
import { seedDemo } from '../../src/simulators/qonto/demo.js';
import { KEY, useQontoSimulators } from '../support/qonto-sim.js';
import type { QontoSimulator } from '../../src/simulators/qonto/server.js';

const FAST_RETRY = { attempts: 5, baseDelayMs: 1, maxDelayMs: 5 };
const T0 = Date.parse('2025-03-15T12:00:00.000Z');

const simulator = useQontoSimulators();

function client(sim: QontoSimulator, extra: Partial<QontoClientOptions> = {}): QontoClient {
  const auth: QontoAuth = { kind: 'apiKey', ...KEY };
  return new QontoClient({ baseUrl: sim.url, auth, retry: FAST_RETRY, ...extra });
}

const iso = (ms: number): string => new Date(ms).toISOString();

async function readAll(body: ReadableStream<Uint8Array>): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of body) chunks.push(Buffer.from(chunk));
  return Buffer.concat(chunks);
}

async function sha256(body: ReadableStream<Uint8Array>): Promise<{ hex: string; bytes: number }> {
  const hash = createHash('sha256');
  let bytes = 0;
  for await (const chunk of body) {
    hash.update(chunk);
    bytes += chunk.byteLength;
  }
  return { hex: hash.digest('hex'), bytes };
}

async function caught(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected a rejection');
}

describe('QontoClient against the simulator', () => {
  it('reads the organization with its bank accounts, sending the API key exactly as login:secret', async () => {
    const { sim, account } = await simulator();
    const second = sim.data.addBankAccount({ name: 'Marketing' });
    const org = await client(sim).getOrganization();
    expect(org.id).toBe(sim.data.organization.id);
    expect(org.slug).toBe('acme-sas-4242');
    expect(org.legal_country).toBe('FR');
    expect(org.bank_accounts.map((a) => [a.id, a.name, a.iban, a.main])).toEqual([
      [account.id, account.name, account.iban, true],
      [second.id, 'Marketing', second.iban, false],
    ]);
    const sent = sim.requests.at(-1)!;
    expect(sent.path).toBe('/v2/organization');
    expect(sent.headers.authorization).toBe(`${KEY.login}:${KEY.secret}`);
    expect(sent.headers['x-qonto-staging-token']).toBeUndefined();
  });

  it('pages through more than 100 transactions with the documented query', async () => {
    const { sim, account } = await simulator();
    const ids = new Set<string>();
    for (let i = 0; i < 230; i++) {
      const t = Date.UTC(2025, 0, 1) + i * 60_000;
      ids.add(sim.data.addTransaction({ bankAccountId: account.id, amount: 1 + i, label: `Shop ${i}`, emittedAt: iso(t), createdAt: iso(t) }).id);
    }
    const pages: { page: number; count: number }[] = [];
    const seen: string[] = [];
    for await (const { transactions, page } of client(sim).transactionPages({ bankAccountId: account.id })) {
      pages.push({ page, count: transactions.length });
      seen.push(...transactions.map((t) => t.id));
    }
    expect(pages).toEqual([
      { page: 1, count: 100 },
      { page: 2, count: 100 },
      { page: 3, count: 30 },
    ]);
    expect(new Set(seen)).toEqual(ids);
    const listCalls = sim.requests.filter((r) => r.path.startsWith('/v2/transactions?'));
    expect(listCalls).toHaveLength(3);
    const last = listCalls[2]!.path;
    expect(last).toContain('status[]=completed&status[]=pending');
    expect(last).toContain('includes[]=attachments');
    const q = new URL(last, sim.url).searchParams;
    expect(q.get('bank_account_id')).toBe(account.id);
    expect(q.get('sort_by')).toBe('updated_at:asc');
    expect(q.get('per_page')).toBe('100');
    expect(q.get('page')).toBe('3');
    expect(q.has('updated_at_from')).toBe(false);
  });

  it('filters on the updated_at cursor, emitted_at and statuses; a late receipt moves an old payment past the cursor', async () => {
    let clock = T0;
    const { sim, account } = await simulator({ now: () => clock });
    const add = (label: string, emittedDaysAgo: number, status: 'completed' | 'pending' | 'declined' = 'completed') => {
      const at = iso(T0 - emittedDaysAgo * 86_400_000);
      return sim.data.addTransaction({ bankAccountId: account.id, amount: 10, label, status, emittedAt: at, createdAt: at });
    };
    const old = add('old', 40);
    add('recent', 2);
    const pending = add('pending', 1, 'pending');
    add('declined', 1, 'declined');
    clock = T0 + 3_600_000;
    const receipt = sim.data.attachReceipt(old.id, { fileName: 'late.pdf', contentType: 'application/pdf', size: 1234 });
    expect(sim.data.transaction(old.id)!.updatedAt).toBe(iso(clock));

    const qonto = client(sim);
    const labels = async (q: Parameters<QontoClient['listTransactionsPage']>[0]) =>
      (await qonto.listTransactionsPage(q)).transactions.map((t) => t.label);

    // Oldest update first: recent (2 days ago), pending (1 day ago), old (its receipt, just now).
    expect(await labels({ bankAccountId: account.id })).toEqual(['recent', 'pending', 'old']);
    const sinceCursor = await qonto.listTransactionsPage({ bankAccountId: account.id, updatedAtFrom: iso(T0) });
    expect(sinceCursor.transactions.map((t) => t.id)).toEqual([old.id]);
    expect(sinceCursor.transactions[0]!.attachment_ids).toEqual([receipt.id]);
    expect(sinceCursor.transactions[0]!.attachments?.map((a) => [a.id, a.file_name, a.file_size])).toEqual([
      [receipt.id, 'late.pdf', 1234],
    ]);
    expect(await labels({ bankAccountId: account.id, emittedAtFrom: iso(T0 - 3 * 86_400_000) })).toEqual(['recent', 'pending']);
    expect(await labels({ bankAccountId: account.id, statuses: ['declined'] })).toEqual(['declined']);
    expect(await labels({ bankAccountId: account.id, statuses: ['completed'] })).toEqual(['recent', 'old']);
    expect(pending.settledAt).toBeNull();
    const cursorCall = sim.requests.find((r) => r.path.includes('updated_at_from'))!;
    expect(new URL(cursorCall.path, sim.url).searchParams.get('updated_at_from')).toBe(iso(T0));
  });

  it.each(['string', 'decimal-comma'] as const)('reads amounts sent as %s and file sizes sent as strings', async (amountFormat) => {
    const { sim, account } = await simulator({ amountFormat });
    const tx = sim.data.addTransaction({ bankAccountId: account.id, amount: 1234.5, label: 'Fnac' });
    const receipt = sim.data.attachReceipt(tx.id, { fileName: 'ticket.png', contentType: 'image/png', size: 666 });
    const raw = (await (
      await fetch(`${sim.url}/v2/transactions?bank_account_id=${account.id}&includes[]=attachments`, {
        headers: { authorization: `${KEY.login}:${KEY.secret}` },
      })
    ).json()) as { transactions: { amount: unknown; attachments: { file_size: unknown }[] }[] };
    expect(raw.transactions[0]!.amount).toBe(amountFormat === 'string' ? '1234.50' : '1234,50');
    expect(raw.transactions[0]!.attachments[0]!.file_size).toBe('666');

    const qonto = client(sim);
    const [parsed] = (await qonto.listTransactionsPage({ bankAccountId: account.id })).transactions;
    expect(parsed!.amount).toBe(1234.5);
    expect(parsed!.attachments![0]!.file_size).toBe(666);
    expect((await qonto.getAttachment(receipt.id)).file_size).toBe(666);
  });

  it('authenticates with a bearer token and reads the caller membership and all memberships', async () => {
    const { sim } = await simulator();
    const me = sim.data.addMembership({ firstName: 'Chloé', lastName: 'Lefèvre', role: 'accountant' });
    for (let i = 0; i < 104; i++) sim.data.addMembership({ firstName: 'M', lastName: String(i) });
    sim.data.addMembership({ firstName: 'Inv', lastName: 'Ited', role: null, status: 'invitable' });
    const token = sim.issueAccessToken(me.id);
    let calls = 0;
    const oauth = client(sim, {
      auth: {
        kind: 'oauth',
        getAccessToken: async () => {
          calls++;
          return token;
        },
      },
    });
    const membership = await oauth.getMembership();
    expect(membership).toMatchObject({ id: me.id, role: 'accountant', first_name: 'Chloé', email: 'chloé.lefèvre@example.com' });
    expect(sim.requests.at(-1)!.headers.authorization).toBe(`Bearer ${token}`);

    const all = await oauth.listMemberships();
    expect(all).toHaveLength(106);
    expect(all.at(-1)).toMatchObject({ role: null, status: 'invitable' });
    expect(sim.requests.filter((r) => r.path.startsWith('/v2/memberships')).map((r) => new URL(r.path, sim.url).searchParams.get('page'))).toEqual(['1', '2']);
    expect(calls).toBe(3);

    // The caller's own membership is an OAuth-only endpoint.
    const withKey = await caught(client(sim).getMembership());
    expect(withKey).toBeInstanceOf(FatalError);
    expect((withKey as FatalError).status).toBe(403);
  });

  it('reports a missing staging token as a clear fatal error, and sends it when configured', async () => {
    const { sim } = await simulator({ stagingToken: 'stg-123' });
    const error = await caught(client(sim).getOrganization());
    expect(error).toBeInstanceOf(FatalError);
    expect((error as Error).message).toMatch(/HTML instead of JSON.*missing X-Qonto-Staging-Token\?/);
    expect(sim.requests).toHaveLength(1);

    const org = await client(sim, { stagingToken: 'stg-123' }).getOrganization();
    expect(org.slug).toBe('acme-sas-4242');
    expect(sim.requests.at(-1)!.headers['x-qonto-staging-token']).toBe('stg-123');
  });

  it('streams an attachment byte-exact from the signed URL, without Qonto credentials', async () => {
    const { sim, account } = await simulator();
    const tx = sim.data.addTransaction({ bankAccountId: account.id, amount: 5, label: 'Big' });
    const size = 3 * 1024 * 1024 + 7;
    const receipt = sim.data.attachReceipt(tx.id, { fileName: 'Scan: 03/2025?.pdf', contentType: 'application/pdf', size });
    const download = await client(sim).openAttachment(receipt.id);
    expect(download).toMatchObject({ size, contentType: 'application/pdf', fileName: 'Scan: 03/2025?.pdf' });
    expect(await sha256(download.body)).toEqual({ hex: attachmentSha256(receipt.id, size), bytes: size });

    const [meta, s3] = sim.requests.slice(-2);
    expect(meta!.path).toBe(`/v2/attachments/${receipt.id}`);
    expect(s3!.path).toMatch(new RegExp(`^/s3/attachments/${receipt.id}\\?.*X-Amz-Expires=1800`));
    expect(s3!.headers.authorization).toBeUndefined();
  });

  it('reads probative copies leniently and downloads an available one from its own URL', async () => {
    const { sim, account } = await simulator();
    const tx = sim.data.addTransaction({ bankAccountId: account.id, amount: 5, label: 'Signed' });
    const receipt = sim.data.attachReceipt(tx.id, { fileName: 'scan.jpg', contentType: 'image/jpeg', size: 900, probative: { status: 'pending' } });
    const qonto = client(sim);
    expect((await qonto.getAttachment(receipt.id)).probative_attachment).toEqual({ status: 'pending' });
    const notYet = await caught(qonto.openAttachment(receipt.id, undefined, 'probative'));
    expect(notYet).toBeInstanceOf(NotFoundError);

    sim.data.setProbative(receipt.id, { status: 'available', size: 12_345 });
    expect((await qonto.getAttachment(receipt.id)).probative_attachment).toMatchObject({ status: 'available', file_size: 12_345, file_name: 'scan.pdf' });
    const download = await qonto.openAttachment(receipt.id, undefined, 'probative');
    expect(download).toMatchObject({ size: 12_345, contentType: 'application/pdf', fileName: 'scan.pdf' });
    expect(await sha256(download.body)).toEqual({ hex: attachmentSha256(probativeContentKey(receipt.id), 12_345), bytes: 12_345 });
    expect(sim.requests.at(-1)!.path).toMatch(/^\/s3\/probative-attachments\//);

    // Statuses Qonto may add, a malformed copy object, or none at all never fail the receipt itself.
    const parse = (probative: unknown) => AttachmentSchema.parse({ id: 'a', file_name: 'x.pdf', file_size: '1', file_content_type: 'application/pdf', url: 'u', probative_attachment: probative });
    expect(parse({ status: 'processing' }).probative_attachment).toEqual({ status: 'processing' });
    expect(parse({ status: 'available', file_size: 'lots' }).probative_attachment).toBeUndefined();
    expect(parse(null).probative_attachment).toBeUndefined();
    expect(AttachmentSchema.parse({ id: 'a', file_name: 'x.pdf', file_size: 1, file_content_type: 'application/pdf', url: 'u' }).probative_attachment).toBeUndefined();
  });

  it('downloads the demo organization\'s 50 MB receipt byte-exact', async () => {
    const { sim } = await simulator();
    const demo = seedDemo(sim.data, { receipts: 5, bigFile: { bytes: 50 * 1024 * 1024 } });
    const download = await client(sim).openAttachment(demo.bigAttachmentId!);
    expect(download.size).toBe(50 * 1024 * 1024);
    expect(await sha256(download.body)).toEqual({ hex: attachmentSha256(demo.bigAttachmentId!, download.size), bytes: download.size });
  });

  it('hands the body over before it has fully arrived; a connection lost midway is a RetryableError', async () => {
    const { sim, account } = await simulator();
    const tx = sim.data.addTransaction({ bankAccountId: account.id, amount: 5, label: 'Cut' });
    const size = 2 * 1024 * 1024;
    const receipt = sim.data.attachReceipt(tx.id, { fileName: 'cut.pdf', contentType: 'application/pdf', size });
    sim.faults.add({ path: '/s3/attachments/' }, { kind: 'drop-after-bytes', bytes: 300_000 });
    const download = await client(sim).openAttachment(receipt.id);
    expect(download.size).toBe(size);
    const received: Buffer[] = [];
    const error = await caught(
      (async () => {
        for await (const chunk of download.body) received.push(Buffer.from(chunk));
      })(),
    );
    expect(error).toBeInstanceOf(RetryableError);
    expect((error as Error).message).toMatch(/interrupted/);
    const got = Buffer.concat(received);
    expect(got.length).toBeGreaterThan(0);
    expect(got.length).toBeLessThanOrEqual(300_000);
    expect(got.equals(attachmentBuffer(receipt.id, got.length))).toBe(true);
  });

  it('retries an API request and a download that are never answered', async () => {
    const { sim, account } = await simulator();
    const tx = sim.data.addTransaction({ bankAccountId: account.id, amount: 5, label: 'Hung' });
    const receipt = sim.data.attachReceipt(tx.id, { fileName: 'hung.pdf', contentType: 'application/pdf', size: 200_000 });
    sim.faults.add({ path: '/v2/attachments/' }, { kind: 'stall' });
    sim.faults.add({ path: '/s3/attachments/' }, { kind: 'stall' });
    const download = await client(sim, { deadlines: { idleMs: 300 } }).openAttachment(receipt.id);
    expect(await sha256(download.body)).toEqual({ hex: attachmentSha256(receipt.id, 200_000), bytes: 200_000 });
    expect(sim.faults.pending()).toBe(0);
  });

  it('fails a download whose body stalls midway with a RetryableError, after the bytes that came', async () => {
    const { sim, account } = await simulator();
    const tx = sim.data.addTransaction({ bankAccountId: account.id, amount: 5, label: 'Stalled' });
    const receipt = sim.data.attachReceipt(tx.id, { fileName: 'stalled.pdf', contentType: 'application/pdf', size: 2 * 1024 * 1024 });
    sim.faults.add({ path: '/s3/attachments/' }, { kind: 'stall-body', bytes: 100_000 });
    const download = await client(sim, { deadlines: { idleMs: 300 } }).openAttachment(receipt.id);
    let received = 0;
    const error = await caught(
      (async () => {
        for await (const chunk of download.body) received += chunk.byteLength;
      })(),
    );
    expect(error).toBeInstanceOf(RetryableError);
    expect(received).toBe(100_000);
  });

  it('refuses, without sending anything, a download link that is not https or points at a non-public address', async () => {
    const { sim } = await simulator();
    for (const link of [
      'http://storage.example.com/a.pdf',
      'ftp://storage.example.com/a.pdf',
      'file:///etc/passwd',
      'https://127.0.0.1:1/a.pdf',
      'https://localhost/a.pdf',
      'https://[::1]/a.pdf',
      'https://10.1.2.3/a.pdf',
      'https://169.254.169.254/latest/meta-data/',
      'https://[::ffff:192.168.1.1]/a.pdf',
    ]) {
      const error = await caught(client(sim).fetchDownload(link, 'download of attachment x'));
      expect(error, link).toBeInstanceOf(FatalError);
      expect((error as Error).message, link).toMatch(/refused/);
    }
  });

  it('trusts the http API base\'s own download links only for a local simulator (a loopback base)', async () => {
    const sent: string[] = [];
    const recording: typeof fetch = async (input) => {
      sent.push(input instanceof Request ? input.url : input.toString());
      return new Response('x');
    };
    for (const base of ['http://qonto.internal.example:8080', 'http://10.0.0.5:4010']) {
      const qonto = new QontoClient({ baseUrl: base, auth: { kind: 'apiKey', ...KEY }, fetch: recording });
      const error = await caught(qonto.fetchDownload(`${base}/s3/attachments/a?Signature=1`, 'download of attachment a'));
      expect(error, base).toBeInstanceOf(FatalError);
      expect((error as Error).message, base).toMatch(/refused/);
    }
    expect(sent).toEqual([]);
    const local = new QontoClient({ baseUrl: 'http://127.0.0.1:4010', auth: { kind: 'apiKey', ...KEY }, fetch: recording });
    await local.fetchDownload('http://127.0.0.1:4010/s3/attachments/a?Signature=1', 'download of attachment a');
    expect(sent).toEqual(['http://127.0.0.1:4010/s3/attachments/a?Signature=1']);
  });

  it('follows a redirect within the storage origin, and refuses one to another scheme or a non-public address', async () => {
    const { sim, account } = await simulator();
    const tx = sim.data.addTransaction({ bankAccountId: account.id, amount: 5, label: 'Moved' });
    const receipt = sim.data.attachReceipt(tx.id, { fileName: 'moved.pdf', contentType: 'application/pdf', size: 50_000 });
    const qonto = client(sim);
    const fresh = (await qonto.getAttachment(receipt.id)).url;

    sim.faults.add({ path: '/s3/attachments/' }, { kind: 'redirect', location: fresh });
    const followed = await qonto.fetchDownload(fresh, 'download');
    expect(await sha256(followed.body!)).toEqual({ hex: attachmentSha256(receipt.id, 50_000), bytes: 50_000 });

    // Another local server (loopback, not the trusted origin) must never be reached.
    const { sim: other } = await simulator();
    for (const location of [`${other.url}/s3/attachments/${receipt.id}`, 'file:///etc/passwd', 'https://192.168.0.10/x.pdf']) {
      sim.faults.add({ path: '/s3/attachments/' }, { kind: 'redirect', location });
      const error = await caught(qonto.fetchDownload(fresh, 'download'));
      expect(error, location).toBeInstanceOf(FatalError);
    }
    expect(other.requests).toHaveLength(0);

    sim.faults.add({ path: '/s3/attachments/' }, { kind: 'redirect', location: fresh }, 10);
    const loop = await caught(qonto.fetchDownload(fresh, 'download'));
    expect(loop).toBeInstanceOf(FatalError);
    expect((loop as Error).message).toMatch(/more than 5 redirects/);
  });

  it('stops a download when the caller aborts, with the abort reason rather than a retryable error', async () => {
    const { sim, account } = await simulator();
    const tx = sim.data.addTransaction({ bankAccountId: account.id, amount: 5, label: 'Abort' });
    const receipt = sim.data.attachReceipt(tx.id, { fileName: 'a.pdf', contentType: 'application/pdf', size: 5_000_000 });
    const controller = new AbortController();
    const download = await client(sim).openAttachment(receipt.id, controller.signal);
    const reader = download.body.getReader();
    expect((await reader.read()).done).toBe(false);
    controller.abort();
    const error = await caught(
      (async () => {
        for (;;) if ((await reader.read()).done) return;
      })(),
    );
    expect(error).not.toBeInstanceOf(RetryableError);
    expect((error as Error).name).toBe('AbortError');
  });

  it('fetches a fresh URL once when the first one has expired', async () => {
    let clock = T0;
    const { sim, account } = await simulator({ now: () => clock });
    const tx = sim.data.addTransaction({ bankAccountId: account.id, amount: 5, label: 'Late' });
    const receipt = sim.data.attachReceipt(tx.id, { fileName: 'r.jpg', contentType: 'image/jpeg', size: 50_000 });
    let s3Calls = 0;
    // The clock jumps past the URL's 30 minutes between the metadata call and the first download.
    const slowFetch: typeof fetch = (input, init) => {
      if ((input instanceof Request ? input.url : String(input)).includes('/s3/') && s3Calls++ === 0) clock += 31 * 60_000;
      return fetch(input, init);
    };
    const download = await client(sim, { fetch: slowFetch }).openAttachment(receipt.id);
    expect((await readAll(download.body)).equals(attachmentBuffer(receipt.id, 50_000))).toBe(true);
    expect(s3Calls).toBe(2);
    expect(sim.requests.filter((r) => r.path === `/v2/attachments/${receipt.id}`)).toHaveLength(2);

    // A URL refused again after the refetch is not retried forever.
    let always = 0;
    const alwaysLate: typeof fetch = (input, init) => {
      if ((input instanceof Request ? input.url : String(input)).includes('/s3/')) {
        always++;
        clock += 31 * 60_000;
      }
      return fetch(input, init);
    };
    const error = await caught(client(sim, { fetch: alwaysLate }).openAttachment(receipt.id));
    expect(error).toBeInstanceOf(FatalError);
    expect((error as Error).message).toMatch(/403: AccessDenied: Request has expired even with a fresh URL/);
    expect((error as Error).message).not.toMatch(/X-Amz-Signature/);
    expect(always).toBe(2);
  });

  it('waits out a 429 with Retry-After: 1 and then succeeds', async () => {
    const { sim } = await simulator();
    sim.faults.add({ path: '/v2/organization' }, { kind: 'status', status: 429, retryAfterSec: 1 });
    const waits: number[] = [];
    const started = Date.now();
    const org = await client(sim, { retry: { ...FAST_RETRY, onRetry: (_e, _a, ms) => waits.push(ms) } }).getOrganization();
    expect(org.slug).toBe('acme-sas-4242');
    expect(waits).toEqual([1000]);
    expect(Date.now() - started).toBeGreaterThanOrEqual(990);
    expect(sim.faults.served).toBe(1);
  });

  it('holds back every request of clients sharing a gate while Qonto\'s 429 window lasts', async () => {
    const { sim, account } = await simulator();
    sim.faults.add({ path: '/v2/organization' }, { kind: 'status', status: 429, retryAfterSec: 1 });
    const sent: { path: string; at: number }[] = [];
    let throttledAt: number | undefined;
    const recording: typeof fetch = async (input, init) => {
      sent.push({ path: new URL(input instanceof Request ? input.url : input.toString()).pathname, at: performance.now() });
      const res = await fetch(input, init);
      if (res.status === 429) throttledAt = performance.now();
      return res;
    };
    const gate = new BackoffGate();
    // The organization read and the listing of an account: two activities, one gate (services.ts).
    const organization = client(sim, { fetch: recording, gate }).getOrganization();
    while (throttledAt === undefined) await new Promise((r) => setImmediate(r));
    await client(sim, { fetch: recording, gate }).listTransactionsPage({ bankAccountId: account.id });
    const listing = sent.find((r) => r.path === '/v2/transactions')!;
    // Sent only once the 1 s window had passed (a lower bound: a loaded machine only makes it later).
    expect(listing.at - throttledAt).toBeGreaterThanOrEqual(990);
    expect((await organization).slug).toBe('acme-sas-4242');
  });

  it('retries 503 answers and dropped connections, on the API and on downloads', async () => {
    const { sim, account } = await simulator();
    const tx = sim.data.addTransaction({ bankAccountId: account.id, amount: 5, label: 'Flaky' });
    const receipt = sim.data.attachReceipt(tx.id, { fileName: 'f.pdf', contentType: 'application/pdf', size: 10_000 });
    sim.faults.add({ path: '/v2/transactions' }, { kind: 'status', status: 503 }, 2);
    sim.faults.add({ path: '/v2/transactions' }, { kind: 'drop' });
    sim.faults.add({ path: '/v2/attachments/' }, { kind: 'drop' });
    sim.faults.add({ path: '/s3/attachments/' }, { kind: 'status', status: 503 });
    sim.faults.add({ path: '/s3/attachments/' }, { kind: 'drop' });
    const qonto = client(sim);
    const page = await qonto.listTransactionsPage({ bankAccountId: account.id });
    expect(page.transactions.map((t) => t.id)).toEqual([tx.id]);
    const download = await qonto.openAttachment(receipt.id);
    expect((await readAll(download.body)).equals(attachmentBuffer(receipt.id, 10_000))).toBe(true);
    expect(sim.faults.served).toBe(6);
    expect(sim.faults.pending()).toBe(0);
  });

  it('gives up with a RetryableError once the attempts are spent', async () => {
    const { sim } = await simulator();
    sim.faults.add({ path: '/v2/organization' }, { kind: 'status', status: 502 }, 10);
    const error = await caught(client(sim, { retry: { ...FAST_RETRY, attempts: 3 } }).getOrganization());
    expect(error).toBeInstanceOf(RetryableError);
    expect((error as RetryableError).status).toBe(502);
    expect(sim.faults.served).toBe(3);
  });

  it('turns a refused server into a RetryableError', async () => {
    const { sim } = await simulator();
    await sim.close();
    const error = await caught(client(sim, { retry: { ...FAST_RETRY, attempts: 2 } }).getOrganization());
    expect(error).toBeInstanceOf(RetryableError);
  });

  it('maps 401 to ReconnectRequiredError without leaking the secret', async () => {
    const { sim } = await simulator();
    const wrong = client(sim, { auth: { kind: 'apiKey', login: KEY.login, secret: 'ffffffffffffffffffffffffffffffff' } });
    const error = await caught(wrong.getOrganization());
    expect(error).toBeInstanceOf(ReconnectRequiredError);
    expect((error as ReconnectRequiredError).code).toBe('unauthorized');
    expect((error as Error).message).not.toContain('ffffffff');
    expect(sim.requests).toHaveLength(1);

    const member = sim.data.addMembership({ firstName: 'A', lastName: 'B', role: 'owner' });
    const token = sim.issueAccessToken(member.id);
    const oauth = client(sim, { auth: { kind: 'oauth', getAccessToken: async () => token } });
    await oauth.getMembership();
    sim.revokeAccessTokens(member.id);
    const revoked = await caught(oauth.getMembership());
    expect(revoked).toBeInstanceOf(ReconnectRequiredError);
    expect((revoked as Error).message).not.toContain(token);
  });

  it('maps 404 to NotFoundError, a missing scope to FatalError, and a bad query to FatalError with the detail', async () => {
    const { sim, account } = await simulator();
    expect(await caught(client(sim).getAttachment('00000000-0000-4000-8000-000000000000'))).toBeInstanceOf(NotFoundError);
    expect(await caught(client(sim).listTransactionsPage({ bankAccountId: 'nope' }))).toBeInstanceOf(NotFoundError);

    const member = sim.data.addMembership({ firstName: 'A', lastName: 'B', role: 'owner' });
    const token = sim.issueAccessToken(member.id, { scopes: ['membership.read'] });
    const scoped = await caught(client(sim, { auth: { kind: 'oauth', getAccessToken: async () => token } }).getOrganization());
    expect(scoped).toBeInstanceOf(FatalError);
    expect((scoped as Error).message).toMatch(/403: missing required OAuth scope: organization.read/);

    const bad = await caught(client(sim).listTransactionsPage({ bankAccountId: account.id, perPage: 101 }));
    expect(bad).toBeInstanceOf(FatalError);
    expect((bad as FatalError).status).toBe(422);
    expect((bad as Error).message).toMatch(/per_page must be an integer between 1 and 100 \(per_page\) \[trace [0-9a-f]{32}\]/);
  });

  it('does not retry a download whose attachment is gone', async () => {
    const { sim, account } = await simulator();
    const tx = sim.data.addTransaction({ bankAccountId: account.id, amount: 5, label: 'Gone' });
    const receipt = sim.data.attachReceipt(tx.id, { fileName: 'g.pdf', contentType: 'application/pdf', size: 100 });
    sim.data.removeAttachment(receipt.id);
    expect(await caught(client(sim).openAttachment(receipt.id))).toBeInstanceOf(NotFoundError);
    expect(sim.requests).toHaveLength(1);
  });
});
