/**
 * Uploads to OneDrive: a simple PUT up to `simpleUploadMax`, an upload session above it.
 *
 * The session loop is our own (the SDK's task mishandles http:// upload URLs): fragments go to the
 * uploadUrl with plain fetch and never an Authorization header; after a dropped connection, a 5xx or
 * a 416 the session's status tells where to continue; a vanished session (404) is replaced by a new
 * one. The result is verified against the locally computed quickXorHash.
 */
import { z } from 'zod';
import { FatalError, NotFoundError, RetryableError, SyncError } from '../errors.js';
import { SLOW_ANSWER } from '../http/deadlines.js';
import { withRetry, type RetryOptions } from '../http/retry.js';
import { fetchContent } from './content-download.js';
import { childPath, driveItemSchema, parseGraph, type DriveItem } from './drive-item.js';
import type { GraphApi } from './graph-client.js';
import { errorFromAnswer, networkError } from './graph-errors.js';
import { QuickXorHash } from './quickxorhash.js';
import { BufferPool } from './buffer-pool.js';
import { UploadSource, type OpenSource } from './upload-source.js';

export interface UploadParams {
  parentId: string;
  name: string;
  size: number;
  /** Opens the source from byte 0 each time it is called (the client may need to restart or re-hash). */
  open: OpenSource;
  /** An upload session left by an earlier (crashed) attempt: resume it from the server's nextExpectedRanges. */
  resumeUploadUrl?: string;
  /** Called with the session URL as soon as a session exists (the caller persists it for resumption). */
  onSession?: (uploadUrl: string) => void | Promise<void>;
  /** Bytes the server has confirmed so far. */
  onProgress?: (bytesSent: number) => void;
  signal?: AbortSignal;
  /** Default 'replace': names are unique per receipt, so a retry overwrites its own earlier copy. */
  conflictBehavior?: 'replace' | 'fail';
}

export interface UploadResult {
  item: DriveItem;
  /** Computed locally over every source byte. */
  quickXorHash: string;
  /** Lowercase hex, computed locally over every source byte (the drive offers no SHA-256 on personal
   * accounts; equal quickXorHashes and sizes tie it to the bytes the drive holds). */
  sha256: string;
  size: number;
}

export interface UploadContext {
  graph: GraphApi;
  fetch: typeof fetch;
  retry: RetryOptions;
  fragmentSize: number;
  simpleUploadMax: number;
  signal?: AbortSignal;
}

/** Buffers of simple uploads (at most Graph's 4 MiB each), shared by every upload of the process.
 * 8 MiB kept: in the backfill benchmark 16 MiB saved about 2 s more of worker CPU (25-27 s against
 * 28-29 s) for about 10 MB more peak RSS (287-299 MB against 277-290 MB), too close to 300 MB. */
const simpleUploadBuffers = new BufferPool(4 * 1024 * 1024, 8 * 1024 * 1024);

/** New sessions tried after the current one vanished, before giving up for this attempt. */
const MAX_SESSIONS = 3;
/** Cleanup after a failure must not hang the failing activity. */
const CLEANUP_TIMEOUT_MS = 30_000;

const sessionStatusSchema = z.looseObject({ nextExpectedRanges: z.array(z.string()).optional() });
const createdSessionSchema = sessionStatusSchema.extend({ uploadUrl: z.string() });

export async function uploadFile(ctx: UploadContext, p: UploadParams): Promise<UploadResult> {
  if (!Number.isSafeInteger(p.size) || p.size < 0) throw new FatalError(`upload ${p.name}: invalid size ${p.size}`);
  const signal = anySignal(ctx.signal, p.signal);
  const simple = p.size === 0 || (p.size <= ctx.simpleUploadMax && p.resumeUploadUrl === undefined);
  const result = simple ? await simpleUpload(ctx, p, signal) : await new SessionUpload(ctx, p, signal).run();
  if (result.item.size !== p.size) {
    throw new RetryableError(`upload ${p.name}: size mismatch (drive has ${result.item.size}, sent ${p.size})`);
  }
  const remote = result.item.file?.hashes?.quickXorHash ?? (await driveHash(ctx, result.item, p.name, signal));
  if (remote !== result.quickXorHash) {
    throw new RetryableError(`upload ${p.name}: hash mismatch (drive ${remote}, local ${result.quickXorHash})`);
  }
  return result;
}

/**
 * The quickXorHash of what the drive holds, for an answer that came without one (Graph computes
 * hashes after the upload, and may leave them out): the item read again, and if it still has none,
 * its content downloaded and hashed. A size that matches is not enough: a file is only accepted
 * once its bytes are known to be ours.
 */
async function driveHash(ctx: UploadContext, uploaded: DriveItem, name: string, signal: AbortSignal | undefined): Promise<string> {
  try {
    return await readDriveHash(ctx, uploaded, name, signal);
  } catch (error) {
    // The item was just written: a 404 here is the drive's read-after-write lag (or a concurrent
    // delete the next try sees), never "the receipt is gone", which the caller would take it for.
    if (error instanceof NotFoundError) throw new RetryableError(`verify ${name}: the item is not readable yet`, { status: 404, cause: error });
    throw error;
  }
}

async function readDriveHash(ctx: UploadContext, uploaded: DriveItem, name: string, signal: AbortSignal | undefined): Promise<string> {
  const what = `verify ${name}`;
  const raw = await ctx.graph.send(`/me/drive/items/${encodeURIComponent(uploaded.id)}`, (request) => request.get(), signal);
  const item = parseGraph(driveItemSchema, raw, what);
  const hash = item.file?.hashes?.quickXorHash;
  if (hash !== undefined) return hash;
  const url = item['@microsoft.graph.downloadUrl'];
  if (url === undefined) throw new RetryableError(`${what}: the drive gives neither a hash nor a download URL`);
  return withRetry(async () => {
    let res: Response;
    try {
      res = await fetchContent(ctx.fetch, url, ctx.graph.baseUrl, `${what}: download`, signal);
    } catch (error) {
      if (signal?.aborted || error instanceof SyncError) throw error;
      throw networkError(`${what}: download`, error);
    }
    if (!res.ok) throw errorFromAnswer({ status: res.status, headers: res.headers, text: await res.text().catch(() => '') }, `${what}: download`);
    const hash = new QuickXorHash();
    try {
      const body = res.body as ReadableStream<Uint8Array> | null;
      if (body) for await (const chunk of body) hash.update(chunk);
    } catch (error) {
      if (signal?.aborted || error instanceof SyncError) throw error;
      throw networkError(`${what}: download`, error);
    }
    return hash.digest();
  }, { ...ctx.retry, signal });
}

/** DELETE the session (no Authorization); a session already gone is fine. */
export async function cancelSession(ctx: Pick<UploadContext, 'fetch' | 'retry'>, uploadUrl: string, signal?: AbortSignal): Promise<void> {
  const what = 'upload session DELETE';
  await withRetry(
    async () => {
      const answer = await exchange(ctx.fetch, uploadUrl, { method: 'DELETE', signal }, what);
      if (!answer.ok && answer.status !== 404) throw errorFromAnswer(answer, what);
    },
    { ...ctx.retry, signal },
  );
}

async function simpleUpload(ctx: UploadContext, p: UploadParams, signal: AbortSignal | undefined): Promise<UploadResult> {
  const source = new UploadSource(p.open, p.size, p.size, signal, simpleUploadBuffers);
  try {
    const body = await source.slice(0, p.size);
    const hashes = source.digest();
    const conflict = p.conflictBehavior ?? 'replace';
    const sent = { times: 0 };
    const raw = await ctx.graph.send(
      `${childPath(p.parentId, p.name)}/content?@microsoft.graph.conflictBehavior=${conflict}`,
      (request) => request.header('Content-Type', 'application/octet-stream').put(body),
      signal,
      sent,
    );
    // Answered 2xx on the first try: the server read the whole body, so nothing reads the buffer any
    // more. After a retry, an earlier try's connection may still hold the end of it in its write queue
    // (an answer that came before the body was read): that buffer is left to the collector.
    if (sent.times === 1) source.recycle();
    p.onProgress?.(p.size);
    return { item: parseGraph(driveItemSchema, raw, `upload ${p.name}`), ...hashes, size: p.size };
  } finally {
    await source.close();
  }
}

type FragmentOutcome = { item: DriveItem } | { next: number };

class SessionUpload {
  private readonly source: UploadSource;

  constructor(
    private readonly ctx: UploadContext,
    private readonly p: UploadParams,
    private readonly signal: AbortSignal | undefined,
  ) {
    this.source = new UploadSource(p.open, p.size, ctx.fragmentSize, signal);
  }

  async run(): Promise<UploadResult> {
    let url: string | undefined;
    try {
      let offset = 0;
      if (this.p.resumeUploadUrl !== undefined) {
        const resumed = await this.resumePoint(this.p.resumeUploadUrl);
        if (resumed !== undefined) [url, offset] = [this.p.resumeUploadUrl, resumed];
      }
      for (let created = 0; ; ) {
        if (url === undefined) {
          if (created++ === MAX_SESSIONS) throw new RetryableError(`upload ${this.p.name}: upload sessions keep vanishing`);
          [url, offset] = await this.createSession();
          await this.p.onSession?.(url);
        }
        try {
          const item = await this.sendFrom(url, offset);
          url = undefined; // completed: the session no longer exists
          return { item, ...this.source.digest(), size: this.p.size };
        } catch (error) {
          if (!(error instanceof NotFoundError)) throw error;
          url = undefined; // expired or lost: the next turn starts a new session from its own offset
        }
      }
    } catch (error) {
      // A transient failure keeps the session for the caller to resume (it has the URL from onSession);
      // anything else (abort, quota, fatal) leaves no half-written session behind.
      if (url !== undefined && (this.signal?.aborted || !(error instanceof RetryableError))) {
        await cancelSession(this.ctx, url, AbortSignal.timeout(CLEANUP_TIMEOUT_MS)).catch(() => undefined);
      }
      throw error;
    } finally {
      await this.source.close();
    }
  }

  private async createSession(): Promise<[string, number]> {
    const raw = await this.ctx.graph.send(
      `${childPath(this.p.parentId, this.p.name)}/createUploadSession`,
      (request) =>
        request.post({ item: { '@microsoft.graph.conflictBehavior': this.p.conflictBehavior ?? 'replace', fileSize: this.p.size } }),
      this.signal,
    );
    const session = parseGraph(createdSessionSchema, raw, `createUploadSession ${this.p.name}`);
    return [session.uploadUrl, this.firstExpected(session.nextExpectedRanges) ?? 0];
  }

  /** Where an existing session continues, or undefined when it is gone. */
  private async resumePoint(url: string): Promise<number | undefined> {
    try {
      return await withRetry(() => this.status(url), { ...this.ctx.retry, signal: this.signal });
    } catch (error) {
      if (error instanceof NotFoundError) return undefined;
      throw error;
    }
  }

  private async sendFrom(url: string, offset: number): Promise<DriveItem> {
    let next = offset;
    for (;;) {
      const outcome = await withRetry(
        async (attempt) => {
          // The failed request's bytes were discarded: ask the server where it stands.
          if (attempt > 1) next = await this.status(url);
          return this.sendFragment(url, next);
        },
        { ...this.ctx.retry, signal: this.signal },
      );
      if ('item' in outcome) {
        this.p.onProgress?.(this.p.size);
        return outcome.item;
      }
      next = outcome.next;
      this.p.onProgress?.(next);
    }
  }

  private async sendFragment(url: string, offset: number): Promise<FragmentOutcome> {
    const size = this.p.size;
    const length = Math.min(this.ctx.fragmentSize, size - offset);
    const body = await this.source.slice(offset, length);
    const what = `upload ${this.p.name} bytes ${offset}-${offset + length - 1}/${size}`;
    // A one-chunk stream, not the Buffer itself: fetch copies buffer bodies (a fragment-sized copy per
    // request), while a stream chunk goes to the socket as is. Content-Length keeps it unchunked.
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(body);
        controller.close();
      },
    });
    const headers = { 'Content-Length': String(length), 'Content-Range': `bytes ${offset}-${offset + length - 1}/${size}` };
    let answer: Answer;
    try {
      // SLOW_ANSWER: the server stores the fragment before it answers (src/http/deadlines.ts).
      answer = await exchange(this.ctx.fetch, url, { method: 'PUT', headers, body: stream, duplex: 'half', signal: this.signal, ...SLOW_ANSWER }, what);
    } catch (error) {
      this.source.detach();
      throw error;
    }
    if (answer.status === 202) {
      const next = this.firstExpected(parseGraph(sessionStatusSchema, parseJson(answer.text, what), what).nextExpectedRanges);
      return { next: next ?? offset + length };
    }
    if (answer.ok) return { item: parseGraph(driveItemSchema, parseJson(answer.text, what), what) };
    this.source.detach();
    // 416: the server holds a different range than we thought; the retry asks for its status at once.
    if (answer.status === 416) throw new RetryableError(`${what}: HTTP 416, resynchronising`, { status: 416, retryAfterMs: 0 });
    if (answer.status === 401) throw new FatalError(`${what}: HTTP 401 from the upload URL`, { status: 401 });
    throw errorFromAnswer(answer, what);
  }

  /** GET the session: the first byte it still expects. 404 → NotFoundError (session gone). */
  private async status(url: string): Promise<number> {
    const what = `upload ${this.p.name} session status`;
    const answer = await exchange(this.ctx.fetch, url, { method: 'GET', signal: this.signal }, what);
    if (!answer.ok) throw errorFromAnswer(answer, what);
    const next = this.firstExpected(parseGraph(sessionStatusSchema, parseJson(answer.text, what), what).nextExpectedRanges);
    // A session that expects nothing yet produced no item cannot finish: treat it as gone.
    if (next === undefined) throw new NotFoundError(`${what}: the session expects no more bytes`);
    return next;
  }

  /** Start of the first range in `["12345-", "200-300"]`; undefined when none is expected. */
  private firstExpected(ranges: string[] | undefined): number | undefined {
    const first = ranges?.[0];
    if (first === undefined) return undefined;
    const start = Number(first.split('-')[0]);
    if (!Number.isSafeInteger(start) || start < 0 || start >= this.p.size) {
      throw new FatalError(`upload ${this.p.name}: server expects range ${first} of a ${this.p.size}-byte file`);
    }
    return start;
  }
}

interface Answer {
  ok: boolean;
  status: number;
  headers: Headers;
  text: string;
}

/** One request to an upload URL (never with Authorization), its small JSON answer read whole; a
 * connection that fails before the answer is complete is a (retryable) network error. */
async function exchange(fetchImpl: typeof fetch, url: string, init: RequestInit, what: string): Promise<Answer> {
  try {
    const res = await fetchImpl(url, init);
    return { ok: res.ok, status: res.status, headers: res.headers, text: await res.text() };
  } catch (error) {
    // Aborted, or refused before sending (the drive's back-off gate): not a network failure.
    if (init.signal?.aborted || error instanceof SyncError) throw error;
    throw networkError(what, error);
  }
}

function parseJson(text: string, what: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new FatalError(`${what}: response is not JSON`, { cause: error });
  }
}

function anySignal(...signals: Array<AbortSignal | undefined>): AbortSignal | undefined {
  const present = signals.filter((s): s is AbortSignal => s !== undefined);
  return present.length <= 1 ? present[0] : AbortSignal.any(present);
}
