import type { OneDriveClient } from '../src/onedrive/client.js';
import type { Store } from '../src/store/types.js';

/**
 * Drive folder ids by path below the app folder, created on demand. The store caches ids so a batch
 * does not walk the tree for every file; the drive stays the truth (ensureFolder reconciles a 409,
 * and a stale id is forgotten by the caller when the drive says 404). A resolver lives for one
 * activity and remembers what it resolved, so a batch reads each folder's id from the store once,
 * not once per receipt; forget() drops what it remembered too.
 */
export class FolderResolver {
  private readonly inFlight = new Map<string, Promise<string>>();
  private readonly known = new Map<string, string>();
  /** Counts forget() calls, so that a lookup under way when one came is not remembered. */
  private forgets = 0;

  constructor(
    private readonly integrationId: string,
    private readonly store: Store,
    private readonly drive: OneDriveClient,
  ) {}

  /** Id of the folder at `path` ('' is the app folder itself). Concurrent calls share the work. */
  resolve(path: string): Promise<string> {
    const known = this.known.get(path);
    if (known !== undefined) return Promise.resolve(known);
    let pending = this.inFlight.get(path);
    if (!pending) {
      const lookup = this.lookup(path);
      const shared: Promise<string> = lookup.finally(() => {
        if (this.inFlight.get(path) === shared) this.inFlight.delete(path);
      });
      pending = shared;
      this.inFlight.set(path, shared);
      // Remembered only if no forget() came while it was looked up: that id may be the stale one.
      const forgets = this.forgets;
      lookup.then((id) => this.forgets === forgets && this.known.set(path, id), () => undefined);
    }
    return pending;
  }

  /** The cached id of the folder at `path`, without creating anything. */
  cached(path: string): Promise<string | null> {
    return this.store.getFolder(this.integrationId, path);
  }

  /** Forgets the folder at `path` and everything below it, here and in the store. What was remembered
   * is dropped before the store's delete and again after it: a look-up made meanwhile may have read
   * the row the delete was removing (on Postgres, another connection still sees it). A look-up under
   * way is not joined by later calls. */
  async forget(path: string): Promise<void> {
    const drop = () => {
      this.forgets += 1;
      for (const known of this.known.keys()) if (isUnder(known, path)) this.known.delete(known);
      for (const pending of this.inFlight.keys()) if (isUnder(pending, path)) this.inFlight.delete(pending);
    };
    drop();
    try {
      await this.store.forgetFoldersUnder(this.integrationId, path);
    } finally {
      drop();
    }
  }

  private async lookup(path: string): Promise<string> {
    const cached = await this.store.getFolder(this.integrationId, path);
    if (cached) return cached;
    let id: string;
    if (path === '') {
      id = (await this.drive.getAppFolder()).id;
    } else {
      const cut = path.lastIndexOf('/');
      const parentId = await this.resolve(cut < 0 ? '' : path.slice(0, cut));
      id = (await this.drive.ensureFolder(parentId, path.slice(cut + 1))).id;
    }
    await this.store.putFolder(this.integrationId, path, id);
    return id;
  }
}

/** `path` is `under` or below it ('' is the app folder, above everything), ignoring case as the
 * drive and the store do. */
function isUnder(path: string, under: string): boolean {
  if (under === '') return true;
  const [p, u] = [path.toLowerCase(), under.toLowerCase()];
  return p === u || p.startsWith(`${u}/`);
}
