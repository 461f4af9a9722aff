import type { OneDriveClient } from '../src/onedrive/client.js';
import type { Store } from '../src/store/types.js';

/**
 * Drive folder ids by path below the app folder, created on demand. The store caches ids so a batch
 * does not walk the tree for every file; the drive stays the truth (ensureFolder reconciles a 409,
 * and a stale id is forgotten by the caller when the drive says 404).
 */
export class FolderResolver {
  private readonly inFlight = new Map<string, Promise<string>>();

  constructor(
    private readonly integrationId: string,
    private readonly store: Store,
    private readonly drive: OneDriveClient,
  ) {}

  /** Id of the folder at `path` ('' is the app folder itself). Concurrent calls share the work. */
  resolve(path: string): Promise<string> {
    let pending = this.inFlight.get(path);
    if (!pending) {
      pending = this.lookup(path).finally(() => this.inFlight.delete(path));
      this.inFlight.set(path, pending);
    }
    return pending;
  }

  /** The cached id of the folder at `path`, without creating anything. */
  cached(path: string): Promise<string | null> {
    return this.store.getFolder(this.integrationId, path);
  }

  async forget(path: string): Promise<void> {
    await this.store.forgetFoldersUnder(this.integrationId, path);
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
