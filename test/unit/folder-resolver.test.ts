import { describe, expect, it } from 'vitest';
import { FolderResolver } from '../../activities/folders.js';
import type { OneDriveClient } from '../../src/onedrive/client.js';
import type { Store } from '../../src/store/types.js';

/** The store's folder cache and a drive that makes a new id for each folder it is asked to ensure. */
function fixture() {
  const cache = new Map<string, string>();
  const reads: string[] = [];
  let made = 0;
  const store = {
    async getFolder(_integrationId: string, path: string) {
      reads.push(path);
      return cache.get(path) ?? null;
    },
    async putFolder(_integrationId: string, path: string, id: string) {
      cache.set(path, id);
    },
    async forgetFoldersUnder(_integrationId: string, path: string) {
      for (const key of [...cache.keys()]) if (path === '' || key.toLowerCase() === path.toLowerCase() || key.toLowerCase().startsWith(`${path.toLowerCase()}/`)) cache.delete(key);
    },
  } as unknown as Store;
  const drive = {
    async getAppFolder() {
      return { id: 'root' };
    },
    async ensureFolder(parentId: string, name: string) {
      return { id: `${parentId}>${name}#${++made}` };
    },
  } as unknown as OneDriveClient;
  return { resolver: new FolderResolver('i1', store, drive), cache, reads, store };
}

describe('FolderResolver', () => {
  it('reads a folder id from the store once per activity, not once per receipt', async () => {
    const { resolver, reads } = fixture();
    const first = await resolver.resolve('Account/2026/01');
    expect(await resolver.resolve('Account/2026/01')).toBe(first);
    expect(await resolver.resolve('Account/2026/01')).toBe(first);
    expect(reads.filter((p) => p === 'Account/2026/01')).toHaveLength(1);
  });

  it('looks a folder up again after forget() of it or of a folder above it, whatever the case', async () => {
    const { resolver, reads } = fixture();
    const before = await resolver.resolve('Account/2026/01');
    await resolver.forget('account/2026');
    const after = await resolver.resolve('Account/2026/01');
    expect(after).not.toBe(before);
    expect(reads.filter((p) => p === 'Account/2026/01')).toHaveLength(2);
    // A folder beside the forgotten one is still known.
    const other = await resolver.resolve('Account/2025/12');
    await resolver.forget('Account/2026');
    expect(await resolver.resolve('Account/2025/12')).toBe(other);
    await resolver.forget('');
    expect(await resolver.resolve('Account/2025/12')).not.toBe(other);
  });

  it('reads the store once for concurrent look-ups of the same folder', async () => {
    const { resolver, reads } = fixture();
    const ids = await Promise.all([1, 2, 3, 4].map(() => resolver.resolve('Account/2026/01')));
    expect(new Set(ids).size).toBe(1);
    expect(reads.filter((p) => p === 'Account/2026/01')).toHaveLength(1);
  });

  it('does not keep an id read while the store was still deleting it', async () => {
    const { resolver, cache, store } = fixture();
    cache.set('Account', 'stale');
    // The store's delete takes its time (another connection still sees the row meanwhile).
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const forgetFoldersUnder = store.forgetFoldersUnder.bind(store);
    store.forgetFoldersUnder = async (integrationId, path) => {
      await gate;
      await forgetFoldersUnder(integrationId, path);
    };
    const forgetting = resolver.forget('Account');
    expect(await resolver.resolve('Account')).toBe('stale');
    release();
    await forgetting;
    expect(await resolver.resolve('Account')).not.toBe('stale');
  });

  it('does not remember an id whose look-up was under way when a forget() came', async () => {
    const { resolver, cache } = fixture();
    cache.set('Account', 'stale');
    const pending = resolver.resolve('Account');
    await resolver.forget('Account');
    expect(await pending).toBe('stale');
    // The store no longer has it and the resolver did not keep it: the drive is asked again.
    expect(await resolver.resolve('Account')).not.toBe('stale');
  });
});
