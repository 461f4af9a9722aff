import { createHash, randomBytes } from 'node:crypto';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { FatalError, NotFoundError, QuotaExceededError, ReconnectRequiredError, RetryableError } from '../../src/errors.js';
import { BackoffGate } from '../../src/http/backoff-gate.js';
import { DeltaResyncRequiredError, OneDriveClient, type OneDriveClientOptions } from '../../src/onedrive/client.js';
import { QuickXorHash, quickXorHash } from '../../src/onedrive/quickxorhash.js';
import { startGraphSimulator } from '../../src/simulators/graph/server.js';

const sha256 = (data: Uint8Array) => createHash('sha256').update(data).digest('hex');

type Simulator = Awaited<ReturnType<typeof startGraphSimulator>>;

const UNIT = 327_680;
const FAST_RETRY = { attempts: 5, baseDelayMs: 5, maxDelayMs: 20, maxRetryAfterMs: 5_000 };

interface Sent {
  method: string;
  url: string;
  authorization: string | null;
  contentRange: string | null;
}

/** Global fetch that records what was sent (headers from `init`, never by reading the body). */
function recordingFetch(log: Sent[]): typeof fetch {
  return (input, init) => {
    const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
    const headers = new Headers(init?.headers);
    log.push({ method: init?.method ?? 'GET', url, authorization: headers.get('authorization'), contentRange: headers.get('content-range') });
    return fetch(input, init);
  };
}

/** A re-openable source over `data`, in `chunk`-sized pieces; counts how often it was opened. */
function sourceOf(data: Uint8Array | (() => Uint8Array), chunk = 64 * 1024) {
  const source = {
    opens: 0,
    open: async () => {
      source.opens++;
      const bytes = typeof data === 'function' ? data() : data;
      let at = 0;
      return new ReadableStream<Uint8Array>({
        pull(controller) {
          if (at >= bytes.length) return controller.close();
          controller.enqueue(bytes.subarray(at, at + chunk));
          at += chunk;
        },
      });
    },
  };
  return source;
}

let sim: Simulator;
let sent: Sent[];

beforeEach(async () => {
  sim = await startGraphSimulator({ resolveToken: (t) => (t === 'good-token' ? { userId: 'u1' } : null) });
  sent = [];
});

afterEach(async () => {
  await sim.close();
});

function client(overrides: Partial<OneDriveClientOptions> = {}): OneDriveClient {
  return new OneDriveClient({
    graphUrl: sim.url,
    getAccessToken: async () => 'good-token',
    retry: FAST_RETRY,
    fetch: recordingFetch(sent),
    ...overrides,
  });
}

/** A client that sends files above 64 KiB through sessions of two 320 KiB units per fragment. */
function sessionClient(overrides: Partial<OneDriveClientOptions> = {}): OneDriveClient {
  return client({ fragmentSize: 2 * UNIT, simpleUploadMax: 64 * 1024, ...overrides });
}

const uploadsTo = (s: Sent) => s.url.startsWith(sim.uploadUrl);

describe('OneDriveClient against the Graph simulator', () => {
  it('reads the drive, its quota and the app folder', async () => {
    const od = client();
    const drive = await od.getDrive();
    expect(drive.driveType).toBe('personal');
    expect(drive.quota.total).toBeGreaterThan(0);
    expect(drive.quota.remaining).toBeLessThanOrEqual(drive.quota.total);
    const app = await od.getAppFolder();
    expect(app.folder).toBeDefined();
    expect(await od.getItem(app.id)).toMatchObject({ id: app.id });
    expect(await od.getItem('no-such-id')).toBeNull();
    expect(sent.every((s) => s.authorization === 'Bearer good-token')).toBe(true);
  });

  it('ensureFolder creates once, reconciles the 409 on a second call and under concurrency', async () => {
    const od = client();
    const app = await od.getAppFolder();
    const first = await od.ensureFolder(app.id, 'Main account');
    const again = await od.ensureFolder(app.id, 'Main account');
    expect(again.id).toBe(first.id);

    const concurrent = await Promise.all(Array.from({ length: 6 }, () => od.ensureFolder(app.id, '2026')));
    expect(new Set(concurrent.map((f) => f.id)).size).toBe(1);
    const folders = sim.drive('u1').listFolders().filter((f) => /\/2026$/.test(f.path));
    expect(folders).toHaveLength(1);
  });

  it('ensureFolder refuses a file that is in the way', async () => {
    const od = client();
    const app = await od.getAppFolder();
    await od.uploadFile({ parentId: app.id, name: 'taken', size: 3, open: sourceOf(Buffer.from('abc')).open });
    await expect(od.ensureFolder(app.id, 'Taken')).rejects.toBeInstanceOf(FatalError);
  });

  it('getChild looks names up case-insensitively and answers null when missing', async () => {
    const od = client();
    const app = await od.getAppFolder();
    const folder = await od.ensureFolder(app.id, 'Receipts März #1');
    expect((await od.getChild(app.id, 'receipts MÄRZ #1'))?.id).toBe(folder.id);
    expect(await od.getChild(app.id, 'nothing here')).toBeNull();
  });

  it('uploads a small file with one PUT and verifies its hash', async () => {
    const od = client();
    const app = await od.getAppFolder();
    const data = randomBytes(100_000);
    const result = await od.uploadFile({ parentId: app.id, name: 'small file.pdf', size: data.length, open: sourceOf(data).open });
    expect(result.quickXorHash).toBe(quickXorHash(data));
    expect(result.sha256).toBe(sha256(data));
    expect(result.item.size).toBe(data.length);
    const [file] = sim.drive('u1').listFiles();
    expect(file).toMatchObject({ id: result.item.id, size: data.length, quickXorHash: quickXorHash(data) });
    expect(sim.drive('u1').counters.simpleUploads).toBe(1);
    expect(sim.drive('u1').counters.createUploadSession).toBe(0);

    // conflictBehavior replace: a retry overwrites its own copy instead of making "small file (1).pdf".
    await od.uploadFile({ parentId: app.id, name: 'small file.pdf', size: data.length, open: sourceOf(data).open });
    expect(sim.drive('u1').listFiles()).toHaveLength(1);
  });

  it('uploads ~25 MB through a session in 10 MiB fragments, without Authorization on the uploadUrl', async () => {
    const od = client();
    const app = await od.getAppFolder();
    const data = randomBytes(25_000_000);
    const sessions: string[] = [];
    const progress: number[] = [];
    const result = await od.uploadFile({
      parentId: app.id,
      name: 'big.pdf',
      size: data.length,
      open: sourceOf(data).open,
      onSession: (url) => void sessions.push(url),
      onProgress: (n) => progress.push(n),
    });
    const fragment = 32 * UNIT; // 10 MiB
    const ranges = sent.filter(uploadsTo).map((s) => s.contentRange);
    expect(ranges).toEqual([
      `bytes 0-${fragment - 1}/25000000`,
      `bytes ${fragment}-${2 * fragment - 1}/25000000`,
      `bytes ${2 * fragment}-24999999/25000000`,
    ]);
    expect(sent.filter(uploadsTo).every((s) => s.authorization === null)).toBe(true);
    expect(sessions).toHaveLength(1);
    expect(progress).toEqual([fragment, 2 * fragment, 25_000_000]);
    const counters = sim.drive('u1').counters;
    expect(counters.createUploadSession).toBe(1);
    expect(counters.uploadFragments).toBe(3);
    const file = sim.drive('u1').getByPath(`Apps/${app.name}/big.pdf`);
    expect(file).toMatchObject({ size: 25_000_000, quickXorHash: quickXorHash(data) });
    expect(result.quickXorHash).toBe(file?.quickXorHash);
    expect(result.sha256).toBe(sha256(data));
    expect(sim.drive('u1').uploadSessionCount()).toBe(0);
  });

  it('waits out 429 Retry-After and retries 503, on Graph and on the upload URL', async () => {
    const od = sessionClient();
    sim.faults.add({ method: 'GET', path: '/special/approot' }, { kind: 'status', status: 429, retryAfterSec: 1 });
    sim.faults.add({ method: 'GET', path: '/special/approot' }, { kind: 'status', status: 503 });
    const started = Date.now();
    const app = await od.getAppFolder();
    expect(Date.now() - started).toBeGreaterThanOrEqual(950);
    expect(sent.filter((s) => s.url.endsWith('/special/approot'))).toHaveLength(3);

    sim.faults.add({ method: 'PUT', path: '/rup/' }, { kind: 'status', status: 503 }, 2);
    const data = randomBytes(5 * UNIT + 123);
    const result = await od.uploadFile({ parentId: app.id, name: 'r.pdf', size: data.length, open: sourceOf(data).open });
    expect(result.item.file?.hashes?.quickXorHash).toBe(quickXorHash(data));
    expect(sim.faults.pending()).toBe(0);
  });

  it('resumes the same session after a connection dropped mid-fragment', async () => {
    const od = sessionClient();
    const app = await od.getAppFolder();
    const data = randomBytes(6 * UNIT + 999);
    const source = sourceOf(data);
    let armed = false;
    const result = await od.uploadFile({
      parentId: app.id,
      name: 'dropped.pdf',
      size: data.length,
      open: source.open,
      onProgress: () => {
        // Cut the second fragment half way through.
        if (!armed) sim.faults.add({ method: 'PUT', path: '/rup/' }, { kind: 'drop-after-bytes', bytes: UNIT });
        armed = true;
      },
    });
    expect(sim.faults.pending()).toBe(0);
    const puts = sent.filter((s) => uploadsTo(s) && s.method === 'PUT').map((s) => s.contentRange);
    // The cut fragment is sent again from its start, on the same session.
    expect(puts[1]).toBe(puts[2]);
    expect(sent.filter((s) => uploadsTo(s) && s.method === 'GET')).toHaveLength(1);
    expect(sim.drive('u1').counters.createUploadSession).toBe(1);
    expect(source.opens).toBe(1);
    expect(result.quickXorHash).toBe(quickXorHash(data));
    expect(result.sha256).toBe(sha256(data));
    expect(sim.drive('u1').getByPath(`Apps/${app.name}/dropped.pdf`)?.quickXorHash).toBe(quickXorHash(data));
  });

  it('resumes a session left by a crashed attempt (resumeUploadUrl), hashing every byte once', async () => {
    const od = sessionClient();
    const app = await od.getAppFolder();
    const data = randomBytes(7 * UNIT + 5);
    // The crashed attempt: a session with its first fragment in, then nothing.
    const created = await fetch(`${sim.url}/me/drive/items/${encodeURIComponent(app.id)}:/crash.pdf:/createUploadSession`, {
      method: 'POST',
      headers: { authorization: 'Bearer good-token', 'content-type': 'application/json' },
      body: JSON.stringify({ item: { '@microsoft.graph.conflictBehavior': 'replace' } }),
    });
    const { uploadUrl } = (await created.json()) as { uploadUrl: string };
    const first = await fetch(uploadUrl, {
      method: 'PUT',
      headers: { 'content-range': `bytes 0-${2 * UNIT - 1}/${data.length}` },
      body: data.subarray(0, 2 * UNIT),
    });
    expect(first.status).toBe(202);

    const sessions: string[] = [];
    const result = await od.uploadFile({
      parentId: app.id,
      name: 'crash.pdf',
      size: data.length,
      open: sourceOf(data, 100_000).open,
      resumeUploadUrl: uploadUrl,
      onSession: (url) => void sessions.push(url),
    });
    expect(sessions).toEqual([]);
    expect(sim.drive('u1').counters.createUploadSession).toBe(1);
    expect(sent.filter((s) => uploadsTo(s) && s.method === 'PUT')[0]?.contentRange).toBe(`bytes ${2 * UNIT}-${4 * UNIT - 1}/${data.length}`);
    expect(result.quickXorHash).toBe(quickXorHash(data));
    expect(result.sha256).toBe(sha256(data));
    expect(result.item.file?.hashes?.quickXorHash).toBe(quickXorHash(data));
  });

  it('keeps the session when a long Retry-After goes up to the caller, who then resumes it', async () => {
    // The drive's back-off gate on a clock the test moves: the caller resumes once the window is over.
    let now = Date.now();
    const od = sessionClient({ retry: { ...FAST_RETRY, maxRetryAfterMs: 1_000 }, gate: new BackoffGate(() => now) });
    const app = await od.getAppFolder();
    const data = randomBytes(5 * UNIT);
    let uploadUrl: string | undefined;
    let throttled = false;
    const attempt = (resumeUploadUrl?: string) =>
      od.uploadFile({
        parentId: app.id,
        name: 'throttled.pdf',
        size: data.length,
        open: sourceOf(data).open,
        resumeUploadUrl,
        onSession: (url) => void (uploadUrl = url),
        onProgress: () => {
          if (!throttled) sim.faults.add({ method: 'PUT', path: '/rup/' }, { kind: 'status', status: 429, retryAfterSec: 120 });
          throttled = true;
        },
      });
    const error = await attempt().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RetryableError);
    expect((error as RetryableError).retryAfterMs).toBe(120_000);
    expect(sim.drive('u1').uploadSessionCount()).toBe(1);
    // Within the window the client refuses to send anything, without a request.
    const early = await attempt(uploadUrl).catch((e: unknown) => e);
    expect((early as RetryableError).retryAfterMs).toBeGreaterThan(100_000);

    now += 120_000;
    const result = await attempt(uploadUrl);
    expect(result.quickXorHash).toBe(quickXorHash(data));
    expect(sim.drive('u1').counters.createUploadSession).toBe(1);
    expect(sim.drive('u1').getByPath(`Apps/${app.name}/throttled.pdf`)?.quickXorHash).toBe(quickXorHash(data));
  });

  it('re-opens a source that breaks mid-stream and skips to where the session stands', async () => {
    const od = sessionClient();
    const app = await od.getAppFolder();
    const data = randomBytes(6 * UNIT + 17);
    let opens = 0;
    const open = async () => {
      // The first opening fails after three units, as a download cut off would.
      const broken = opens++ === 0;
      let at = 0;
      return new ReadableStream<Uint8Array>({
        pull(controller) {
          if (broken && at >= 3 * UNIT) return controller.error(new TypeError('terminated'));
          if (at >= data.length) return controller.close();
          controller.enqueue(data.subarray(at, at + 65_536));
          at += 65_536;
        },
      });
    };
    const result = await od.uploadFile({ parentId: app.id, name: 'cut.pdf', size: data.length, open });
    expect(opens).toBe(2);
    expect(sim.drive('u1').counters.createUploadSession).toBe(1);
    expect(result.quickXorHash).toBe(quickXorHash(data));
    expect(result.sha256).toBe(sha256(data));
    expect(result.item.file?.hashes?.quickXorHash).toBe(quickXorHash(data));
  });

  it('cancels an upload session without Authorization; a session already gone is fine', async () => {
    const od = client();
    const app = await od.getAppFolder();
    const created = await fetch(`${sim.url}/me/drive/items/${encodeURIComponent(app.id)}:/later.pdf:/createUploadSession`, {
      method: 'POST',
      headers: { authorization: 'Bearer good-token', 'content-type': 'application/json' },
      body: '{}',
    });
    const { uploadUrl } = (await created.json()) as { uploadUrl: string };
    expect(sim.drive('u1').uploadSessionCount()).toBe(1);
    await od.cancelUploadSession(uploadUrl);
    expect(sim.drive('u1').uploadSessionCount()).toBe(0);
    await od.cancelUploadSession(uploadUrl);
    expect(sent.filter(uploadsTo).map((s) => [s.method, s.authorization])).toEqual([
      ['DELETE', null],
      ['DELETE', null],
    ]);
  });

  it('starts a new session when the session vanishes (404), without hashing bytes twice', async () => {
    const od = sessionClient();
    const app = await od.getAppFolder();
    const data = randomBytes(6 * UNIT + 1);
    const source = sourceOf(data);
    const sessions: string[] = [];
    let expired = false;
    const result = await od.uploadFile({
      parentId: app.id,
      name: 'vanished.pdf',
      size: data.length,
      open: source.open,
      onSession: (url) => void sessions.push(url),
      onProgress: () => {
        if (expired) return;
        expired = true;
        // The sessions end at once (only their part files are removed later): no need to wait.
        void sim.drive('u1').expireUploadSessions();
      },
    });
    expect(sessions).toHaveLength(2);
    expect(sessions[0]).not.toBe(sessions[1]);
    expect(source.opens).toBe(2);
    expect(result.quickXorHash).toBe(quickXorHash(data));
    expect(result.sha256).toBe(sha256(data));
    expect(result.item.file?.hashes?.quickXorHash).toBe(quickXorHash(data));

    // A stale resumeUploadUrl (404) also gets a fresh session.
    const again = await od.uploadFile({
      parentId: app.id,
      name: 'vanished.pdf',
      size: data.length,
      open: sourceOf(data).open,
      resumeUploadUrl: sessions[0],
      onSession: (url) => void sessions.push(url),
    });
    expect(sessions).toHaveLength(3);
    expect(again.quickXorHash).toBe(quickXorHash(data));
  });

  it('reports a hash mismatch as retryable when the source changes between openings', async () => {
    const od = sessionClient();
    const app = await od.getAppFolder();
    const first = randomBytes(4 * UNIT + 7);
    const second = randomBytes(first.length);
    let opened = 0;
    let expired = false;
    const error = await od
      .uploadFile({
        parentId: app.id,
        name: 'changing.pdf',
        size: first.length,
        open: sourceOf(() => (opened++ === 0 ? first : second)).open,
        onProgress: () => {
          if (expired) return;
          expired = true;
          void sim.drive('u1').expireUploadSessions();
        },
      })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RetryableError);
    expect((error as Error).message).toMatch(/hash mismatch/);
  });

  it('fails (FatalError) when the source is shorter or longer than the size, leaving no session', async () => {
    const od = sessionClient();
    const app = await od.getAppFolder();
    const data = randomBytes(3 * UNIT);
    // Too short; too long inside a chunk; too long by whole chunks (the stream goes on after `size`).
    for (const size of [data.length + 10, data.length - 10, data.length - 64 * 1024]) {
      await expect(od.uploadFile({ parentId: app.id, name: `wrong-${size}.pdf`, size, open: sourceOf(data).open })).rejects.toBeInstanceOf(
        FatalError,
      );
      expect(sim.drive('u1').uploadSessionCount()).toBe(0);
    }
    for (const size of [10, 2]) {
      const open = sourceOf(Buffer.from('abc'), 1).open;
      await expect(od.uploadFile({ parentId: app.id, name: 'small.txt', size, open })).rejects.toBeInstanceOf(FatalError);
    }
    expect(sim.drive('u1').listFiles()).toEqual([]);
  });

  it('maps 507 to QuotaExceededError, on createUploadSession and mid-upload, leaving no file and no session', async () => {
    const od = sessionClient();
    const app = await od.getAppFolder();
    const data = randomBytes(6 * UNIT);
    sim.drive('u1').setQuota({ total: 1_000_000 });
    await expect(od.uploadFile({ parentId: app.id, name: 'too-big.pdf', size: data.length, open: sourceOf(data).open })).rejects.toBeInstanceOf(
      QuotaExceededError,
    );
    expect(sim.drive('u1').counters.uploadFragments).toBe(0);

    sim.drive('u1').setQuota({ total: 1_000_000_000_000 });
    let injected = false;
    await expect(
      od.uploadFile({
        parentId: app.id,
        name: 'full-later.pdf',
        size: data.length,
        open: sourceOf(data).open,
        onProgress: () => {
          if (!injected) sim.faults.add({ method: 'PUT', path: '/rup/' }, { kind: 'status', status: 507 });
          injected = true;
        },
      }),
    ).rejects.toBeInstanceOf(QuotaExceededError);
    expect(sim.drive('u1').uploadSessionCount()).toBe(0);
    expect(sim.drive('u1').listFiles()).toEqual([]);
    expect(sent.filter((s) => uploadsTo(s) && s.method === 'DELETE')).toHaveLength(1);
  });

  it('cancels the session when the upload is aborted', async () => {
    const od = sessionClient();
    const app = await od.getAppFolder();
    const data = randomBytes(6 * UNIT);
    const abort = new AbortController();
    await expect(
      od.uploadFile({ parentId: app.id, name: 'aborted.pdf', size: data.length, open: sourceOf(data).open, signal: abort.signal, onProgress: () => abort.abort() }),
    ).rejects.toThrow();
    expect(sim.drive('u1').uploadSessionCount()).toBe(0);
    expect(sim.drive('u1').listFiles()).toEqual([]);
  });

  it('asks for a new token once on 401 (naming the refused one), then gives up with ReconnectRequiredError', async () => {
    const refreshing = vi.fn(async ({ rejected }: { rejected?: string }) => (rejected ? 'good-token' : 'expired-token'));
    expect((await client({ getAccessToken: refreshing }).getAppFolder()).folder).toBeDefined();
    expect(refreshing.mock.calls.map(([o]) => o.rejected)).toEqual([undefined, 'expired-token']);

    const revoked = vi.fn(async (_opts: { rejected?: string }) => 'revoked-token');
    await expect(client({ getAccessToken: revoked }).getDrive()).rejects.toBeInstanceOf(ReconnectRequiredError);
    expect(revoked.mock.calls.map(([o]) => o.rejected)).toEqual([undefined, 'revoked-token']);

    const fromCache = new ReconnectRequiredError('consent withdrawn', { provider: 'microsoft' });
    await expect(client({ getAccessToken: async () => Promise.reject(fromCache) }).getDrive()).rejects.toBe(fromCache);
  });

  it('pages through delta, reports deletions, and turns 410 into DeltaResyncRequiredError', async () => {
    const od = client();
    const app = await od.getAppFolder();
    const folder = await od.ensureFolder(app.id, 'Main');
    const ids: string[] = [];
    for (const name of ['a.pdf', 'b.pdf', 'c.pdf']) {
      ids.push((await od.uploadFile({ parentId: folder.id, name, size: 1, open: sourceOf(Buffer.from(name[0]!)).open })).item.id);
    }

    const seen: string[] = [];
    let link: string | { folder: 'approot' } = `${sim.url}/me/drive/special/approot/delta?$top=2`;
    let deltaLink: string | undefined;
    let pages = 0;
    while (deltaLink === undefined) {
      const page = await od.deltaPage(link);
      pages++;
      seen.push(...page.items.map((i) => i.id));
      if (page.nextLink) link = page.nextLink;
      deltaLink = page.deltaLink;
    }
    expect(pages).toBeGreaterThanOrEqual(3);
    expect(seen).toEqual(expect.arrayContaining([folder.id, ...ids]));

    await sim.drive('u1').deleteByPath(`Apps/${app.name}/Main/b.pdf`);
    await od.deleteItem(ids[2]!);
    await od.deleteItem(ids[2]!); // already gone: fine
    expect(await od.getItem(ids[2]!)).toBeNull();
    const changes = await od.deltaPage(deltaLink);
    const deleted = changes.items.filter((i) => i.deleted).map((i) => i.id);
    expect(deleted.sort()).toEqual([ids[1]!, ids[2]!].sort());

    const full = await od.deltaPage({ folder: 'approot' });
    expect(full.items.map((i) => i.id)).toContain(ids[0]);

    sim.drive('u1').expireDeltaTokens();
    const error = await od.deltaPage(changes.deltaLink!).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DeltaResyncRequiredError);
    const restart = (error as DeltaResyncRequiredError).restartLink;
    expect(restart).toBeDefined();
    expect((await od.deltaPage(restart!)).items.map((i) => i.id)).toContain(ids[0]);
  });

  it('classifies other Graph errors: 400 and 403 fatal, a missing parent NotFound', async () => {
    const od = client();
    const app = await od.getAppFolder();
    sim.faults.add({ method: 'POST', path: '/children' }, { kind: 'status', status: 403 });
    await expect(od.ensureFolder(app.id, 'x')).rejects.toMatchObject({ kind: 'Fatal', status: 403 });
    await expect(od.ensureFolder(app.id, 'bad:name')).rejects.toMatchObject({ kind: 'Fatal', status: 400 });
    const folder = await od.ensureFolder(app.id, 'soon gone');
    await od.deleteItem(folder.id);
    await expect(od.uploadFile({ parentId: folder.id, name: 'x.pdf', size: 1, open: sourceOf(Buffer.from('x')).open })).rejects.toBeInstanceOf(
      NotFoundError,
    );
  });
});

/** Global fetch that flips the first byte of every body sent to an upload (same size, other bytes). */
const corruptingFetch: typeof fetch = (input, init) => {
  const body = init?.body;
  if (init?.method !== 'PUT' || !(body instanceof ReadableStream)) return fetch(input, init);
  let first = true;
  const flipped = (body as ReadableStream<Uint8Array>).pipeThrough(
    new TransformStream<Uint8Array, Uint8Array>({
      transform(chunk, controller) {
        if (first && chunk.length > 0) {
          chunk = Uint8Array.from(chunk);
          chunk[0] = chunk[0]! ^ 0xff;
          first = false;
        }
        controller.enqueue(chunk);
      },
    }),
  );
  return fetch(input, { ...init, body: flipped });
};

describe('OneDriveClient verifying an answer without quickXorHash', () => {
  it('reads the item again, and failing that hashes its content, before accepting the upload', async () => {
    const od = client();
    const app = await od.getAppFolder();
    const data = randomBytes(100_000);

    sim.drive('u1').withholdHashes(1); // the upload's answer only
    const reread = await od.uploadFile({ parentId: app.id, name: 'a.pdf', size: data.length, open: sourceOf(data).open });
    expect(reread.quickXorHash).toBe(quickXorHash(data));
    expect(sent.at(-1)).toMatchObject({ method: 'GET', url: `${sim.url}/me/drive/items/${encodeURIComponent(reread.item.id)}` });

    sim.drive('u1').withholdHashes(2); // the upload's answer and the item read again
    const downloaded = await od.uploadFile({ parentId: app.id, name: 'b.pdf', size: data.length, open: sourceOf(data).open });
    expect(downloaded.quickXorHash).toBe(quickXorHash(data));
    expect(sent.at(-1)).toMatchObject({ method: 'GET', authorization: null });
    expect(sent.at(-1)!.url.startsWith(`${sim.uploadUrl}/download/`)).toBe(true);
  });

  it('takes a 404 while reading the item again for its hash as lag to retry, not as a receipt gone', async () => {
    const od = client();
    const app = await od.getAppFolder();
    const data = randomBytes(100_000);
    sim.drive('u1').withholdHashes(1);
    sim.faults.add({ method: 'GET', path: /\/me\/drive\/items\/[^/?]+$/ }, { kind: 'status', status: 404 });
    const error = await od.uploadFile({ parentId: app.id, name: 'lag.pdf', size: data.length, open: sourceOf(data).open }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RetryableError);
    expect(error).not.toBeInstanceOf(NotFoundError);
  });

  it('refuses an upload whose bytes differ though its size matches, found by reading the item again or its content', async () => {
    const od = client({ fetch: corruptingFetch });
    const app = await od.getAppFolder();
    const data = randomBytes(100_000);
    for (const withheld of [1, 2]) {
      sim.drive('u1').withholdHashes(withheld);
      const error = await od.uploadFile({ parentId: app.id, name: `c${withheld}.pdf`, size: data.length, open: sourceOf(data).open }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(RetryableError);
      expect((error as Error).message).toMatch(/hash mismatch/);
    }
  });
});

describe('OneDriveClient downloading content to hash it', () => {
  it('follows the download URL\'s redirects by hand, refusing one to another scheme or a non-public address', async () => {
    const od = client();
    const app = await od.getAppFolder();
    const data = randomBytes(50_000);

    // A redirect within the download host is followed (each hop checked), and the bytes hashed.
    sim.drive('u1').withholdHashes(2);
    sim.faults.add({ path: '/download/' }, { kind: 'redirect', location: '/download/missing-then-back' });
    sim.faults.add({ path: '/download/missing-then-back' }, { kind: 'status', status: 404 });
    const first = await od.uploadFile({ parentId: app.id, name: 'r1.pdf', size: data.length, open: sourceOf(data).open }).catch((e: unknown) => e);
    expect(first).toBeInstanceOf(Error); // the hop was followed: its 404 is the answer
    expect(sent.map((r) => r.url)).toContain(`${sim.uploadUrl}/download/missing-then-back`);

    for (const location of ['http://storage.example.invalid/x', 'https://[::1]:1/x', 'ftp://files.example/x']) {
      sim.drive('u1').withholdHashes(2);
      sim.faults.add({ path: '/download/' }, { kind: 'redirect', location });
      const before = sent.length;
      const error = await od.uploadFile({ parentId: app.id, name: 'r2.pdf', size: data.length, open: sourceOf(data).open }).catch((e: unknown) => e);
      expect(error, location).toBeInstanceOf(FatalError);
      expect((error as Error).message, location).toMatch(/refused/);
      expect(sent.slice(before).filter((r) => !r.url.startsWith(sim.url) && !uploadsTo(r)), location).toEqual([]);
    }
  });
});

describe('OneDriveClient deadlines', () => {
  // The default fetch (with deadlines), not the recording one.
  const withDeadlines = (overrides: Partial<OneDriveClientOptions> = {}) => client({ fetch: undefined, deadlines: { idleMs: 300 }, ...overrides });

  it('retries a Graph request that is never answered, and one whose answer stalls midway', async () => {
    const od = withDeadlines();
    sim.faults.add({ method: 'GET', path: '/special/approot' }, { kind: 'stall' });
    sim.faults.add({ method: 'GET', path: '/special/approot' }, { kind: 'stall-body', bytes: 10 });
    const app = await od.getAppFolder();
    expect(app.folder).toBeDefined();
    expect(sim.faults.pending()).toBe(0);
    expect(sim.requestLog.filter((r) => r.path.endsWith('/special/approot'))).toHaveLength(3);
  });

  it('retries an upload whose PUT is never answered, and a session fragment likewise, then completes', async () => {
    const app = await withDeadlines().getAppFolder();
    const small = randomBytes(100_000);
    sim.faults.add({ method: 'PUT', path: '/content' }, { kind: 'stall' });
    const simple = await withDeadlines().uploadFile({ parentId: app.id, name: 'small.pdf', size: small.length, open: sourceOf(small).open });
    expect(simple.quickXorHash).toBe(quickXorHash(small));

    const big = randomBytes(5 * UNIT + 123);
    sim.faults.add({ method: 'PUT', path: '/rup/' }, { kind: 'stall' });
    const od = withDeadlines({ fragmentSize: 2 * UNIT, simpleUploadMax: 64 * 1024 });
    const session = await od.uploadFile({ parentId: app.id, name: 'big.pdf', size: big.length, open: sourceOf(big).open });
    expect(session.item.file?.hashes?.quickXorHash).toBe(quickXorHash(big));
    expect(sim.faults.pending()).toBe(0);
    expect(sim.drive('u1').listFiles().map((f) => f.quickXorHash).sort()).toEqual([quickXorHash(small), quickXorHash(big)].sort());
  });

  it('waits longer than the idle deadline for the answer to a session fragment (the server stores it first)', async () => {
    const app = await withDeadlines().getAppFolder();
    const big = randomBytes(5 * UNIT + 123);
    // Each fragment answered 1 s after its body arrived: over three idle deadlines (0.3 s), a fifth of
    // the slow-answer deadline.
    sim.faults.add({ method: 'PUT', path: '/rup/' }, { kind: 'slow-answer', ms: 1_000 }, 3);
    const od = withDeadlines({ fragmentSize: 2 * UNIT, simpleUploadMax: 64 * 1024, deadlines: { idleMs: 300, slowAnswerMs: 5_000 } });
    const session = await od.uploadFile({ parentId: app.id, name: 'slow.pdf', size: big.length, open: sourceOf(big).open });
    expect(session.item.file?.hashes?.quickXorHash).toBe(quickXorHash(big));
    expect(sim.faults.pending()).toBe(0);
    // Three fragments, each sent once: none was given up on and sent again.
    expect(sim.requestLog.filter((r) => r.method === 'PUT' && r.path.startsWith('/rup/'))).toHaveLength(3);
  });
});

describe('OneDriveClient memory', () => {
  it('streams a 50 MB upload with memory bounded by the fragment, not the file', async () => {
    // Live memory, measured after a full GC at every confirmed fragment: garbage the source or the
    // simulator leaves behind does not count, anything the client keeps does.
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const live = () => {
      gc();
      gc(); // the second collection completes the (concurrent) sweep of freed ArrayBuffers
      const m = process.memoryUsage();
      return m.heapUsed + m.arrayBuffers;
    };

    const od = client();
    const app = await od.getAppFolder();
    const size = 50 * 1024 * 1024;
    const block = randomBytes(64 * 1024);
    // Deterministic content generated on the fly: chunk k is the block stamped with k.
    const chunkAt = (k: number) => {
      const chunk = Buffer.from(block);
      chunk.writeUInt32LE(k, 0);
      return chunk;
    };
    const expected = new QuickXorHash();
    for (let k = 0; k < size / block.length; k++) expected.update(chunkAt(k));
    const open = async () => {
      let k = 0;
      return new ReadableStream<Uint8Array>({
        pull(controller) {
          if (k * block.length >= size) return controller.close();
          controller.enqueue(chunkAt(k++));
        },
      });
    };

    const baseline = live();
    const growth: number[] = [];
    const result = await od.uploadFile({ parentId: app.id, name: 'fifty.bin', size, open, onProgress: () => growth.push(live() - baseline) });
    expect(result.quickXorHash).toBe(expected.digest());
    expect(result.item).toMatchObject({ size, file: { hashes: { quickXorHash: expected.digest() } } });
    expect(growth).toHaveLength(5);
    expect(Math.max(...growth)).toBeLessThan(30 * 1024 * 1024);
  });
});
