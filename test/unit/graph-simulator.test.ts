import { randomBytes } from 'node:crypto';
import { request } from 'node:http';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { referenceQuickXorHash } from '../support/reference-quickxorhash.js';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { QuickXorHash } from '../../src/simulators/graph/quick-xor-hash.js';
import { type GraphSimulator, startGraphSimulator } from '../../src/simulators/graph/server.js';

const USERS: Record<string, string> = { 'tok-alice': 'alice', 'tok-bob': 'bob' };
const UNIT = 327_680;
const APPROOT = 'Apps/Qonto Receipts';

let sim: GraphSimulator;
let storageDir: string;

beforeEach(async () => {
  storageDir = await mkdtemp(join(tmpdir(), 'graph-sim-test-'));
  sim = await startGraphSimulator({
    resolveToken: (token) => (USERS[token] ? { userId: USERS[token] } : null),
    storageDir,
  });
});

afterEach(async () => {
  await sim.close();
  await rm(storageDir, { recursive: true, force: true });
});

interface Answer {
  status: number;
  headers: Headers;
  body: any;
}

async function call(
  method: string,
  path: string,
  opts: { json?: unknown; body?: Buffer | string; token?: string | null; headers?: Record<string, string> } = {},
): Promise<Answer> {
  const headers: Record<string, string> = { ...opts.headers };
  if (opts.token !== null) headers.authorization = `Bearer ${opts.token ?? 'tok-alice'}`;
  if (opts.json !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(path.startsWith('http') ? path : `${sim.url}${path}`, {
    method,
    headers,
    body: opts.json !== undefined ? JSON.stringify(opts.json) : opts.body,
    redirect: 'manual',
  });
  const text = await res.text();
  let body: unknown = text;
  try {
    body = text === '' ? undefined : JSON.parse(text);
  } catch {
    // not JSON: keep the text
  }
  return { status: res.status, headers: res.headers, body };
}

function expectGraphError(res: Answer, status: number, code: string, innerCode?: string): void {
  expect(res.status).toBe(status);
  expect(res.body.error.code).toBe(code);
  expect(typeof res.body.error.message).toBe('string');
  expect(res.body.error.innerError['request-id']).toMatch(/^[0-9a-f-]{36}$/);
  expect(res.body.error.innerError.date).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d$/);
  if (innerCode !== undefined) expect(res.body.error.innerError.code).toBe(innerCode);
}

const mkdir = (parentAddress: string, name: string, behavior?: string) =>
  call('POST', `/me/drive/${parentAddress}/children`, {
    json: { name, folder: {}, ...(behavior ? { '@microsoft.graph.conflictBehavior': behavior } : {}) },
  });

const put = (address: string, body: Buffer | string, query = '') => call('PUT', `/me/drive/${address}/content${query}`, { body });

/** Opens an upload session below the app folder; `item` is the createUploadSession item body. */
async function openSession(relPath: string, item: Record<string, unknown> = {}): Promise<Answer> {
  const path = relPath.split('/').map(encodeURIComponent).join('/');
  return call('POST', `/me/drive/special/approot:/${path}:/createUploadSession`, { json: { item } });
}

function putFragment(url: string, data: Buffer, start: number, total: number, headers: Record<string, string> = {}): Promise<Answer> {
  return call('PUT', url, {
    token: null,
    body: data,
    headers: { 'content-range': `bytes ${start}-${start + data.length - 1}/${total}`, ...headers },
  });
}

describe('quickXorHash', () => {
  it('matches the reference vectors, fed whole or in pieces', () => {
    expect(new QuickXorHash().digest()).toBe('AAAAAAAAAAAAAAAAAAAAAAAAAAA=');
    expect(new QuickXorHash().update(Buffer.from('hello world')).digest()).toBe('aCgDG9jwBhDc4Q1yawMZAAAAAAA=');
    expect(new QuickXorHash().update(Buffer.from([0x4a])).digest()).toBe('SgAAAAAAAAAAAAAAAQAAAAAAAAA=');
    // rclone's 222-byte vector wraps the 160-bit state several times.
    const v222 = Buffer.from(
      'PfxMcUd0vIW6VbHG/uj/Y0W6qEoKmyBD0nYebEKazKaKG+UaDqBEcmQjbfQeVnVLuodMoPp7P7TR1htX5n2VnkHh22xDyoJ8C/ZQKiSNqQfXvh83judf4RVr9exJCud8Uvgip6aVZTaPrJHVjQhMCp/dEnGvqg0oN5OVkM2qqAXvA0teKUDhgNM71sDBVBCGXxNOR2bpbD1iM4dnuT0ey4L+loXEHTL0fqMeUcEi2asgImnlNakwenDzz0x57aBwyq3AspCFGB1ncX4yYCr/OaCcS5OKi/00WH+wNQU3',
      'base64',
    );
    const pieces = new QuickXorHash();
    for (let i = 0; i < v222.length; i += 7) pieces.update(v222.subarray(i, i + 7));
    expect(pieces.digest()).toBe('QX/YEpG0gDsmhEpCdWhsxDzsfVE=');
  });

  it('agrees with a BigInt reference on random data, and clones are independent', () => {
    const data = randomBytes(5_000);
    const h = new QuickXorHash().update(data.subarray(0, 1234));
    const copy = h.clone();
    copy.update(Buffer.from('garbage'));
    h.update(data.subarray(1234));
    expect(h.digest()).toBe(referenceQuickXorHash(data));
    expect(copy.digest()).not.toBe(h.digest());
  });

  it('agrees with the reference on unaligned chunks longer than its scratch rows', () => {
    const data = randomBytes(300_007);
    const shifted = Buffer.alloc(data.length + 3);
    data.copy(shifted, 3);
    const h = new QuickXorHash();
    for (let i = 0; i < data.length; i += 23_459) h.update(shifted.subarray(3 + i, 3 + Math.min(i + 23_459, data.length)));
    expect(h.digest()).toBe(referenceQuickXorHash(data));
    // Aligned data is read in place, in one run of rows however long.
    expect(data.byteOffset % 4).toBe(0);
    expect(new QuickXorHash().update(data).digest()).toBe(referenceQuickXorHash(data));
  });
});

describe('auth and drive', () => {
  it('answers 401 InvalidAuthenticationToken without a token or with an unknown one', async () => {
    expectGraphError(await call('GET', '/me/drive', { token: null }), 401, 'InvalidAuthenticationToken');
    const bad = await call('GET', '/me/drive', { token: 'nope', headers: { 'client-request-id': 'abc-123' } });
    expectGraphError(bad, 401, 'InvalidAuthenticationToken');
    expect(bad.body.error.innerError['client-request-id']).toBe('abc-123');
  });

  it('GET /me/drive gives a personal drive with quota; each user has their own drive', async () => {
    const alice = await call('GET', '/me/drive');
    expect(alice.status).toBe(200);
    expect(alice.body.id).toMatch(/^[0-9a-f]{16}$/);
    expect(alice.body.driveType).toBe('personal');
    expect(alice.body.quota).toEqual({ total: 5 * 1024 ** 3, used: 0, remaining: 5 * 1024 ** 3, deleted: 0, state: 'normal' });
    const bob = await call('GET', '/me/drive', { token: 'tok-bob' });
    expect(bob.body.id).not.toBe(alice.body.id);
    expect(sim.drive('alice').id).toBe(alice.body.id);
  });

  it('creates the app folder on first use of special/approot', async () => {
    expect(sim.drive('alice').getByPath(APPROOT)).toBeUndefined();
    const first = await call('GET', '/me/drive/special/approot');
    expect(first.status).toBe(200);
    expect(first.body.name).toBe('Qonto Receipts');
    expect(first.body.specialFolder).toEqual({ name: 'approot' });
    expect(first.body.folder).toEqual({ childCount: 0 });
    expect(first.body.parentReference.path).toBe('/drive/root:/Apps');
    const again = await call('GET', '/me/drive/special/approot');
    expect(again.body.id).toBe(first.body.id);
    expect(sim.drive('alice').listFolders().map((f) => f.path)).toEqual(['Apps', APPROOT]);
  });
});

describe('folders and addressing', () => {
  it('creates folders with fail / rename / replace semantics, case-insensitively', async () => {
    const created = await mkdir('special/approot', 'Main (1234)');
    expect(created.status).toBe(201);
    expect(created.body.folder).toEqual({ childCount: 0 });
    expect(created.body.parentReference.path).toBe('/drive/root:/Apps/Qonto%20Receipts');

    expectGraphError(await mkdir('special/approot', 'Main (1234)', 'fail'), 409, 'nameAlreadyExists');
    expectGraphError(await mkdir('special/approot', 'MAIN (1234)'), 409, 'nameAlreadyExists'); // default is fail
    const renamed = await mkdir('special/approot', 'main (1234)', 'rename');
    expect(renamed.status).toBe(201);
    expect(renamed.body.name).toBe('main (1234) 1');
    const replaced = await mkdir('special/approot', 'Main (1234)', 'replace');
    expect(replaced.status).toBe(200);
    expect(replaced.body.id).toBe(created.body.id);

    const query = await call('POST', `/me/drive/special/approot/children?@microsoft.graph.conflictBehavior=rename`, {
      json: { name: 'Main (1234)', folder: {} },
    });
    expect(query.body.name).toBe('Main (1234) 2');
    expectGraphError(await call('POST', '/me/drive/special/approot/children', { json: { name: 'x' } }), 400, 'invalidRequest');
    expectGraphError(await mkdir('special/approot', 'y', 'overwrite'), 400, 'invalidRequest');
  });

  it('resolves paths case-insensitively with per-segment decoding, ids exactly', async () => {
    const folder = await mkdir('special/approot', 'a#b%c d');
    const inner = await mkdir(`items/${folder.body.id}`, '2026');
    const viaRoot = await call('GET', '/me/drive/root:/apps/QONTO%20receipts/A%23B%25C%20D/2026:');
    expect(viaRoot.status).toBe(200);
    expect(viaRoot.body.id).toBe(inner.body.id);
    const viaApproot = await call('GET', '/me/drive/special/approot:/A%23b%25c%20d/2026');
    expect(viaApproot.body.id).toBe(inner.body.id);
    const relative = await call('GET', `/me/drive/items/${encodeURIComponent(folder.body.id)}:/2026:/children`);
    expect(relative.status).toBe(200);
    expect(relative.body.value).toEqual([]);
    const byDrive = await call('GET', `/drives/${sim.drive('alice').id.toUpperCase()}/items/${folder.body.id}`);
    expect(byDrive.body.id).toBe(folder.body.id);

    // %2F stays inside one segment: no folder has that name.
    expectGraphError(await call('GET', '/me/drive/special/approot:/a%23b%25c%20d%2F2026:'), 404, 'itemNotFound');
    // Ids are case-sensitive.
    expectGraphError(await call('GET', `/me/drive/items/${folder.body.id.toLowerCase()}`), 404, 'itemNotFound');
    // special/approot is case-sensitive too.
    expectGraphError(await call('GET', '/me/drive/special/AppRoot'), 400, 'invalidRequest');
  });

  it('refuses forbidden and reserved names and long paths with 400', async () => {
    const bad = ['a"b', 'a*b', 'a:b', 'a<b', 'a>b', 'a?b', 'a\\b', 'a|b', ' lead', 'trail ', 'dot.', 'CON', 'aux.py', 'Com1.txt', 'lpt9', 'nul', '.lock', 'Desktop.ini', '~$doc.docx', 'x_vti_y', ''];
    for (const name of bad) {
      const res = await mkdir('special/approot', name);
      expect(res.status, name).toBe(400);
      expect(res.body.error.code, name).toBe('invalidRequest');
    }
    expectGraphError(await put(`special/approot:/${encodeURIComponent('q?.pdf')}:`, 'x'), 400, 'invalidRequest');
    expect(sim.drive('alice').listFiles()).toEqual([]);

    // Apps/Qonto Receipts/ is 20 characters: a 379-character name makes a 399-character path (fine), 380 → 400.
    expect((await mkdir('special/approot', 'n'.repeat(379))).status).toBe(201);
    expectGraphError(await mkdir('special/approot', 'm'.repeat(380)), 400, 'invalidRequest', 'pathIsTooLong');
    expectGraphError(await put(`special/approot:/${'p'.repeat(376)}.pdf:`, 'x'), 400, 'invalidRequest', 'pathIsTooLong');
  });

  it('pages children with $top and an absolute nextLink', async () => {
    for (const name of ['e', 'B', 'a', 'd', 'C']) await mkdir('special/approot', name);
    const names: string[] = [];
    let next: string | undefined = '/me/drive/special/approot/children?$top=2';
    let pages = 0;
    while (next) {
      const page: Answer = await call('GET', next);
      expect(page.status).toBe(200);
      expect(page.body.value.length).toBeLessThanOrEqual(2);
      names.push(...page.body.value.map((i: { name: string }) => i.name));
      next = page.body['@odata.nextLink'];
      if (next) expect(next.startsWith(`${sim.url}/me/drive/special/approot/children?`)).toBe(true);
      pages++;
    }
    expect(pages).toBe(3);
    expect(names).toEqual(['a', 'B', 'C', 'd', 'e']);
  });
});

describe('simple upload', () => {
  it('creates (201) then replaces (200) with size and quickXorHash; parents are created', async () => {
    const first = await put('special/approot:/Main%20(1234)/2026/hello.txt:', 'hello world');
    expect(first.status).toBe(201);
    expect(first.body.size).toBe(11);
    expect(first.body.file).toEqual({ mimeType: 'text/plain', hashes: { quickXorHash: 'aCgDG9jwBhDc4Q1yawMZAAAAAAA=' } });
    expect(first.body.parentReference.path).toBe('/drive/root:/Apps/Qonto%20Receipts/Main%20(1234)/2026');
    expect(first.body.parentReference.driveId).toBe(sim.drive('alice').id);
    expect(first.body.eTag).toBeTruthy();
    expect(first.body.cTag).toBeTruthy();

    const second = await put('special/approot:/main (1234)/2026/HELLO.txt:', Buffer.from([0x4a]));
    expect(second.status).toBe(200);
    expect(second.body.id).toBe(first.body.id);
    expect(second.body.name).toBe('hello.txt');
    expect(second.body.file.hashes.quickXorHash).toBe('SgAAAAAAAAAAAAAAAQAAAAAAAAA=');
    expect(second.body.cTag).not.toBe(first.body.cTag);

    expectGraphError(await put('special/approot:/Main (1234)/2026/hello.txt:', 'x', '?@microsoft.graph.conflictBehavior=fail'), 409, 'nameAlreadyExists');
    const renamed = await put('special/approot:/Main (1234)/2026/hello.txt:', '', '?@microsoft.graph.conflictBehavior=rename');
    expect(renamed.status).toBe(201);
    expect(renamed.body.name).toBe('hello 1.txt');
    expect(renamed.body.file.hashes.quickXorHash).toBe('AAAAAAAAAAAAAAAAAAAAAAAAAAA=');

    const byId = await call('PUT', `/me/drive/items/${first.body.id}/content`, { body: 'hello world' });
    expect(byId.status).toBe(200);
    expect(byId.body.file.hashes.quickXorHash).toBe('aCgDG9jwBhDc4Q1yawMZAAAAAAA=');

    const files = sim.drive('alice').listFiles();
    expect(files.map((f) => f.path).sort()).toEqual([`${APPROOT}/Main (1234)/2026/hello 1.txt`, `${APPROOT}/Main (1234)/2026/hello.txt`]);
    // Bodies are on disk in the storage directory, one blob per file (the replaced ones are gone).
    expect((await readdir(storageDir)).filter((f) => f.startsWith('blob-'))).toHaveLength(2);
  });

  it('serves content through a pre-authenticated download URL', async () => {
    const data = randomBytes(100_000);
    const up = await put('special/approot:/r.pdf:', data);
    expect(up.body.file.mimeType).toBe('application/pdf');
    const redirect = await call('GET', `/me/drive/items/${up.body.id}/content`);
    expect(redirect.status).toBe(302);
    const location = redirect.headers.get('location')!;
    expect(location.startsWith(sim.uploadUrl)).toBe(true);
    const download = await fetch(location);
    expect(Buffer.from(await download.arrayBuffer()).equals(data)).toBe(true);
    const chunks: Buffer[] = [];
    for await (const chunk of sim.drive('alice').readFile(up.body.id)) chunks.push(chunk as Buffer);
    expect(Buffer.concat(chunks).equals(data)).toBe(true);
  });

  it('refuses bodies over 4 MiB with 413 and keeps nothing', async () => {
    const res = await put('special/approot:/big.pdf:', Buffer.alloc(4 * 1024 * 1024 + 1));
    expect(res.status).toBe(413);
    expect(sim.drive('alice').listFiles()).toEqual([]);
    expect((await put('special/approot:/max.pdf:', Buffer.alloc(4 * 1024 * 1024))).status).toBe(201);
  });

  it('a dropped simple upload leaves no file and no blob', async () => {
    sim.faults.add({ method: 'PUT', path: '/content' }, { kind: 'drop-after-bytes', bytes: 1000 });
    await expect(put('special/approot:/cut.pdf:', randomBytes(200_000))).rejects.toThrow();
    await vi.waitFor(() => expect(sim.requestLog.some((e) => e.status === 0)).toBe(true));
    // The handler removes the half-written blob once it sees the connection gone.
    await vi.waitFor(async () => expect((await readdir(storageDir)).filter((f) => f.startsWith('blob-'))).toEqual([]));
    expect(sim.drive('alice').getByPath(`${APPROOT}/cut.pdf`)).toBeUndefined();
  });
});

describe('upload sessions', () => {
  const TOTAL = 2 * UNIT + 1_000;

  it('uploads in fragments to the separate upload host and commits with the whole-file hash', async () => {
    const data = randomBytes(TOTAL);
    const session = await openSession('2026/big.pdf', { '@microsoft.graph.conflictBehavior': 'fail', fileSize: TOTAL });
    // The parent must exist for createUploadSession.
    expectGraphError(session, 404, 'itemNotFound');
    await mkdir('special/approot', '2026');
    const ok = await openSession('2026/big.pdf', { '@microsoft.graph.conflictBehavior': 'fail', fileSize: TOTAL });
    expect(ok.status).toBe(200);
    const url: string = ok.body.uploadUrl;
    expect(url.startsWith(`${sim.uploadUrl}/rup/`)).toBe(true);
    expect(sim.uploadUrl).not.toBe(sim.url.replace(/\/v1\.0$/, ''));
    expect(ok.body.nextExpectedRanges).toEqual(['0-']);
    expect(Date.parse(ok.body.expirationDateTime)).toBeGreaterThan(Date.now());
    expect(sim.drive('alice').uploadSessionCount()).toBe(1);

    const f1 = await putFragment(url, data.subarray(0, UNIT), 0, TOTAL);
    expect(f1.status).toBe(202);
    expect(f1.body.nextExpectedRanges).toEqual([`${UNIT}-`]);
    const f2 = await putFragment(url, data.subarray(UNIT, 2 * UNIT), UNIT, TOTAL);
    expect(f2.body.nextExpectedRanges).toEqual([`${2 * UNIT}-`]);
    expect(sim.drive('alice').getByPath(`${APPROOT}/2026/big.pdf`)).toBeUndefined(); // nothing visible yet
    const done = await putFragment(url, data.subarray(2 * UNIT), 2 * UNIT, TOTAL);
    expect(done.status).toBe(201);
    expect(done.body.name).toBe('big.pdf');
    expect(done.body.size).toBe(TOTAL);
    expect(done.body.file.hashes.quickXorHash).toBe(referenceQuickXorHash(data));
    expect(sim.drive('alice').getByPath(`${APPROOT}/2026/BIG.pdf`)).toMatchObject({ size: TOTAL, quickXorHash: referenceQuickXorHash(data) });
    expect(sim.drive('alice').uploadSessionCount()).toBe(0);
    expect(sim.drive('alice').counters).toMatchObject({ createUploadSession: 1, uploadFragments: 3 });
    expectGraphError(await call('GET', url, { token: null }), 404, 'itemNotFound');
  });

  it('enforces the fragment rules with 416 / 400 and keeps the session state unchanged', async () => {
    const data = randomBytes(TOTAL);
    const { body } = await openSession('rules.pdf', { fileSize: TOTAL });
    const url: string = body.uploadUrl;
    const status = async () => (await call('GET', url, { token: null })).body.nextExpectedRanges;

    expectGraphError(await call('PUT', url, { token: null, body: data.subarray(0, UNIT) }), 400, 'invalidRequest'); // no Content-Range
    expectGraphError(await putFragment(url, data.subarray(0, UNIT), 0, TOTAL + 1), 400, 'invalidRequest'); // total differs
    expectGraphError(await putFragment(url, data.subarray(0, 1000), 0, TOTAL), 416, 'invalidRange', 'fragmentLengthMismatch'); // not a 320 KiB multiple
    expectGraphError(
      await putFragment(url, data.subarray(0, UNIT), 0, TOTAL, { 'content-range': `bytes 0-${2 * UNIT - 1}/${TOTAL}` }),
      416,
      'invalidRange',
      'fragmentLengthMismatch',
    ); // Content-Length ≠ range length
    expectGraphError(await putFragment(url, data.subarray(UNIT, 2 * UNIT), UNIT, TOTAL), 416, 'invalidRange', 'fragmentOutOfOrder');
    expectGraphError(await putFragment(url, data.subarray(0, UNIT), 0, TOTAL, { 'content-range': `bytes 5-4/${TOTAL}` }), 400, 'invalidRequest');
    const chunked = await fetch(url, {
      method: 'PUT',
      headers: { 'content-range': `bytes 0-${UNIT - 1}/${TOTAL}` },
      body: new Blob([data.subarray(0, UNIT)]).stream(),
      duplex: 'half',
    });
    expect(chunked.status).toBe(400); // no Content-Length
    expect(await status()).toEqual(['0-']);

    expect((await putFragment(url, data.subarray(0, UNIT), 0, TOTAL)).status).toBe(202);
    expectGraphError(await putFragment(url, data.subarray(0, UNIT), 0, TOTAL), 416, 'invalidRange', 'fragmentOverlap');
    expect(await status()).toEqual([`${UNIT}-`]);
    // The last fragment may be any size; the whole file still hashes right.
    expect((await putFragment(url, data.subarray(UNIT), UNIT, TOTAL)).body.file.hashes.quickXorHash).toBe(referenceQuickXorHash(data));
  });

  it('refuses fragments of 60 MiB or more with 400', async () => {
    const size = 60 * 1024 * 1024;
    const { body } = await openSession('huge.bin');
    const res = await putFragment(body.uploadUrl, Buffer.alloc(size), 0, size + UNIT);
    expectGraphError(res, 400, 'invalidRequest');
    expect((await call('GET', body.uploadUrl, { token: null })).body.nextExpectedRanges).toEqual(['0-']);
  });

  it('answers 401 when the upload URL gets an Authorization header', async () => {
    const { body } = await openSession('auth.pdf');
    const res = await call('PUT', body.uploadUrl, {
      body: Buffer.alloc(UNIT),
      headers: { 'content-range': `bytes 0-${UNIT - 1}/${2 * UNIT}` },
    });
    expect(res.status).toBe(401);
    expect((await call('GET', body.uploadUrl, { token: null })).body.nextExpectedRanges).toEqual(['0-']);
  });

  it('DELETE cancels the session and discards its data', async () => {
    const { body } = await openSession('cancel.pdf');
    await putFragment(body.uploadUrl, randomBytes(UNIT), 0, 2 * UNIT);
    expect((await readdir(storageDir)).filter((f) => f.startsWith('part-'))).toHaveLength(1);
    expect((await call('DELETE', body.uploadUrl, { token: null })).status).toBe(204);
    expectGraphError(await call('GET', body.uploadUrl, { token: null }), 404, 'itemNotFound');
    expectGraphError(await putFragment(body.uploadUrl, randomBytes(UNIT), UNIT, 2 * UNIT), 404, 'itemNotFound');
    expect(sim.drive('alice').uploadSessionCount()).toBe(0);
    expect(await readdir(storageDir)).toEqual([]);
    expect(sim.drive('alice').listFiles()).toEqual([]);
  });

  it('expired sessions answer 404', async () => {
    const { body } = await openSession('late.pdf');
    await sim.drive('alice').expireUploadSessions();
    expectGraphError(await putFragment(body.uploadUrl, randomBytes(UNIT), 0, 2 * UNIT), 404, 'itemNotFound');
  });

  it('a fragment cut off by a dropped connection is discarded; the upload resumes from its start', async () => {
    const data = randomBytes(TOTAL);
    const { body } = await openSession('resume.pdf', { fileSize: TOTAL });
    const url: string = body.uploadUrl;
    expect((await putFragment(url, data.subarray(0, UNIT), 0, TOTAL)).status).toBe(202);
    sim.faults.add({ method: 'PUT', path: '/rup/' }, { kind: 'drop-after-bytes', bytes: 100_000 });
    await expect(putFragment(url, data.subarray(UNIT, 2 * UNIT), UNIT, TOTAL)).rejects.toThrow();
    const status = await call('GET', url, { token: null });
    expect(status.status).toBe(200);
    expect(status.body.nextExpectedRanges).toEqual([`${UNIT}-`]);
    expect((await putFragment(url, data.subarray(UNIT, 2 * UNIT), UNIT, TOTAL)).status).toBe(202);
    const done = await putFragment(url, data.subarray(2 * UNIT), 2 * UNIT, TOTAL);
    expect(done.status).toBe(201);
    expect(done.body.file.hashes.quickXorHash).toBe(referenceQuickXorHash(data));
  });

  it('a client abort mid-fragment is rolled back the same way', async () => {
    const data = randomBytes(TOTAL);
    const { body } = await openSession('abort.pdf', { fileSize: TOTAL });
    const url = new URL(body.uploadUrl);
    await new Promise<void>((resolve) => {
      const req = request(url, { method: 'PUT', headers: { 'content-range': `bytes 0-${UNIT - 1}/${TOTAL}`, 'content-length': UNIT } });
      req.on('error', () => resolve());
      req.write(data.subarray(0, 50_000), () => {
        req.destroy();
        resolve();
      });
    });
    await vi.waitFor(() => expect(sim.requestLog.some((e) => e.host === 'upload' && e.method === 'PUT' && e.status === 0)).toBe(true));
    expect((await call('GET', body.uploadUrl, { token: null })).body.nextExpectedRanges).toEqual(['0-']);
    expect((await putFragment(body.uploadUrl, data.subarray(0, UNIT), 0, TOTAL)).status).toBe(202);
    const done = await putFragment(body.uploadUrl, data.subarray(UNIT), UNIT, TOTAL);
    expect(done.body.file.hashes.quickXorHash).toBe(referenceQuickXorHash(data));
  });

  it('conflictBehavior: fail (default) at creation and again at completion; rename and replace', async () => {
    await put('special/approot:/taken.pdf:', 'old');
    expectGraphError(await openSession('taken.pdf'), 409, 'nameAlreadyExists');
    expect(sim.drive('alice').uploadSessionCount()).toBe(0);

    const data = randomBytes(UNIT + 10);
    const late = await openSession('late.pdf');
    await putFragment(late.body.uploadUrl, data.subarray(0, UNIT), 0, data.length);
    await sim.drive('alice').writeFile(`${APPROOT}/LATE.pdf`, 'someone else');
    expectGraphError(await putFragment(late.body.uploadUrl, data.subarray(UNIT), UNIT, data.length), 409, 'nameAlreadyExists');
    // The session survives and the last fragment was not accepted: it can be retried once the clash is gone.
    expect((await call('GET', late.body.uploadUrl, { token: null })).body.nextExpectedRanges).toEqual([`${UNIT}-`]);
    await sim.drive('alice').deleteByPath(`${APPROOT}/late.pdf`);
    const retried = await putFragment(late.body.uploadUrl, data.subarray(UNIT), UNIT, data.length);
    expect(retried.status).toBe(201);
    expect(retried.body.file.hashes.quickXorHash).toBe(referenceQuickXorHash(data));

    const renamed = await openSession('taken.pdf', { '@microsoft.graph.conflictBehavior': 'rename' });
    expect((await putFragment(renamed.body.uploadUrl, Buffer.from('new'), 0, 3)).body.name).toBe('taken 1.pdf');
    const original = sim.drive('alice').getByPath(`${APPROOT}/taken.pdf`)!;
    const replace = await openSession('taken.pdf', { '@microsoft.graph.conflictBehavior': 'replace' });
    const replaced = await putFragment(replace.body.uploadUrl, Buffer.from('newer'), 0, 5);
    expect(replaced.status).toBe(200);
    expect(replaced.body.id).toBe(original.id);
    expect(replaced.body.size).toBe(5);
  });

  it('ends the session with 404 when the target folder was deleted meanwhile', async () => {
    await mkdir('special/approot', '2026-03');
    const { body } = await openSession('2026-03/r.pdf');
    await sim.drive('alice').deleteByPath(`${APPROOT}/2026-03`);
    expectGraphError(await putFragment(body.uploadUrl, Buffer.from('abc'), 0, 3), 404, 'itemNotFound');
    expect(sim.drive('alice').uploadSessionCount()).toBe(0);
    expect(sim.drive('alice').listFolders().map((f) => f.path)).toEqual(['Apps', APPROOT]);
  });
});

describe('quota', () => {
  it('reports normal / nearing / critical / exceeded and counts the recycle bin', async () => {
    const drive = sim.drive('alice');
    drive.setQuota({ total: 1_000 });
    const state = async () => (await call('GET', '/me/drive')).body.quota;
    expect(await state()).toEqual({ total: 1000, used: 0, remaining: 1000, deleted: 0, state: 'normal' });
    const file = await put('special/approot:/a.txt:', Buffer.alloc(100));
    expect(await state()).toMatchObject({ used: 100, remaining: 900, state: 'normal' });
    drive.setQuota({ used: 801 });
    expect(await state()).toMatchObject({ used: 901, remaining: 99, state: 'nearing' });
    expect((await call('DELETE', `/me/drive/items/${file.body.id}`)).status).toBe(204);
    expect(await state()).toMatchObject({ used: 901, deleted: 100, state: 'nearing' }); // the bin still takes space
    drive.setQuota({ used: 891 });
    expect(await state()).toMatchObject({ remaining: 9, state: 'critical' });
    drive.setQuota({ used: 950 });
    expect(await state()).toMatchObject({ used: 1050, remaining: 0, state: 'exceeded' });
    expectGraphError(await mkdir('special/approot', 'more'), 507, 'quotaLimitReached');
  });

  it('507 when fileSize does not fit (no session) and when writing into a full drive', async () => {
    const drive = sim.drive('alice');
    drive.setQuota({ total: 2 * UNIT });
    expectGraphError(await openSession('big.pdf', { fileSize: 2 * UNIT + 1 }), 507, 'quotaLimitReached');
    expect(drive.uploadSessionCount()).toBe(0);

    const { body } = await openSession('fits.pdf', { fileSize: 2 * UNIT });
    expect((await putFragment(body.uploadUrl, randomBytes(UNIT), 0, 2 * UNIT)).status).toBe(202);
    drive.setQuota({ used: UNIT + 1 });
    expectGraphError(await putFragment(body.uploadUrl, randomBytes(UNIT), UNIT, 2 * UNIT), 507, 'quotaLimitReached');
    expect((await call('GET', body.uploadUrl, { token: null })).body.nextExpectedRanges).toEqual([`${UNIT}-`]);
    expectGraphError(await put('special/approot:/small.txt:', Buffer.alloc(UNIT)), 507, 'quotaLimitReached');
    expect(drive.listFiles()).toEqual([]);
    drive.setQuota({ used: 0 });
    expect((await putFragment(body.uploadUrl, randomBytes(UNIT), UNIT, 2 * UNIT)).status).toBe(201);
  });
});

describe('delete and recycle bin', () => {
  it('DELETE → 204, then 404 itemNotFound by id and by path; the root cannot be deleted', async () => {
    const file = await put('special/approot:/gone.pdf:', 'bye');
    expect((await call('DELETE', `/me/drive/items/${file.body.id}`)).status).toBe(204);
    expectGraphError(await call('GET', `/me/drive/items/${file.body.id}`), 404, 'itemNotFound');
    expectGraphError(await call('GET', '/me/drive/special/approot:/gone.pdf:'), 404, 'itemNotFound');
    expectGraphError(await call('DELETE', `/me/drive/items/${file.body.id}`), 404, 'itemNotFound');
    expect(sim.drive('alice').quota().deleted).toBe(3);
    const root = await call('GET', '/me/drive/root');
    expect(root.body.root).toEqual({});
    expect((await call('DELETE', `/me/drive/items/${root.body.id}`)).status).toBe(403);
  });

  it('a deleted app folder is created afresh on the next approot call', async () => {
    const first = await call('GET', '/me/drive/special/approot');
    await sim.drive('alice').deleteByPath(APPROOT);
    const second = await call('GET', '/me/drive/special/approot');
    expect(second.body.id).not.toBe(first.body.id);
    expect(second.body.specialFolder).toEqual({ name: 'approot' });
  });
});

describe('delta', () => {
  async function collect(start: string): Promise<{ items: any[]; deltaLink: string; pages: number }> {
    const items: any[] = [];
    let next = start;
    let pages = 0;
    for (;;) {
      const page: Answer = await call('GET', next);
      expect(page.status).toBe(200);
      items.push(...page.body.value);
      pages++;
      if (page.body['@odata.deltaLink']) return { items, deltaLink: page.body['@odata.deltaLink'], pages };
      next = page.body['@odata.nextLink'];
      expect(next.startsWith(sim.url)).toBe(true);
    }
  }

  it('enumerates in pages, then reports changes and deletes (folder and descendants) since the deltaLink', async () => {
    await put('special/approot:/Main/2026/2026-01/a.pdf:', 'a');
    await put('special/approot:/Main/2026/2026-02/b.pdf:', 'b');
    await put('special/approot:/Main/2026/2026-02/c.pdf:', 'c');
    const full = await collect('/me/drive/special/approot/delta?$top=2');
    expect(full.pages).toBe(4);
    expect(full.deltaLink.startsWith(`${sim.url}/me/drive/special/approot/delta?token=`)).toBe(true);
    const names = full.items.map((i) => i.name);
    expect(names).toEqual(['Qonto Receipts', 'Main', '2026', '2026-01', 'a.pdf', '2026-02', 'b.pdf', 'c.pdf']);
    expect(new Set(full.items.map((i) => i.id)).size).toBe(full.items.length);
    expect(full.items.every((i) => i.parentReference.path === undefined)).toBe(true);
    expect(full.items.find((i) => i.name === 'a.pdf').file.hashes.quickXorHash).toBeTruthy();

    // No changes: empty page with a new deltaLink.
    const quiet = await collect(full.deltaLink);
    expect(quiet.items).toEqual([]);

    const drive = sim.drive('alice');
    const feb = drive.getByPath(`${APPROOT}/Main/2026/2026-02`)!;
    const b = drive.getByPath(`${APPROOT}/Main/2026/2026-02/b.pdf`)!;
    await drive.deleteByPath(`${APPROOT}/Main/2026/2026-02`);
    const d1 = await put('special/approot:/Main/2026/2026-01/d.pdf:', 'd');
    await put('special/approot:/Main/2026/2026-01/d.pdf:', 'dd'); // changed twice: reported once, last state
    const changes = await collect(quiet.deltaLink);
    const byId = new Map(changes.items.map((i) => [i.id, i]));
    expect(byId.size).toBe(changes.items.length);
    expect(byId.get(d1.body.id)).toMatchObject({ name: 'd.pdf', size: 2 });
    expect(byId.get(feb.id)).toEqual({ id: feb.id, name: '2026-02', deleted: {}, parentReference: expect.objectContaining({ driveId: drive.id }) });
    expect(byId.get(b.id)).toMatchObject({ deleted: {} });
    expect(byId.get(b.id).size).toBeUndefined();
    expect(changes.items.filter((i) => i.deleted).map((i) => i.name).sort()).toEqual(['2026-02', 'b.pdf', 'c.pdf']);
    expect(changes.items.some((i) => i.name === 'a.pdf')).toBe(false);

    // The root delta sees the same drive, ancestors included.
    const root = await collect('/me/drive/root/delta');
    expect(root.items[0].root).toEqual({});
    expect(root.items.map((i) => i.name)).toContain('d.pdf');
    // A path-addressed folder delta is scoped to that folder.
    const jan = await collect(`/me/drive/special/approot:/Main/2026/2026-01:/delta`);
    expect(jan.items.map((i) => i.name)).toEqual(['2026-01', 'a.pdf', 'd.pdf']);
  });

  it('token=latest gives an empty page and a deltaLink that sees only later changes', async () => {
    await put('special/approot:/old.pdf:', 'o');
    const latest = await call('GET', '/me/drive/special/approot/delta?token=latest');
    expect(latest.body.value).toEqual([]);
    await put('special/approot:/new.pdf:', 'n');
    const changes = await call('GET', latest.body['@odata.deltaLink']);
    expect(changes.body.value.map((i: { name: string }) => i.name)).toEqual(['Qonto Receipts', 'new.pdf']);
  });

  it('expired or unknown tokens answer 410 resyncRequired with a Location that restarts', async () => {
    await put('special/approot:/x.pdf:', 'x');
    const { body } = await call('GET', '/me/drive/special/approot/delta');
    sim.drive('alice').expireDeltaTokens();
    const gone = await call('GET', body['@odata.deltaLink']);
    expectGraphError(gone, 410, 'resyncRequired');
    const location = gone.headers.get('location')!;
    expect(location).toBe(`${sim.url}/me/drive/special/approot/delta`);
    const again = await call('GET', location);
    expect(again.body.value.map((i: { name: string }) => i.name)).toEqual(['Qonto Receipts', 'x.pdf']);
    expectGraphError(await call('GET', '/me/drive/root/delta?token=made-up'), 410, 'resyncRequired');
    // A token is bound to the folder it was issued for.
    expectGraphError(await call('GET', again.body['@odata.deltaLink'].replace('/special/approot/', '/root/')), 410, 'resyncRequired');
  });
});

describe('faults', () => {
  it('injects Graph-format errors with Retry-After, then recovers', async () => {
    sim.faults.add({ path: '/me/drive' }, { kind: 'status', status: 429, retryAfterSec: 1 });
    sim.faults.add({ method: 'GET' }, { kind: 'status', status: 503 });
    sim.faults.add({ method: 'PUT' }, { kind: 'status', status: 507 });
    const throttled = await call('GET', '/me/drive');
    expectGraphError(throttled, 429, 'activityLimitReached');
    expect(throttled.headers.get('retry-after')).toBe('1');
    expectGraphError(await call('GET', '/me/drive/root'), 503, 'serviceNotAvailable');
    expectGraphError(await put('special/approot:/q.pdf:', 'q'), 507, 'quotaLimitReached');
    expect(sim.faults.pending()).toBe(0);
    expect((await call('GET', '/me/drive')).status).toBe(200);
  });

  it('drops connections; upload-host faults match on /rup/ only; /__sim/ is never faulted', async () => {
    sim.faults.add({ method: 'GET', path: '/me/drive' }, { kind: 'drop' });
    await expect(call('GET', '/me/drive')).rejects.toThrow();
    const { body } = await openSession('f.pdf');
    sim.faults.add({ path: '/rup/' }, { kind: 'status', status: 503, retryAfterSec: 1 });
    expect((await call('GET', '/me/drive')).status).toBe(200);
    expect((await fetch(`${sim.url.replace('/v1.0', '')}/__sim/drives/alice/files`)).status).toBe(200);
    const res = await call('GET', body.uploadUrl, { token: null });
    expectGraphError(res, 503, 'serviceNotAvailable');
    expect(res.headers.get('retry-after')).toBe('1');
    expect((await call('GET', body.uploadUrl, { token: null })).status).toBe(200);
  });
});

describe('/__sim/ controls', () => {
  it('lists, deletes and sets quota over HTTP without auth', async () => {
    const base = `${sim.url.replace('/v1.0', '')}/__sim`;
    await put('special/approot:/Main/r.pdf:', 'hello world');
    const files: any = await (await fetch(`${base}/drives/alice/files`)).json();
    expect(files.files).toEqual([{ id: expect.any(String), path: `${APPROOT}/Main/r.pdf`, size: 11, quickXorHash: 'aCgDG9jwBhDc4Q1yawMZAAAAAAA=' }]);
    const folders: any = await (await fetch(`${base}/drives/alice/folders`)).json();
    expect(folders.folders.map((f: { path: string }) => f.path)).toEqual(['Apps', APPROOT, `${APPROOT}/Main`]);
    const content = await fetch(`${base}/drives/alice/content?path=${encodeURIComponent(`${APPROOT}/Main/r.pdf`)}`);
    expect(await content.text()).toBe('hello world');
    const del = await fetch(`${base}/drives/alice/delete`, { method: 'POST', body: JSON.stringify({ path: `${APPROOT}/main` }) });
    expect(del.status).toBe(204);
    expect(sim.drive('alice').listFiles()).toEqual([]);
    const missing = await fetch(`${base}/drives/alice/delete`, { method: 'POST', body: JSON.stringify({ path: 'nope' }) });
    expect(missing.status).toBe(404);
    const quota = await fetch(`${base}/drives/alice/quota`, { method: 'POST', body: JSON.stringify({ total: 100, used: 95 }) });
    expect(await quota.json()).toMatchObject({ total: 100, used: 106, state: 'exceeded' });
    const fault = await fetch(`${base}/faults`, { method: 'POST', body: JSON.stringify({ path: '/me/drive', action: { kind: 'status', status: 429, retryAfterSec: 1 } }) });
    expect(fault.status).toBe(200);
    expect((await call('GET', '/me/drive')).status).toBe(429);
    const info = await (await fetch(`${base}/drives/alice`)).json();
    expect(info).toMatchObject({ userId: 'alice', driveId: sim.drive('alice').id, uploadSessions: 0, counters: { simpleUploads: 1 } });
  });

  it('expire-access-tokens: 404 without an identity directory to expire them in', async () => {
    const base = `${sim.url.replace('/v1.0', '')}/__sim`;
    const res = await fetch(`${base}/drives/alice/expire-access-tokens`, { method: 'POST' });
    expect(res.status).toBe(404);
    expect(await res.json()).toMatchObject({ error: { code: 'itemNotFound' } });
  });
});
