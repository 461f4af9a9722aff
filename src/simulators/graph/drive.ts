/**
 * One user's drive as an in-memory tree (metadata only; bodies are blobs on disk). Every mutation
 * takes a new change sequence number, stamped on the changed items and their ancestors, which is
 * what delta enumerates. Deleted items stay in the map, flagged, as the recycle bin.
 */
import { createHash } from 'node:crypto';
import type { BlobStore } from './blob-store.js';
import { itemNotFound, nameAlreadyExists, quotaLimitReached } from './errors.js';
import { assertPathLength, assertValidName, nameKey, renamed } from './names.js';

export type ConflictBehavior = 'fail' | 'replace' | 'rename';

export interface Item {
  readonly id: string;
  readonly name: string;
  /** null only for the root. Kept after deletion so delta can still place a deleted item. */
  readonly parentId: string | null;
  readonly kind: 'folder' | 'file';
  readonly createdDateTime: string;
  lastModifiedDateTime: string;
  /** Files only. */
  size: number;
  quickXorHash?: string;
  blobPath?: string;
  /** Bumped on any change of the item itself (eTag); contentVersion only on new content (cTag). */
  version: number;
  contentVersion: number;
  /** Sequence number of the last change that touched this item (or a descendant). */
  changeSeq: number;
  deleted: boolean;
  specialFolder?: 'approot';
}

export interface FileContent {
  blobPath: string;
  size: number;
  quickXorHash: string;
}

export type QuotaState = 'normal' | 'nearing' | 'critical' | 'exceeded';

export interface Quota {
  total: number;
  used: number;
  remaining: number;
  deleted: number;
  state: QuotaState;
}

export class Drive {
  /** 16 hex characters, like a personal driveId; item ids are `<DRIVEID>!<n>` as on OneDrive personal. */
  readonly id: string;
  readonly root: Item;
  /** Latest change sequence number; delta tokens remember the value they were issued at. */
  seq = 0;
  /** File answers (outside delta) still to be sent without `file.hashes` (SimDrive.withholdHashes). */
  hashesWithheld = 0;
  private readonly items = new Map<string, Item>();
  /** Live children by parent id, keyed by the case-folded name. */
  private readonly children = new Map<string, Map<string, Item>>();
  private nextNumber = 101;
  private approotId?: string;
  private quotaTotal: number;
  private extraUsed = 0;
  private liveBytes = 0;
  private recycledBytes = 0;

  constructor(
    readonly userId: string,
    private readonly appName: string,
    quotaTotal: number,
    private readonly blobs: BlobStore,
  ) {
    this.id = createHash('sha256').update(userId).digest('hex').slice(0, 16);
    this.quotaTotal = quotaTotal;
    this.root = this.insert(null, 'root', 'folder', this.seq);
  }

  /** A live item by id (deleted ones are gone for every caller except delta). */
  get(id: string): Item | undefined {
    const item = this.items.get(id);
    return item && !item.deleted ? item : undefined;
  }

  /** Every item including the recycle bin, for delta. */
  allItems(): IterableIterator<Item> {
    return this.items.values();
  }

  parentOf(item: Item): Item | undefined {
    return item.parentId === null ? undefined : this.items.get(item.parentId);
  }

  /** Live children sorted by name, so listings and paging are stable. */
  childrenOf(folder: Item): Item[] {
    const map = this.children.get(folder.id);
    if (!map) return [];
    return [...map.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, item]) => item);
  }

  child(folder: Item, name: string): Item | undefined {
    return this.children.get(folder.id)?.get(nameKey(name));
  }

  /** Case-insensitive walk from `from`; undefined when a segment is missing or a file is in the way. */
  resolve(from: Item, segments: readonly string[]): Item | undefined {
    let current: Item | undefined = from;
    for (const segment of segments) {
      if (current.kind !== 'folder') return undefined;
      current = this.child(current, segment);
      if (!current) return undefined;
    }
    return current;
  }

  /** Path relative to the root, e.g. `Apps/Qonto Receipts/2026`; '' for the root itself. */
  pathOf(item: Item): string {
    const names: string[] = [];
    for (let cur: Item | undefined = item; cur && cur.parentId !== null; cur = this.parentOf(cur)) names.push(cur.name);
    return names.reverse().join('/');
  }

  depthOf(item: Item): number {
    let depth = 0;
    for (let cur = this.parentOf(item); cur; cur = this.parentOf(cur)) depth++;
    return depth;
  }

  isWithin(item: Item, ancestor: Item): boolean {
    for (let cur: Item | undefined = item; cur; cur = this.parentOf(cur)) if (cur === ancestor) return true;
    return false;
  }

  /** Bytes of the live files below (and including) `item`. */
  sizeOf(item: Item): number {
    if (item.kind === 'file') return item.size;
    let total = 0;
    for (const child of this.children.get(item.id)?.values() ?? []) total += this.sizeOf(child);
    return total;
  }

  childCount(folder: Item): number {
    return this.children.get(folder.id)?.size ?? 0;
  }

  /** `Apps/<appName>`, created on first use (and again if the user deleted it). */
  approot(): Item {
    const current = this.approotId === undefined ? undefined : this.get(this.approotId);
    if (current) return current;
    const apps = this.ensureFolders(this.root, ['Apps']);
    const existing = this.child(apps, this.appName);
    const app = existing?.kind === 'folder' ? existing : this.createFolder(apps, this.appName, 'fail').item;
    app.specialFolder = 'approot';
    this.approotId = app.id;
    return app;
  }

  /** Creates a folder under `parent`; `replace` on an existing folder returns it untouched (as OneDrive does). */
  createFolder(parent: Item, name: string, behavior: ConflictBehavior): { item: Item; created: boolean } {
    this.assertCanCreate(parent, name);
    if (this.quota().state === 'exceeded') throw quotaLimitReached();
    const existing = this.child(parent, name);
    if (existing) {
      if (behavior === 'fail' || (behavior === 'replace' && existing.kind !== 'folder')) throw nameAlreadyExists();
      if (behavior === 'replace') return { item: existing, created: false };
      name = this.freeName(parent, name, false);
    }
    const item = this.insert(parent, name, 'folder', this.nextSeq());
    return { item, created: true };
  }

  /** mkdir -p below `from` (simple uploads by path create missing parents, docs/contracts-graph.md, Simple upload). */
  ensureFolders(from: Item, segments: readonly string[]): Item {
    if (!this.get(from.id)) throw itemNotFound('The folder no longer exists.');
    let current = from;
    for (const segment of segments) {
      const existing = this.child(current, segment);
      if (existing && existing.kind !== 'folder') throw nameAlreadyExists(`"${segment}" is a file, not a folder.`);
      current = existing ?? this.createFolder(current, segment, 'fail').item;
    }
    return current;
  }

  /** The checks a new name must pass before anything is written (name rules, path length). */
  assertCanCreate(parent: Item, name: string): void {
    assertValidName(name);
    const parentPath = this.pathOf(parent);
    assertPathLength(parentPath === '' ? name : `${parentPath}/${name}`);
  }

  /** The same checks for a whole relative path below `from` (every segment may have to be created). */
  assertCanCreatePath(from: Item, segments: readonly string[]): void {
    for (const segment of segments) assertValidName(segment);
    const base = this.pathOf(from);
    assertPathLength([base, ...segments].filter((s) => s !== '').join('/'));
  }

  /** What `behavior` would do with `name` in `parent` right now; throws 409 for `fail`. */
  conflict(parent: Item, name: string, behavior: ConflictBehavior): { replaces?: Item; name: string } {
    const existing = this.child(parent, name);
    if (!existing) return { name };
    if (behavior === 'rename') return { name: this.freeName(parent, name, true) };
    if (behavior === 'fail' || existing.kind !== 'file') throw nameAlreadyExists();
    return { replaces: existing, name };
  }

  /**
   * Makes fully written content visible as a file: a new item, or a new version of the file it
   * replaces (same id). The blob belongs to the drive afterwards; on any refusal it is the caller's.
   */
  async commitFile(parent: Item, name: string, behavior: ConflictBehavior, content: FileContent): Promise<{ item: Item; created: boolean }> {
    if (!this.get(parent.id)) throw itemNotFound('The parent folder no longer exists.');
    this.assertCanCreate(parent, name);
    const target = this.conflict(parent, name, behavior);
    if (content.size - (target.replaces?.size ?? 0) > this.remaining()) throw quotaLimitReached();
    const seq = this.nextSeq();
    if (!target.replaces) {
      const item = this.insert(parent, target.name, 'file', seq, content);
      return { item, created: true };
    }
    const item = target.replaces;
    const oldBlob = item.blobPath;
    this.liveBytes += content.size - item.size;
    Object.assign(item, { size: content.size, quickXorHash: content.quickXorHash, blobPath: content.blobPath });
    item.version++;
    item.contentVersion++;
    item.lastModifiedDateTime = new Date().toISOString();
    this.stamp(item, seq);
    if (oldBlob) await this.blobs.remove(oldBlob);
    return { item, created: false };
  }

  /** Moves the item (and everything below it) to the recycle bin; bodies are released. */
  async delete(item: Item): Promise<void> {
    const seq = this.nextSeq();
    const removed: Item[] = [];
    const collect = (it: Item): void => {
      removed.push(it);
      for (const child of this.children.get(it.id)?.values() ?? []) collect(child);
    };
    collect(item);
    this.children.get(item.parentId ?? '')?.delete(nameKey(item.name));
    for (const it of removed) {
      it.deleted = true;
      it.changeSeq = seq;
      this.children.delete(it.id);
      this.liveBytes -= it.size;
      this.recycledBytes += it.size;
    }
    const parent = this.parentOf(item);
    if (parent) this.stamp(parent, seq);
    await Promise.all(removed.flatMap((it) => (it.blobPath ? [this.blobs.remove(it.blobPath)] : [])));
  }

  setQuota(opts: { total?: number; used?: number }): void {
    if (opts.total !== undefined) this.quotaTotal = opts.total;
    if (opts.used !== undefined) this.extraUsed = opts.used;
  }

  /** Recycle-bin bytes count in `deleted` and against the space (part of `used`). */
  quota(): Quota {
    const total = this.quotaTotal;
    const used = this.liveBytes + this.recycledBytes + this.extraUsed;
    const left = total - used;
    const state: QuotaState = left < 0 ? 'exceeded' : left < total * 0.01 ? 'critical' : left < total * 0.1 ? 'nearing' : 'normal';
    return { total, used, remaining: Math.max(0, left), deleted: this.recycledBytes, state };
  }

  remaining(): number {
    return this.quota().remaining;
  }

  private nextSeq(): number {
    return ++this.seq;
  }

  private insert(parent: Item | null, name: string, kind: Item['kind'], seq: number, content?: FileContent): Item {
    const now = new Date().toISOString();
    const item: Item = {
      id: `${this.id.toUpperCase()}!${this.nextNumber++}`,
      name,
      parentId: parent?.id ?? null,
      kind,
      createdDateTime: now,
      lastModifiedDateTime: now,
      size: content?.size ?? 0,
      quickXorHash: content?.quickXorHash,
      blobPath: content?.blobPath,
      version: 1,
      contentVersion: 1,
      changeSeq: seq,
      deleted: false,
    };
    this.items.set(item.id, item);
    this.liveBytes += item.size;
    if (parent) {
      let map = this.children.get(parent.id);
      if (!map) this.children.set(parent.id, (map = new Map<string, Item>()));
      map.set(nameKey(name), item);
      this.stamp(parent, seq);
    }
    return item;
  }

  /** Marks the item and its ancestors as changed at `seq` (a folder's size changes with its content). */
  private stamp(item: Item, seq: number): void {
    for (let cur: Item | undefined = item; cur; cur = this.parentOf(cur)) cur.changeSeq = seq;
  }

  private freeName(parent: Item, name: string, isFile: boolean): string {
    for (let n = 1; ; n++) {
      const candidate = renamed(name, n, isFile);
      if (!this.child(parent, candidate)) return candidate;
    }
  }
}
