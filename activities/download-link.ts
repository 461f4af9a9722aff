import type { Sealer } from '../src/auth/crypto.js';
import type { ManifestEntry } from '../src/store/types.js';

/** A receipt's download link as discovery saw it, and when. */
export interface SeenLink {
  url: string;
  at: number;
}

/** Bound to the integration: a sealed link copied to another integration's row does not open. */
const aad = (integrationId: string) => `download-link:${integrationId}`;

/** The link sealed for the manifest: a pre-signed URL lets anyone download the receipt while valid. */
export function sealLink(sealer: Sealer, integrationId: string, url: string): Buffer {
  return sealer.seal(Buffer.from(url, 'utf8'), aad(integrationId));
}

/** The entry's stored link, if there is one this process can open (a key removed since cannot). */
export function storedLink(sealer: Sealer | undefined, entry: Pick<ManifestEntry, 'integrationId' | 'downloadLink' | 'downloadLinkAt'>): SeenLink | undefined {
  if (sealer === undefined || entry.downloadLink === null || entry.downloadLinkAt === null) return undefined;
  try {
    return { url: sealer.open(entry.downloadLink, aad(entry.integrationId)).toString('utf8'), at: Date.parse(entry.downloadLinkAt) };
  } catch {
    return undefined;
  }
}
