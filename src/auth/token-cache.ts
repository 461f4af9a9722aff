/**
 * Persistence of the MSAL token cache of one integration: the serialised cache (which holds the
 * refresh token) is sealed with the integration-bound purpose string and kept in the store.
 */
import type { ICachePlugin, TokenCacheContext } from '@azure/msal-node';
import type { Sealer } from './crypto.js';
import { ReconnectRequiredError } from '../errors.js';
import type { Store } from '../store/types.js';

type CacheStore = Pick<Store, 'getTokenCache' | 'putTokenCache'>;

/** Associated data binding a sealed cache to its integration: it opens nowhere else. */
export function microsoftCacheAad(integrationId: string): string {
  return `token-cache:microsoft:${integrationId}`;
}

export async function saveMicrosoftCache(store: CacheStore, sealer: Sealer, integrationId: string, serialized: string): Promise<void> {
  await store.putTokenCache(integrationId, 'microsoft', sealer.seal(Buffer.from(serialized, 'utf8'), microsoftCacheAad(integrationId)));
}

/** The stored cache as MSAL serialised it, or null when there is none. */
async function loadMicrosoftCache(store: CacheStore, sealer: Sealer, integrationId: string): Promise<string | null> {
  const sealed = await store.getTokenCache(integrationId, 'microsoft');
  if (!sealed) return null;
  try {
    return sealer.open(sealed, microsoftCacheAad(integrationId)).toString('utf8');
  } catch (error) {
    // Unreadable tokens (key changed, or a damaged row) are as good as none: signing in again fixes it.
    throw new ReconnectRequiredError(`The stored Microsoft sign-in cannot be decrypted: ${(error as Error).message}`, {
      code: 'token_cache_unreadable',
      provider: 'microsoft',
    });
  }
}

/** MSAL calls this around every cache access: load before, save after a change. */
export function sealedCachePlugin(store: CacheStore, sealer: Sealer, integrationId: string): ICachePlugin {
  return {
    async beforeCacheAccess(ctx: TokenCacheContext) {
      const serialized = await loadMicrosoftCache(store, sealer, integrationId);
      if (serialized !== null) ctx.tokenCache.deserialize(serialized);
    },
    async afterCacheAccess(ctx: TokenCacheContext) {
      if (ctx.cacheHasChanged) await saveMicrosoftCache(store, sealer, integrationId, ctx.tokenCache.serialize());
    },
  };
}
