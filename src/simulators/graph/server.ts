/**
 * Microsoft Graph (personal OneDrive) simulator: a Graph host (`/v1.0/me/drive/…`, plus `/__sim/`
 * controls) and a separate upload host (upload sessions under `/rup/`, pre-authenticated downloads
 * under `/download/`), different ports standing for different hosts. Faults apply to both hosts
 * (not to `/__sim/`). Drives are created lazily, one per user.
 *
 * Where the documented contract (docs/contracts-graph.md) leaves a choice, the simulator takes the stricter side:
 * - Simple upload (`PUT …/content`) accepts at most 4 MiB (413 above): larger files need a session.
 *   A path-addressed PUT creates missing parent folders (OneDrive's upsert); createUploadSession
 *   requires the parent to exist (404 itemNotFound), as the OneDrive docs say.
 * - createUploadSession defaults to conflictBehavior `fail` and answers 409 nameAlreadyExists at
 *   creation when the name is taken; the clash is checked again when the last fragment arrives
 *   (real OneDrive may report it only then): 409, the last fragment is not accepted, the session
 *   stays. If the target folder is gone by then: 404 and the session ends.
 * - Fragments need Content-Length (no chunked bodies); `deferCommit: true` is refused with 400.
 * - Folder `replace` returns the existing folder (200), as OneDrive does.
 * - Deleting a folder reports it and every descendant as deleted in delta.
 * - Recycle-bin bytes are part of `quota.used` as well as `quota.deleted`.
 * - parentReference.path is percent-encoded per segment; delta items carry no path.
 *
 * Throttling is per drive: an answer 429/503 with Retry-After (an injected fault) opens a window for
 * that drive on both hosts, and requests for the drive arriving inside it are counted (`throttling`).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createReadStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { Faults } from '../faults.js';
import { type RunningServer, stallAfter, startHttpServer } from '../http.js';
import { parseAddress } from './addressing.js';
import { BlobStore } from './blob-store.js';
import { handleControl } from './control.js';
import { DeltaTokens } from './delta.js';
import { type DriveRecord, newCounters } from './drive-record.js';
import { Drive } from './drive.js';
import { GraphError, faultError, itemNotFound, unauthenticated } from './errors.js';
import { ConnectionDropped, Exchange } from './exchange.js';
import { handleGraph } from './graph-routes.js';
import type { PublicUrls } from './item-json.js';
import { type SimDrive, createSimDrive } from './sim-drive.js';
import { UploadSessions } from './upload-sessions.js';
import { type ThrottleReport, ThrottleWindows } from './throttle-windows.js';

export type { SimDrive, SimEntry, SimFile, SimFolder } from './sim-drive.js';
export type { Quota, QuotaState } from './drive.js';
export type { Counters } from './drive-record.js';
export type { ThrottleReport } from './throttle-windows.js';

export interface GraphSimulatorOptions {
  /** Maps a bearer access token to the user that owns it; null → 401 (InvalidAuthenticationToken). */
  resolveToken: (token: string) => { userId: string } | null;
  /** Ends the life of a user's access tokens before their expiry (the identity directory's), for the
   * `expire-access-tokens` control: Graph then answers 401 to tokens clients still think valid. */
  expireAccessTokens?: (userId: string) => void;
  /** App folder display name: the app folder is `Apps/<appName>`. */
  appName?: string;
  port?: number;
  uploadPort?: number;
  /** Quota of each new drive (default 5 GiB). */
  defaultQuotaBytes?: number;
  /** Where file bodies are written (default: a fresh temp dir, removed on close). */
  storageDir?: string;
  /** Added before every answer on both hosts (benchmarks). */
  latencyMs?: number;
}

export interface RequestLogEntry {
  host: 'graph' | 'upload';
  method: string;
  path: string;
  /** 0 when the connection was dropped before an answer. */
  status: number;
}

export interface GraphSimulator {
  /** Graph base, e.g. http://127.0.0.1:PORT/v1.0 (clients append /me/drive/…). */
  url: string;
  /** The separate upload host base. */
  uploadUrl: string;
  faults: Faults;
  drive(userId: string): SimDrive;
  /** The most recent requests on both hosts (last 1000), oldest first. */
  readonly requestLog: readonly RequestLogEntry[];
  /** Requests and TCP connections since start, per host (connection reuse shows as few connections). */
  readonly traffic: { requests: Record<RequestLogEntry['host'], number>; connections: Record<RequestLogEntry['host'], number> };
  /** Back-off windows announced per drive and the requests that arrived inside them. */
  readonly throttling: ThrottleReport;
  close(): Promise<void>;
}

const DEFAULT_QUOTA = 5 * 1024 ** 3;
const REQUEST_LOG_SIZE = 1000;
const KEEP_ALIVE_MS = 5_000;

export async function startGraphSimulator(opts: GraphSimulatorOptions): Promise<GraphSimulator> {
  const appName = opts.appName ?? 'Qonto Receipts';
  const blobs = await BlobStore.open(opts.storageDir);
  const faults = new Faults();
  const records = new Map<string, DriveRecord>();
  const simDrives = new Map<string, SimDrive>();
  const requestLog: RequestLogEntry[] = [];
  const traffic = { requests: { graph: 0, upload: 0 }, connections: { graph: 0, upload: 0 } };
  const windows = new ThrottleWindows();
  /** The drive each request is for, when known as it arrives. */
  const arrivals = new WeakMap<IncomingMessage, string>();
  // The public URLs embed the ports, known once both servers listen: filled in below, read per request.
  const urls: PublicUrls = { graph: '', upload: '' };
  const sessions = new UploadSessions(blobs, urls);

  const record = (userId: string): DriveRecord => {
    let rec = records.get(userId);
    if (!rec) {
      rec = { drive: new Drive(userId, appName, opts.defaultQuotaBytes ?? DEFAULT_QUOTA, blobs), delta: new DeltaTokens(), counters: newCounters() };
      records.set(userId, rec);
    }
    return rec;
  };
  const recordByDriveId = (driveId: string): DriveRecord | undefined => [...records.values()].find((r) => r.drive.id === driveId);
  const simDrive = (userId: string): SimDrive => {
    let sim = simDrives.get(userId);
    if (!sim) simDrives.set(userId, (sim = createSimDrive(record(userId), sessions, blobs)));
    return sim;
  };

  /** Applies a queued fault; false when the request is over (connection dropped). */
  const applyFault = async (ex: Exchange): Promise<boolean> => {
    const action = faults.take(ex.method, ex.req.url ?? ex.rawPath);
    if (!action) return true;
    if (action.kind === 'status') throw faultError(action.status, action.code, action.retryAfterSec);
    if (action.kind === 'drop') {
      ex.destroy();
      return false;
    }
    if (action.kind === 'stall') {
      await ex.discardBody();
      return false;
    }
    if (action.kind === 'stall-body') {
      stallAfter(ex.res, action.bytes);
      return true;
    }
    if (action.kind === 'slow-answer') {
      ex.delayAnswer(action.ms);
      return true;
    }
    if (action.kind === 'redirect') {
      await ex.discardBody();
      ex.send(action.status ?? 302, undefined, { location: action.location });
      return false;
    }
    ex.armDrop(action.bytes);
    if (ex.method !== 'PUT' && ex.method !== 'POST') await ex.discardBody();
    return true;
  };

  /** The drive a request is for: the token's user on the Graph host, the path on the upload host. */
  const driveIdOf = (host: RequestLogEntry['host'], req: IncomingMessage): string | undefined => {
    const url = req.url ?? '';
    if (host === 'upload') return /^\/(?:rup|download)\/([^/?]+)\//.exec(url)?.[1];
    if (url.startsWith('/__sim/')) return undefined;
    const auth = /^Bearer\s+(.+)$/i.exec(req.headers.authorization ?? '');
    const user = auth ? opts.resolveToken(auth[1]!.trim()) : null;
    return user ? record(user.userId).drive.id : undefined;
  };

  /** Stamps each request as its headers arrive, before the simulated latency delays its handling. */
  const watch = (host: RequestLogEntry['host'], server: RunningServer['server']): void => {
    // fetch (undici) keeps a connection only if the server's keep-alive hint exceeds one second;
    // Graph and its upload hosts do keep connections, so must the simulator.
    server.keepAliveTimeout = KEEP_ALIVE_MS;
    server.on('connection', () => (traffic.connections[host] += 1));
    server.prependListener('request', (req: IncomingMessage) => {
      traffic.requests[host] += 1;
      const driveId = driveIdOf(host, req);
      if (driveId === undefined) return;
      arrivals.set(req, driveId);
      windows.arrived(driveId);
    });
  };

  const serve =
    (host: RequestLogEntry['host'], handler: (ex: Exchange) => Promise<void>) =>
    async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
      const ex = new Exchange(req, res);
      res.on('close', () => {
        requestLog.push({ host, method: ex.method, path: req.url ?? '', status: res.writableFinished ? res.statusCode : 0 });
        if (requestLog.length > REQUEST_LOG_SIZE) requestLog.shift();
      });
      try {
        await handler(ex);
      } catch (error) {
        if (error instanceof ConnectionDropped) return;
        if (!(error instanceof GraphError)) throw error;
        await ex.fail(error).catch((e: unknown) => {
          if (!(e instanceof ConnectionDropped)) throw e;
        });
        const retryAfterSec = Number(error.headers['retry-after']);
        const driveId = arrivals.get(req);
        if ((error.status === 429 || error.status === 503) && retryAfterSec >= 0 && driveId !== undefined && res.headersSent) {
          windows.announce(driveId, retryAfterSec * 1000);
        }
      }
    };

  const graphHost = await startHttpServer(
    serve('graph', async (ex) => {
      if (ex.rawPath.startsWith('/__sim/')) {
        return handleControl(ex, { faults, drive: simDrive, userIds: () => [...records.keys()], expireAccessTokens: opts.expireAccessTokens });
      }
      if (!(await applyFault(ex))) return;
      const auth = /^Bearer\s+(.+)$/i.exec(ex.header('authorization') ?? '');
      const user = auth ? opts.resolveToken(auth[1]!.trim()) : null;
      if (!user) throw unauthenticated();
      const address = ex.rawPath.startsWith('/v1.0/') ? parseAddress(ex.rawPath.slice('/v1.0'.length)) : undefined;
      if (!address) throw new GraphError(400, 'invalidRequest', `Resource not found for the segment in ${ex.rawPath}.`);
      await handleGraph(ex, address, { record: record(user.userId), sessions: sessions, blobs, urls: urls, origin: graphHost.url });
    }),
    opts.port ?? 0,
    '127.0.0.1',
    { latencyMs: opts.latencyMs },
  );

  const uploadHost = await startHttpServer(
    serve('upload', async (ex) => {
      if (!(await applyFault(ex))) return;
      const upload = /^\/rup\/([^/]+)\/([^/]+)$/.exec(ex.rawPath);
      if (upload) return sessions.handle(ex, upload[1]!, upload[2]!);
      const dl = /^\/download\/([^/]+)\/([^/]+)$/.exec(ex.rawPath);
      const item = dl && ex.method === 'GET' ? recordByDriveId(dl[1]!)?.drive.get(decodeURIComponent(dl[2]!)) : undefined;
      if (!item?.blobPath) throw itemNotFound();
      ex.res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': item.size });
      await pipeline(createReadStream(item.blobPath), ex.res);
    }),
    opts.uploadPort ?? 0,
    '127.0.0.1',
    { latencyMs: opts.latencyMs },
  );

  urls.graph = `${graphHost.url}/v1.0`;
  urls.upload = uploadHost.url;
  watch('graph', graphHost.server);
  watch('upload', uploadHost.server);

  return {
    url: urls.graph,
    uploadUrl: uploadHost.url,
    faults,
    drive: simDrive,
    requestLog,
    traffic,
    throttling: windows.report,
    close: async () => {
      await Promise.all([graphHost.close(), uploadHost.close()]);
      await sessions.closeAll();
      await blobs.close();
    },
  };
}
