/**
 * The JSON shapes the simulator answers with: drive, driveItem, deleted driveItem
 * (docs/contracts-graph.md: Drive and quota, driveItem and hashes, Delta).
 */
import type { Drive, Item } from './drive.js';

export interface PublicUrls {
  /** Graph base including the version, e.g. http://127.0.0.1:PORT/v1.0 */
  graph: string;
  /** Upload host base (sessions and pre-authenticated downloads). */
  upload: string;
}

const MIME_BY_EXTENSION: Record<string, string> = {
  pdf: 'application/pdf',
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  png: 'image/png',
  gif: 'image/gif',
  heic: 'image/heic',
  webp: 'image/webp',
  txt: 'text/plain',
  csv: 'text/csv',
  json: 'application/json',
  xml: 'application/xml',
};

function mimeTypeOf(name: string): string {
  const ext = name.includes('.') ? name.slice(name.lastIndexOf('.') + 1).toLowerCase() : '';
  return MIME_BY_EXTENSION[ext] ?? 'application/octet-stream';
}

const opaque = (text: string): string => Buffer.from(text).toString('base64url');

export function downloadUrl(drive: Drive, item: Item, urls: PublicUrls): string {
  return `${urls.upload}/download/${drive.id}/${encodeURIComponent(item.id)}`;
}

export function driveJson(drive: Drive): Record<string, unknown> {
  return {
    id: drive.id,
    driveType: 'personal',
    owner: { user: { id: drive.id, displayName: drive.userId } },
    quota: drive.quota(),
  };
}

/**
 * A live item. In delta answers (`inDelta`) parentReference has no path and folders report
 * childCount 0, as the consumer service does.
 */
export function driveItemJson(drive: Drive, item: Item, urls: PublicUrls, inDelta = false): Record<string, unknown> {
  const parent = drive.parentOf(item);
  const json: Record<string, unknown> = {
    id: item.id,
    name: item.name,
    size: drive.sizeOf(item),
    eTag: `"a${opaque(`${item.id}.${item.version}`)}"`,
    createdDateTime: item.createdDateTime,
    lastModifiedDateTime: item.lastModifiedDateTime,
    webUrl: `https://onedrive.live.com/?id=${encodeURIComponent(item.id)}&cid=${drive.id}`,
    fileSystemInfo: { createdDateTime: item.createdDateTime, lastModifiedDateTime: item.lastModifiedDateTime },
    parentReference: parent
      ? {
          driveId: drive.id,
          driveType: 'personal',
          id: parent.id,
          name: parent.name,
          ...(inDelta ? {} : { path: parentPath(drive, parent) }),
        }
      : { driveId: drive.id, driveType: 'personal' },
  };
  if (item.kind === 'file') {
    json.cTag = `"ad${opaque(`${item.id}.${item.contentVersion}`)}"`;
    // Graph may answer without hashes (they are computed after the upload, and not for every item).
    const withheld = !inDelta && drive.hashesWithheld > 0;
    if (withheld) drive.hashesWithheld -= 1;
    json.file = { mimeType: mimeTypeOf(item.name), ...(withheld ? {} : { hashes: { quickXorHash: item.quickXorHash } }) };
    json['@microsoft.graph.downloadUrl'] = downloadUrl(drive, item, urls);
  } else {
    json.folder = { childCount: inDelta ? 0 : drive.childCount(item) };
  }
  if (item.parentId === null) json.root = {};
  if (item.specialFolder) json.specialFolder = { name: item.specialFolder };
  return json;
}

/** A deleted item as delta reports it: no size, no path (docs/contracts-graph.md, Delta). */
export function deletedItemJson(drive: Drive, item: Item): Record<string, unknown> {
  return {
    id: item.id,
    name: item.name,
    deleted: {},
    parentReference: { driveId: drive.id, driveType: 'personal', id: item.parentId },
  };
}

/** `/drive/root:` followed by the percent-encoded path of the folder. */
function parentPath(drive: Drive, folder: Item): string {
  const path = drive.pathOf(folder);
  return path === '' ? '/drive/root:' : `/drive/root:/${path.split('/').map(encodeURIComponent).join('/')}`;
}
