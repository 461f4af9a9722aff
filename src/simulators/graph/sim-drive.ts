/**
 * Test and sandbox control of one drive, acting as the user would in the OneDrive app: look at
 * files, add or delete them (deletes go to the recycle bin and show up in delta), fill the quota,
 * expire delta tokens or upload sessions.
 */
import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { type BlobStore, writeChunks } from './blob-store.js';
import type { Counters, DriveRecord } from './drive-record.js';
import type { Item, Quota } from './drive.js';
import { QuickXorHash } from './quick-xor-hash.js';
import type { UploadSessions } from './upload-sessions.js';

export interface SimFile {
  id: string;
  /** Relative to the drive root, e.g. `Apps/Qonto Receipts/Main (1234)/2026/2026-03/x.pdf`. */
  path: string;
  size: number;
  quickXorHash: string;
}

export interface SimFolder {
  id: string;
  path: string;
}

export interface SimEntry {
  id: string;
  path: string;
  kind: 'file' | 'folder';
  size: number;
  quickXorHash?: string;
}

export interface SimDrive {
  /** The driveId Graph reports (16 hex characters). */
  readonly id: string;
  listFiles(): SimFile[];
  listFolders(): SimFolder[];
  /** Case-insensitive, like Graph; undefined when missing or deleted. */
  getByPath(path: string): SimEntry | undefined;
  /** Creates or replaces a file (missing folders are created), as the user would. */
  writeFile(path: string, data: string | Uint8Array): Promise<SimEntry>;
  /** To the recycle bin: reported by delta as deleted, then 404 itemNotFound. Throws when missing. */
  deleteByPath(path: string): Promise<void>;
  deleteById(id: string): Promise<void>;
  /** `used` is extra used space beyond the files (to simulate a drive filled by other content). */
  setQuota(quota: { total?: number; used?: number }): void;
  quota(): Quota;
  readFile(id: string): Readable;
  /** Open upload sessions. */
  uploadSessionCount(): number;
  /** Ids of the open upload sessions, to tell the ones a test phase opened from older ones. */
  uploadSessionIds(): string[];
  /** Every open upload session ends: its uploadUrl answers 404 from now on. */
  expireUploadSessions(): Promise<void>;
  /** Every delta token issued so far is refused with 410 resyncRequired. */
  expireDeltaTokens(): void;
  /** The next `count` answers describing a file (delta pages aside) carry no `file.hashes`. */
  withholdHashes(count: number): void;
  readonly counters: Readonly<Counters>;
}

export function createSimDrive(record: DriveRecord, sessions: UploadSessions, blobs: BlobStore): SimDrive {
  const { drive } = record;
  const entry = (item: Item): SimEntry => ({
    id: item.id,
    path: drive.pathOf(item),
    kind: item.kind,
    size: drive.sizeOf(item),
    ...(item.quickXorHash === undefined ? {} : { quickXorHash: item.quickXorHash }),
  });
  const walk = (): Item[] => {
    const out: Item[] = [];
    const visit = (item: Item): void => {
      for (const child of drive.childrenOf(item)) {
        out.push(child);
        if (child.kind === 'folder') visit(child);
      }
    };
    visit(drive.root);
    return out;
  };
  const segments = (path: string): string[] => path.split('/').filter((s) => s !== '');
  const mustGet = (item: Item | undefined, what: string): Item => {
    if (!item) throw new Error(`No such item in the drive of ${drive.userId}: ${what}`);
    return item;
  };

  return {
    id: drive.id,
    counters: record.counters,
    listFiles: () =>
      walk()
        .filter((it) => it.kind === 'file')
        .map((it) => ({ id: it.id, path: drive.pathOf(it), size: it.size, quickXorHash: it.quickXorHash ?? '' })),
    listFolders: () =>
      walk()
        .filter((it) => it.kind === 'folder')
        .map((it) => ({ id: it.id, path: drive.pathOf(it) })),
    getByPath: (path) => {
      const item = drive.resolve(drive.root, segments(path));
      return item ? entry(item) : undefined;
    },
    writeFile: async (path, data) => {
      const parts = segments(path);
      const name = parts.pop();
      if (name === undefined) throw new Error('writeFile needs a file path');
      drive.assertCanCreatePath(drive.root, [...parts, name]);
      const blobPath = blobs.newPath('blob');
      const hash = new QuickXorHash();
      try {
        const file = await open(blobPath, 'w');
        let size: number;
        try {
          size = await writeChunks([Buffer.from(data)], file, 0, hash);
        } finally {
          await file.close();
        }
        const folder = drive.ensureFolders(drive.root, parts);
        const { item } = await drive.commitFile(folder, name, 'replace', { blobPath, size, quickXorHash: hash.digest() });
        return entry(item);
      } catch (error) {
        await blobs.remove(blobPath);
        throw error;
      }
    },
    deleteByPath: async (path) => {
      const item = mustGet(drive.resolve(drive.root, segments(path)), path);
      if (item.parentId === null) throw new Error('The root cannot be deleted');
      await drive.delete(item);
    },
    deleteById: async (id) => {
      const item = mustGet(drive.get(id), id);
      if (item.parentId === null) throw new Error('The root cannot be deleted');
      await drive.delete(item);
    },
    setQuota: (quota) => drive.setQuota(quota),
    quota: () => drive.quota(),
    readFile: (id) => {
      const item = mustGet(drive.get(id), id);
      if (item.kind !== 'file' || item.blobPath === undefined) throw new Error(`${id} is not a file`);
      return createReadStream(item.blobPath);
    },
    uploadSessionCount: () => sessions.idsFor(record).length,
    uploadSessionIds: () => sessions.idsFor(record),
    withholdHashes: (count) => {
      record.drive.hashesWithheld = count;
    },
    expireUploadSessions: () => sessions.expireFor(record),
    expireDeltaTokens: () => record.delta.expire(),
  };
}
