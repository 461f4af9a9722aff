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
  let serialized: string;
  try {
    serialized = sealer.open(sealed, microsoftCacheAad(integrationId)).toString('utf8');
  } catch (error) {
    // Unreadable tokens (key changed, or a damaged row) are as good as none: signing in again fixes it.
    throw new ReconnectRequiredError(`The stored Microsoft sign-in cannot be decrypted: ${(error as Error).message}`, {
      code: 'token_cache_unreadable',
      provider: 'microsoft',
    });
  }
  // Sealed with a key that is being rotated out: seal it again with the current one.
  if (!sealer.isCurrent(sealed)) await saveMicrosoftCache(store, sealer, integrationId, serialized);
  return serialized;
}

export interface SealedCachePlugin extends ICachePlugin {
  /** What loading or saving the cache threw during this client's calls, if anything (else undefined):
   * MSAL swallows every failure of the refresh it makes ahead of time (an access token past its
   * `refresh_on`), the store's refusal to keep the new tokens (TokensRefusedError) included. */
  failure(): unknown;
}

/** MSAL calls this around every cache access: load before, save after a change. */
export function sealedCachePlugin(store: CacheStore, sealer: Sealer, integrationId: string): SealedCachePlugin {
  let failure: { error: unknown } | undefined;
  const noting = async (access: () => Promise<void>): Promise<void> => {
    try {
      await access();
    } catch (error) {
      failure ??= { error };
      throw error;
    }
  };
  return {
    beforeCacheAccess: (ctx: TokenCacheContext) =>
      noting(async () => {
        const serialized = await loadMicrosoftCache(store, sealer, integrationId);
        if (serialized !== null) ctx.tokenCache.deserialize(serialized);
      }),
    afterCacheAccess: (ctx: TokenCacheContext) =>
      noting(async () => {
        if (ctx.cacheHasChanged) await saveMicrosoftCache(store, sealer, integrationId, ctx.tokenCache.serialize());
      }),
    failure: () => failure?.error,
  };
}
