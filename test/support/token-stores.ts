/**
 * Stores as several processes see one database, for the token refresh tests: each "process" opens
 * its own store on the shared database. Postgres: the store's own advisory lock. SQLite (whose
 * withTokenLock locks nothing: one host, callers queue in process): a lock shared in memory.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Sealer } from '../../src/auth/crypto.js';
import { KeyedQueue } from '../../src/auth/keyed-queue.js';
import { qontoTokensAad, type QontoTokens } from '../../src/auth/qonto-oauth.js';
import { microsoftCacheAad } from '../../src/auth/token-cache.js';
import { openPostgresStore } from '../../src/store/postgres.js';
import { openSqliteStore } from '../../src/store/sqlite.js';
import type { Store } from '../../src/store/types.js';

type Provider = 'microsoft' | 'qonto';

export interface StoreHooks {
  /** Runs before each token write reaches the database (to revoke the integration meanwhile). */
  beforePutTokens?: (integrationId: string, provider: Provider) => Promise<void>;
}

export interface SharedStoreOptions extends StoreHooks {
  /** One lock per key shared by the other "processes" (a stand-in for a database lock); none:
   * withTokenLock only runs `run` (no lock at all). */
  locks: KeyedQueue | null;
}

/** One database and the stores the "processes" opened on it. */
export interface SharedDatabase {
  /** A store as one more process opens it on the database. */
  open(hooks: StoreHooks): Promise<Store>;
  readonly stores: readonly Store[];
  close(): Promise<void>;
}

/** A SQLite file (whose own withTokenLock locks nothing) opened by each process, with one lock shared in memory. */
export function sharedSqlite(): SharedDatabase {
  const file = join(mkdtempSync(join(tmpdir(), 'token-lock-')), 'store.sqlite');
  const locks = new KeyedQueue();
  const stores: Store[] = [];
  return {
    stores,
    open: async (hooks) => {
      const store = sharedStore(openSqliteStore(file), { locks, ...hooks });
      stores.push(store);
      return store;
    },
    close: async () => {
      await Promise.all(stores.map((s) => s.close()));
    },
  };
}

/** A Postgres database (`url`) opened by each process with its own pools: only the store's advisory
 * lock and its refusal of token writes stand between them. */
export function sharedPostgres(url: string): SharedDatabase {
  const stores: Store[] = [];
  return {
    stores,
    open: async (hooks) => {
      const store = withHooks(await openPostgresStore(url, { poolSize: 4, statementTimeoutMs: 30_000 }), hooks);
      stores.push(store);
      return store;
    },
    close: async () => {
      await Promise.all(stores.map((s) => s.close()));
    },
  };
}

/** `inner` whose token writes run `hooks.beforePutTokens` first. */
function withHooks(inner: Store, hooks: StoreHooks): Store {
  return {
    ...inner,
    putTokenCache: async (integrationId, provider, sealed) => {
      await hooks.beforePutTokens?.(integrationId, provider);
      await inner.putTokenCache(integrationId, provider, sealed);
    },
  };
}

/** `inner` with the token lock shared through `opts.locks`; null: no lock at all. */
export function sharedStore(inner: Store, opts: SharedStoreOptions): Store {
  return {
    ...withHooks(inner, opts),
    withTokenLock: (integrationId, provider, run) => (opts.locks ? opts.locks.run(`${integrationId}:${provider}`, run) : run()),
  };
}

interface SerializedMsalCache {
  AccessToken: Record<string, { secret: string; expires_on: string; refresh_on?: string }>;
  RefreshToken: Record<string, { secret: string }>;
}

/** Changes the stored (sealed) MSAL cache of an integration, as another process writing it would. */
export async function editMicrosoftCache(store: Store, sealer: Sealer, integrationId: string, edit: (cache: SerializedMsalCache) => void): Promise<SerializedMsalCache> {
  const sealed = await store.getTokenCache(integrationId, 'microsoft');
  if (!sealed) throw new Error(`no Microsoft token cache for ${integrationId}`);
  const cache = JSON.parse(sealer.open(sealed, microsoftCacheAad(integrationId)).toString('utf8')) as SerializedMsalCache;
  edit(cache);
  await store.putTokenCache(integrationId, 'microsoft', sealer.seal(Buffer.from(JSON.stringify(cache)), microsoftCacheAad(integrationId)));
  return cache;
}

/** MSAL's cached access tokens expire now: the next getAccessToken must refresh. */
export async function expireMicrosoftAccessTokens(store: Store, sealer: Sealer, integrationId: string): Promise<void> {
  const past = String(Math.floor(Date.now() / 1000) - 60);
  await editMicrosoftCache(store, sealer, integrationId, (cache) => {
    for (const at of Object.values(cache.AccessToken)) at.expires_on = past;
  });
}

export async function storedQontoTokens(store: Store, sealer: Sealer, integrationId: string): Promise<QontoTokens | null> {
  const sealed = await store.getTokenCache(integrationId, 'qonto');
  return sealed ? (JSON.parse(sealer.open(sealed, qontoTokensAad(integrationId)).toString('utf8')) as QontoTokens) : null;
}

/** The stored Qonto access token expires now: the next getAccessToken must refresh. */
export async function expireQontoAccessToken(store: Store, sealer: Sealer, integrationId: string): Promise<void> {
  const tokens = await storedQontoTokens(store, sealer, integrationId);
  if (!tokens) throw new Error(`no Qonto tokens for ${integrationId}`);
  const expired = { ...tokens, expiresAt: Date.now() - 1 };
  await store.putTokenCache(integrationId, 'qonto', sealer.seal(Buffer.from(JSON.stringify(expired)), qontoTokensAad(integrationId)));
}
