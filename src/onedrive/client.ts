/**
 * The OneDrive (Microsoft Graph) client the activities use: drive and quota, the app folder, folders,
 * uploads, delta and deletes. Typed errors (src/errors.ts) say what to do next; transient failures
 * are retried inside (see graph-client.ts), a Retry-After beyond `maxRetryAfterMs` goes up. Every
 * request, to Graph and to upload URLs, passes the drive's back-off gate (src/http/backoff-gate.ts).
 */
import { DEFAULT_MAX_BUDGET_WAIT_MS, type PermitLease } from '../budget/rate-budget.js';
import { FatalError, NotFoundError, RetryableError } from '../errors.js';
import { BackoffGate } from '../http/backoff-gate.js';
import type { RequestDeadlines } from '../http/deadlines.js';
import { outboundFetch } from '../http/outbound.js';
import type { RetryOptions } from '../http/retry.js';
import { meteredFetch, meteredRetry, windowWaits } from '../metrics/http.js';
import { childPath, driveItemSchema, driveSchema, parseGraph, type DriveItem, type Quota } from './drive-item.js';
import { fetchDeltaPage, type DeltaPage, type DeltaStart } from './delta.js';
import { GraphApi, type AccessTokenGetter } from './graph-client.js';
import { cancelSession, uploadFile, type UploadContext, type UploadParams, type UploadResult } from './upload.js';

export type { DriveItem, Quota } from './drive-item.js';
export type { DeltaPage, DeltaStart } from './delta.js';
export { DeltaResyncRequiredError } from './graph-errors.js';
export type { UploadParams, UploadResult } from './upload.js';

export interface OneDriveClientOptions {
  /** e.g. https://graph.microsoft.com/v1.0 or http://127.0.0.1:P/v1.0 */
  graphUrl: string;
  /** May throw ReconnectRequiredError; it reaches the caller untouched. */
  getAccessToken: AccessTokenGetter;
  retry?: Partial<RetryOptions>;
  /** Connect and idle deadlines of every request, upload URLs included (default DEFAULT_DEADLINES). */
  deadlines?: Partial<RequestDeadlines>;
  /** Replaces the default fetch (and its deadlines). */
  fetch?: typeof fetch;
  signal?: AbortSignal;
  /** Upload session fragment: rounded down to a multiple of 320 KiB, below 60 MiB. Default 10 MiB. */
  fragmentSize?: number;
  /** Largest file sent with a single PUT. Default 4 MiB. */
  simpleUploadMax?: number;
  /**
   * The back-off shared by every client of the same drive: a 429/503 with Retry-After on any request
   * (Graph or upload URL) holds all of them until the window ends. Default: one for this client.
   */
  gate?: BackoffGate;
  /** Permits of the app-wide Graph budget (services.ts leases them per process): every request
   * takes one once the drive's gate lets it through. Default: none. */
  permits?: PermitLease;
  /** The longest a request waits for its permit; beyond it the request is refused unsent with a 429
   * RetryableError of code `budgetWait` (default: DEFAULT_MAX_BUDGET_WAIT_MS, 20 min). */
  maxBudgetWaitMs?: number;
}

export const DEFAULT_RETRY: RetryOptions = { attempts: 5, baseDelayMs: 1_000, maxDelayMs: 60_000, maxRetryAfterMs: 60_000 };

/** Fragments must be multiples of 320 KiB (all but the last) and each request below 60 MiB. */
const FRAGMENT_UNIT = 327_680;
const FRAGMENT_LIMIT = 60 * 1024 * 1024;
const DEFAULT_FRAGMENT = 10 * 1024 * 1024;
const DEFAULT_SIMPLE_MAX = 4 * 1024 * 1024;

function fragmentSizeFor(requested = DEFAULT_FRAGMENT): number {
  const units = Math.floor(Math.min(requested, FRAGMENT_LIMIT - 1) / FRAGMENT_UNIT);
  return Math.max(1, units) * FRAGMENT_UNIT;
}

export class OneDriveClient {
  private readonly graph: GraphApi;
  private readonly uploads: UploadContext;
  private readonly signal?: AbortSignal;

  constructor(opts: OneDriveClientOptions) {
    const retry = meteredRetry('graph', { ...DEFAULT_RETRY, ...opts.retry, signal: undefined });
    // Metered inside the gate: what is counted is what was sent (the upload host's requests too).
    const sent = meteredFetch('graph', opts.fetch ?? outboundFetch(opts.deadlines));
    // The drive's gate first, then the app-wide permit (a 429 from Graph is about one drive): a request
    // held by the drive's window takes its permit once the window is over, so it does not arrive long
    // after its permit's slot, and a closed drive spends no permits.
    const permitted = opts.permits ? opts.permits.wrap(sent, { maxBudgetWaitMs: opts.maxBudgetWaitMs ?? DEFAULT_MAX_BUDGET_WAIT_MS }) : sent;
    const fetchImpl = (opts.gate ?? new BackoffGate()).wrap(permitted, retry.maxRetryAfterMs, windowWaits('graph'));
    this.signal = opts.signal;
    this.graph = new GraphApi({ graphUrl: opts.graphUrl, getAccessToken: opts.getAccessToken, retry, fetch: fetchImpl });
    this.uploads = {
      graph: this.graph,
      fetch: fetchImpl,
      retry,
      fragmentSize: fragmentSizeFor(opts.fragmentSize),
      simpleUploadMax: opts.simpleUploadMax ?? DEFAULT_SIMPLE_MAX,
      signal: opts.signal,
    };
  }

  async getDrive(): Promise<{ id: string; driveType: string; quota: Quota }> {
    const drive = parseGraph(driveSchema, await this.get('/me/drive'), 'GET /me/drive');
    return { id: drive.id, driveType: drive.driveType, quota: drive.quota };
  }

  /** `Apps/<app name>/`, created by Graph on first access. */
  async getAppFolder(): Promise<DriveItem> {
    return parseGraph(driveItemSchema, await this.get('/me/drive/special/approot'), 'GET approot');
  }

  async getItem(id: string): Promise<DriveItem | null> {
    return this.orNull(async () => parseGraph(driveItemSchema, await this.get(`/me/drive/items/${encodeURIComponent(id)}`), 'GET item'));
  }

  /** The child called `name` (compared case-insensitively by Graph), or null. */
  async getChild(parentId: string, name: string): Promise<DriveItem | null> {
    return this.orNull(async () => parseGraph(driveItemSchema, await this.get(childPath(parentId, name)), 'GET child'));
  }

  /**
   * The folder `name` under `parentId`, created if missing. Creation uses conflictBehavior "fail",
   * so a concurrent creator (or an existing folder) answers 409 and we adopt the existing folder.
   */
  async ensureFolder(parentId: string, name: string): Promise<DriveItem> {
    for (let round = 0; round < 3; round++) {
      try {
        const created = await this.graph.send(
          `/me/drive/items/${encodeURIComponent(parentId)}/children`,
          (request) => request.post({ name, folder: {}, '@microsoft.graph.conflictBehavior': 'fail' }),
          this.signal,
        );
        return parseGraph(driveItemSchema, created, 'create folder');
      } catch (error) {
        if (!(error instanceof FatalError && error.status === 409)) throw error;
      }
      const existing = await this.getChild(parentId, name);
      if (existing?.folder) return existing;
      if (existing) throw new FatalError(`cannot create folder "${name}": a file of that name is in the way`, { status: 409, code: 'nameAlreadyExists' });
      // Deleted between our two requests: create it again.
    }
    throw new RetryableError(`folder "${name}" keeps appearing and disappearing`);
  }

  uploadFile(p: UploadParams): Promise<UploadResult> {
    return uploadFile(this.uploads, p);
  }

  /** DELETE an upload session (no Authorization); one already gone is fine. `signal`: the caller's
   * (an activity's cancellation), as this client's own is unset for the activities' clients. */
  cancelUploadSession(uploadUrl: string, signal = this.signal): Promise<void> {
    return cancelSession(this.uploads, uploadUrl, signal);
  }

  deltaPage(link: DeltaStart): Promise<DeltaPage> {
    return fetchDeltaPage(this.graph, link, this.signal);
  }

  /** Moves the item to the recycle bin; an item already gone is fine. */
  async deleteItem(id: string): Promise<void> {
    await this.orNull(() => this.graph.send(`/me/drive/items/${encodeURIComponent(id)}`, (request) => request.delete(), this.signal));
  }

  private get(path: string): Promise<unknown> {
    return this.graph.send(path, (request) => request.get(), this.signal);
  }

  private async orNull<T>(run: () => Promise<T>): Promise<T | null> {
    try {
      return await run();
    } catch (error) {
      if (error instanceof NotFoundError) return null;
      throw error;
    }
  }
}
