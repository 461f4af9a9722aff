/**
 * Resumable upload sessions (docs/contracts-graph.md, Upload sessions) on the separate upload host. Fragments must come in
 * order, with a constant total, sized in multiples of 320 KiB except the last, each under 60 MiB.
 * A fragment is accepted only once all its bytes arrived: a cut-off fragment is truncated away (file
 * and hash), so nextExpectedRanges points at its start again. Requests to one session are handled
 * one at a time, so a retry after an abort sees the rolled-back state. The file becomes a driveItem
 * only when the last fragment is in.
 */
import { randomBytes } from 'node:crypto';
import { open, writeFile } from 'node:fs/promises';
import { type BlobStore, writeChunks } from './blob-store.js';
import type { DriveRecord } from './drive-record.js';
import type { ConflictBehavior, Item } from './drive.js';
import { GraphError, invalidRange, invalidRequest, itemNotFound, quotaLimitReached } from './errors.js';
import type { Exchange } from './exchange.js';
import { type PublicUrls, driveItemJson } from './item-json.js';
import { QuickXorHash } from './quick-xor-hash.js';

export const FRAGMENT_UNIT = 327_680;
export const MAX_FRAGMENT_BYTES = 60 * 1024 * 1024;
/** Personal sessions live about a week; each fragment extends the deadline. */
const SESSION_LIFETIME_MS = 7 * 24 * 3600 * 1000;

interface Session {
  readonly id: string;
  readonly record: DriveRecord;
  readonly parentId: string;
  readonly name: string;
  readonly behavior: ConflictBehavior;
  readonly partPath: string;
  /** Fixed by `item.fileSize` at creation, else by the first fragment. */
  total?: number;
  /** Bytes accepted so far; the next fragment must start here. */
  received: number;
  hash: QuickXorHash;
  expiresAt: number;
  queue: Promise<void>;
}

export interface SessionStatus {
  expirationDateTime: string;
  nextExpectedRanges: string[];
}

export class UploadSessions {
  private readonly sessions = new Map<string, Session>();

  constructor(
    private readonly blobs: BlobStore,
    private readonly urls: PublicUrls,
  ) {}

  /**
   * Opens a session for `name` in `parent`. Refuses up front what would certainly fail: a bad name,
   * a clash under `fail` (checked again at completion), a declared `fileSize` that does not fit.
   */
  async create(record: DriveRecord, parent: Item, name: string, behavior: ConflictBehavior, fileSize?: number): Promise<SessionStatus & { uploadUrl: string }> {
    const { drive } = record;
    drive.assertCanCreate(parent, name);
    const target = drive.conflict(parent, name, behavior);
    if (fileSize !== undefined && fileSize - (target.replaces?.size ?? 0) > drive.remaining()) {
      throw quotaLimitReached('The file is larger than the space left in the drive.');
    }
    const session: Session = {
      id: randomBytes(24).toString('base64url'),
      record,
      parentId: parent.id,
      name,
      behavior,
      partPath: this.blobs.newPath('part'),
      total: fileSize,
      received: 0,
      hash: new QuickXorHash(),
      expiresAt: Date.now() + SESSION_LIFETIME_MS,
      queue: Promise.resolve(),
    };
    await writeFile(session.partPath, '');
    this.sessions.set(session.id, session);
    record.counters.createUploadSession++;
    return { uploadUrl: `${this.urls.upload}/rup/${drive.id}/${session.id}`, ...status(session) };
  }

  /** Ids of the open (unexpired) sessions of one drive. */
  idsFor(record: DriveRecord): string[] {
    return [...this.sessions.values()].filter((s) => s.record === record && s.expiresAt > Date.now()).map((s) => s.id);
  }

  /** Ends every session of the drive as if it had expired: their URLs answer 404 from now on. */
  async expireFor(record: DriveRecord): Promise<void> {
    await Promise.all([...this.sessions.values()].filter((s) => s.record === record).map((s) => this.discard(s)));
  }

  async closeAll(): Promise<void> {
    await Promise.all([...this.sessions.values()].map((s) => this.discard(s)));
  }

  /** `PUT|GET|DELETE /rup/<driveId>/<sessionId>` on the upload host (no Authorization allowed). */
  async handle(ex: Exchange, driveId: string, sessionId: string): Promise<void> {
    if (ex.header('authorization') !== undefined) {
      throw new GraphError(401, 'unauthenticated', 'Upload URLs are pre-authenticated: do not send an Authorization header.');
    }
    const session = this.sessions.get(sessionId);
    if (!session || session.record.drive.id !== driveId) throw sessionNotFound();
    await this.exclusive(session, async () => {
      if (this.sessions.get(sessionId) !== session) throw sessionNotFound();
      if (session.expiresAt <= Date.now()) {
        await this.discard(session);
        throw sessionNotFound();
      }
      if (ex.method === 'GET') return ex.send(200, status(session));
      if (ex.method === 'DELETE') {
        await this.discard(session);
        return ex.send(204);
      }
      if (ex.method === 'PUT') return this.fragment(ex, session);
      throw new GraphError(405, 'invalidRequest', `${ex.method} is not supported on an upload URL.`);
    });
  }

  private async fragment(ex: Exchange, session: Session): Promise<void> {
    const { start, end, total } = parseContentRange(ex.header('content-range'));
    const length = end - start + 1;
    const declared = ex.header('content-length');
    if (declared === undefined || !/^\d+$/.test(declared)) throw invalidRequest('A Content-Length header is required.');
    if (Number(declared) !== length) {
      throw invalidRange('fragmentLengthMismatch', `Content-Length ${declared} does not match Content-Range ${start}-${end}.`);
    }
    if (length >= MAX_FRAGMENT_BYTES) throw invalidRequest(`A fragment must be smaller than ${MAX_FRAGMENT_BYTES} bytes.`, 'fragmentTooLarge');
    if (session.total !== undefined && total !== session.total) {
      throw invalidRequest(`The total size ${total} differs from the session's ${session.total}.`, 'invalidRange');
    }
    if (start < session.received) throw invalidRange('fragmentOverlap', `Bytes ${start}-${end} overlap what was already received (next: ${session.received}).`);
    if (start > session.received) throw invalidRange('fragmentOutOfOrder', `Expected the fragment starting at ${session.received}, got ${start}.`);
    const last = end + 1 === total;
    if (!last && length % FRAGMENT_UNIT !== 0) {
      throw invalidRange('fragmentLengthMismatch', `Fragments other than the last must be a multiple of ${FRAGMENT_UNIT} bytes.`);
    }
    const { drive } = session.record;
    const parent = drive.get(session.parentId);
    const replaced = parent && session.behavior === 'replace' ? drive.child(parent, session.name) : undefined;
    if (end + 1 - (replaced?.kind === 'file' ? replaced.size : 0) > drive.remaining()) throw quotaLimitReached();

    const hash = session.hash.clone();
    const file = await open(session.partPath, 'r+');
    try {
      await writeChunks(ex.body(), file, start, hash);
    } catch (error) {
      await file.truncate(start);
      throw error;
    } finally {
      await file.close();
    }
    const previousHash = session.hash;
    session.total = total;
    session.received = end + 1;
    session.hash = hash;
    session.expiresAt = Date.now() + SESSION_LIFETIME_MS;
    session.record.counters.uploadFragments++;
    if (!last) return ex.send(202, status(session));
    await this.complete(ex, session, start, previousHash);
  }

  /**
   * Last fragment in: the part file becomes the item. A refused commit (name clash under `fail`,
   * quota) un-accepts the last fragment so the client can retry it; a vanished parent ends the session.
   */
  private async complete(ex: Exchange, session: Session, lastStart: number, previousHash: QuickXorHash): Promise<void> {
    const { drive } = session.record;
    const parent = drive.get(session.parentId);
    if (!parent) {
      await this.discard(session);
      throw itemNotFound('The folder this upload was meant for no longer exists.');
    }
    try {
      const content = { blobPath: session.partPath, size: session.received, quickXorHash: session.hash.digest() };
      const { item, created } = await drive.commitFile(parent, session.name, session.behavior, content);
      this.sessions.delete(session.id);
      ex.send(created ? 201 : 200, driveItemJson(drive, item, this.urls));
    } catch (error) {
      session.received = lastStart;
      session.hash = previousHash;
      await truncateTo(session.partPath, lastStart);
      throw error;
    }
  }

  private async discard(session: Session): Promise<void> {
    if (this.sessions.get(session.id) === session) this.sessions.delete(session.id);
    await this.blobs.remove(session.partPath);
  }

  private exclusive(session: Session, fn: () => Promise<void>): Promise<void> {
    const run = session.queue.then(fn);
    session.queue = run.catch(() => undefined);
    return run;
  }
}

async function truncateTo(path: string, length: number): Promise<void> {
  const file = await open(path, 'r+');
  try {
    await file.truncate(length);
  } finally {
    await file.close();
  }
}

function status(session: Session): SessionStatus {
  return { expirationDateTime: new Date(session.expiresAt).toISOString(), nextExpectedRanges: [`${session.received}-`] };
}

const sessionNotFound = (): GraphError => itemNotFound('The upload session was not found (it expired or was cancelled).');

function parseContentRange(header: string | undefined): { start: number; end: number; total: number } {
  const m = header === undefined ? null : /^bytes (\d+)-(\d+)\/(\d+)$/.exec(header.trim());
  if (!m) throw invalidRequest('A Content-Range header "bytes start-end/total" is required.', 'invalidRange');
  const [start, end, total] = [Number(m[1]), Number(m[2]), Number(m[3])];
  if (start > end || end >= total) throw invalidRequest(`Content-Range ${header} is not a valid range.`, 'invalidRange');
  return { start, end, total };
}
