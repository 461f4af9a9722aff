/**
 * The Graph drive endpoints (docs/contracts-graph.md, Drive and quota to Delta) for an authenticated user: drive and quota, item
 * lookup, children listing and folder creation, simple upload and download, upload-session
 * creation, delete to the recycle bin, and delta.
 */
import { writeFileSync } from 'node:fs';
import { z } from 'zod';
import type { Address, Base } from './addressing.js';
import type { BlobStore } from './blob-store.js';
import { DEFAULT_TOP } from './delta.js';
import type { DriveRecord } from './drive-record.js';
import type { ConflictBehavior, Item } from './drive.js';
import { GraphError, invalidRequest, itemNotFound, quotaLimitReached } from './errors.js';
import type { Exchange } from './exchange.js';
import { type PublicUrls, downloadUrl, driveItemJson, driveJson } from './item-json.js';
import { nameKey } from './names.js';
import { QuickXorHash } from './quick-xor-hash.js';
import type { UploadSessions } from './upload-sessions.js';

/** Simple uploads: at most 4 MiB, as the OneDrive docs, rclone and the Graph SDK assume (docs/contracts-graph.md, Simple upload). */
export const SIMPLE_UPLOAD_MAX_BYTES = 4 * 1024 * 1024;

export interface GraphContext {
  record: DriveRecord;
  sessions: UploadSessions;
  blobs: BlobStore;
  urls: PublicUrls;
  /** Graph host origin (no version), for absolute paging links. */
  origin: string;
}

const BEHAVIOR_PARAM = '@microsoft.graph.conflictBehavior';
const behaviorSchema = z.enum(['fail', 'replace', 'rename']);

const createFolderBody = z.looseObject({
  name: z.string(),
  folder: z.looseObject({}).optional(),
  [BEHAVIOR_PARAM]: z.string().optional(),
});

const createSessionBody = z.looseObject({
  item: z
    .looseObject({
      [BEHAVIOR_PARAM]: z.string().optional(),
      name: z.string().optional(),
      fileSize: z.number().int().nonnegative().optional(),
    })
    .optional(),
  deferCommit: z.boolean().optional(),
});

export async function handleGraph(ex: Exchange, address: Address, ctx: GraphContext): Promise<void> {
  const { drive } = ctx.record;
  if (address.driveId !== undefined && address.driveId.toLowerCase() !== drive.id) throw itemNotFound('Drive not found.');
  if (address.target === 'drive') {
    requireMethod(ex, 'GET');
    return ex.send(200, driveJson(drive));
  }
  const base = baseItem(ctx, address.base);
  const { path } = address;
  const item = drive.resolve(base, path);
  switch (address.action) {
    case 'item':
      if (ex.method === 'GET') return ex.send(200, driveItemJson(drive, found(item), ctx.urls));
      requireMethod(ex, 'DELETE');
      return deleteItem(ex, ctx, found(item));
    case 'children':
      if (ex.method === 'GET') return listChildren(ex, ctx, folderOf(item));
      requireMethod(ex, 'POST');
      return createFolder(ex, ctx, folderOf(item));
    case 'content':
      if (ex.method === 'GET') return download(ex, ctx, found(item));
      requireMethod(ex, 'PUT');
      return simpleUpload(ex, ctx, base, path);
    case 'createUploadSession':
      requireMethod(ex, 'POST');
      return createUploadSession(ex, ctx, base, path);
    case 'delta': {
      requireMethod(ex, 'GET');
      const page = ctx.record.delta.page(drive, folderOf(item), ex.query.get('token'), parseTop(ex), `${ctx.origin}${ex.rawPath}`, ctx.urls);
      ctx.record.counters.deltaCalls++;
      return ex.send(200, page);
    }
  }
}

function baseItem(ctx: GraphContext, base: Base): Item {
  const { drive } = ctx.record;
  if (base.kind === 'root') return drive.root;
  if (base.kind === 'approot') return drive.approot();
  return found(drive.get(base.id));
}

function found(item: Item | undefined): Item {
  if (!item) throw itemNotFound();
  return item;
}

function folderOf(item: Item | undefined): Item {
  const folder = found(item);
  if (folder.kind !== 'folder') throw invalidRequest('The item is not a folder.');
  return folder;
}

function requireMethod(ex: Exchange, method: string): void {
  if (ex.method !== method) throw new GraphError(405, 'invalidRequest', `${ex.method} is not supported on this resource.`);
}

function behaviorFrom(value: string | null | undefined, fallback: ConflictBehavior): ConflictBehavior {
  if (value === null || value === undefined) return fallback;
  const parsed = behaviorSchema.safeParse(value);
  if (!parsed.success) throw invalidRequest(`Unknown ${BEHAVIOR_PARAM} "${value}".`);
  return parsed.data;
}

function parseTop(ex: Exchange): number | undefined {
  const top = ex.query.get('$top');
  if (top === null) return undefined;
  if (!/^\d+$/.test(top) || Number(top) < 1) throw invalidRequest('$top must be a positive integer.');
  return Number(top);
}

async function deleteItem(ex: Exchange, ctx: GraphContext, item: Item): Promise<void> {
  if (item.parentId === null) throw new GraphError(403, 'accessDenied', 'The root folder cannot be deleted.');
  await ctx.record.drive.delete(item);
  ctx.record.counters.deletes++;
  ex.send(204);
}

/** Children sorted by name; `$skiptoken` is the last name key handed out, so inserts never shift pages. */
function listChildren(ex: Exchange, ctx: GraphContext, folder: Item): void {
  const { drive } = ctx.record;
  const top = parseTop(ex) ?? DEFAULT_TOP;
  const skip = ex.query.get('$skiptoken');
  const after = skip === null ? undefined : Buffer.from(skip, 'base64url').toString('utf8');
  const rest = drive.childrenOf(folder).filter((c) => after === undefined || nameKey(c.name) > after);
  const page = rest.slice(0, top);
  const body: Record<string, unknown> = { value: page.map((c) => driveItemJson(drive, c, ctx.urls)) };
  const last = page.at(-1);
  if (rest.length > top && last) {
    const token = Buffer.from(nameKey(last.name)).toString('base64url');
    body['@odata.nextLink'] = `${ctx.origin}${ex.rawPath}?$top=${top}&$skiptoken=${token}`;
  }
  ex.send(200, body);
}

async function createFolder(ex: Exchange, ctx: GraphContext, parent: Item): Promise<void> {
  const body = await ex.json(createFolderBody);
  if (!body.folder) throw invalidRequest('Only folders can be created here: send "folder": {}.');
  const behavior = behaviorFrom(body[BEHAVIOR_PARAM] ?? ex.query.get(BEHAVIOR_PARAM), 'fail');
  const { item, created } = ctx.record.drive.createFolder(parent, body.name, behavior);
  if (created) ctx.record.counters.folderCreates++;
  ex.send(created ? 201 : 200, driveItemJson(ctx.record.drive, item, ctx.urls));
}

function download(ex: Exchange, ctx: GraphContext, item: Item): void {
  if (item.kind !== 'file') throw invalidRequest('Folders have no content.');
  ex.send(302, undefined, { location: downloadUrl(ctx.record.drive, item, ctx.urls) });
}

/** Where a write lands: `base` itself when no path follows it (update that file), else path's last segment. */
function writeTarget(ctx: GraphContext, base: Item, path: string[]): { from: Item; folders: string[]; name: string; forceReplace: boolean } {
  if (path.length > 0) return { from: base, folders: path.slice(0, -1), name: path.at(-1)!, forceReplace: false };
  if (base.kind !== 'file') throw invalidRequest('Content can only be uploaded to a file.');
  return { from: found(ctx.record.drive.parentOf(base)), folders: [], name: base.name, forceReplace: true };
}

/**
 * `PUT …/content`: up to 4 MiB, default conflictBehavior replace; missing parent folders are
 * created (path-based upsert, as OneDrive does). The body (at most 4 MiB) is read and hashed, then
 * written to a new blob in one file operation: chunk-by-chunk writes through the file-system thread
 * pool made every upload wait when many arrived at once. Nothing becomes visible unless the whole
 * body arrived.
 */
async function simpleUpload(ex: Exchange, ctx: GraphContext, base: Item, path: string[]): Promise<void> {
  const { drive } = ctx.record;
  const target = writeTarget(ctx, base, path);
  const behavior = target.forceReplace ? 'replace' : behaviorFrom(ex.query.get(BEHAVIOR_PARAM), 'replace');
  drive.assertCanCreatePath(target.from, [...target.folders, target.name]);
  const parent = drive.resolve(target.from, target.folders);
  if (parent && parent.kind !== 'folder') throw invalidRequest('A file is in the way of the path.');
  const replaces = parent ? drive.conflict(parent, target.name, behavior).replaces : undefined;
  const declared = Number(ex.header('content-length') ?? 0);
  const tooLarge = (): GraphError =>
    new GraphError(413, 'invalidRequest', `Simple uploads are limited to ${SIMPLE_UPLOAD_MAX_BYTES} bytes; use an upload session.`, 'maxRequestLengthExceeded');
  if (declared > SIMPLE_UPLOAD_MAX_BYTES) throw tooLarge();
  const room = drive.remaining() + (replaces?.size ?? 0);
  if (declared > room) throw quotaLimitReached();

  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of ex.body()) {
    size += chunk.length;
    if (size > SIMPLE_UPLOAD_MAX_BYTES) throw tooLarge();
    if (size > room) throw quotaLimitReached();
    chunks.push(chunk);
  }
  const body = Buffer.concat(chunks, size);
  const hash = new QuickXorHash().update(body);
  const blobPath = ctx.blobs.newPath('blob');
  try {
    // At most 4 MiB, already in memory: one synchronous copy into the page cache costs less than
    // open, write and close each queued on the thread pool behind every other file operation. It
    // blocks the simulator's loop (the product's too where they share a process) while it copies.
    writeFileSync(blobPath, body);
    const folder = drive.ensureFolders(target.from, target.folders);
    const { item, created } = await drive.commitFile(folder, target.name, behavior, { blobPath, size, quickXorHash: hash.digest() });
    ctx.record.counters.simpleUploads++;
    ex.send(created ? 201 : 200, driveItemJson(drive, item, ctx.urls));
  } catch (error) {
    await ctx.blobs.remove(blobPath);
    throw error;
  }
}

/**
 * `POST …:/{name}:/createUploadSession`: the parent folder must exist (404 otherwise, as the
 * OneDrive docs require); default conflictBehavior `fail`, checked here and again at completion.
 */
async function createUploadSession(ex: Exchange, ctx: GraphContext, base: Item, path: string[]): Promise<void> {
  const body = await ex.json(createSessionBody);
  if (body.deferCommit === true) throw invalidRequest('deferCommit is not supported by this simulator.');
  const target = writeTarget(ctx, base, path);
  if (body.item?.name !== undefined && nameKey(body.item.name) !== nameKey(target.name)) {
    throw invalidRequest('item.name does not match the name in the URL.');
  }
  const behavior = target.forceReplace ? 'replace' : behaviorFrom(body.item?.[BEHAVIOR_PARAM] ?? ex.query.get(BEHAVIOR_PARAM), 'fail');
  const parent = ctx.record.drive.resolve(target.from, target.folders);
  if (!parent || parent.kind !== 'folder') throw itemNotFound('The parent folder does not exist.');
  ex.send(200, await ctx.sessions.create(ctx.record, parent, target.name, behavior, body.item?.fileSize));
}
