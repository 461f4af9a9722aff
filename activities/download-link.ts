import type { Sealer } from '../src/auth/crypto.js';
import type { ManifestEntry } from '../src/store/types.js';

/** A receipt's download link as discovery saw it, and when. */
export interface SeenLink {
  url: string;
  at: number;
}

/** Bound to the row (integration and attachment): a sealed link copied to another row does not open,
 * so receipt X's bytes can never be exported under receipt Y's name. */
const aad = (integrationId: string, attachmentId: string) => `download-link:${integrationId}:${attachmentId}`;

/** The link sealed for the manifest: a pre-signed URL lets anyone download the receipt while valid. */
export function sealLink(sealer: Sealer, integrationId: string, attachmentId: string, url: string): Buffer {
  return sealer.seal(Buffer.from(url, 'utf8'), aad(integrationId, attachmentId));
}

/** The entry's stored link, if there is one this process can open (a key removed since, or a link
 * sealed for another row, cannot): otherwise none, and the export asks Qonto for a fresh one. */
export function storedLink(
  sealer: Sealer | undefined,
  entry: Pick<ManifestEntry, 'integrationId' | 'attachmentId' | 'downloadLink' | 'downloadLinkAt'>,
): SeenLink | undefined {
  if (sealer === undefined || entry.downloadLink === null || entry.downloadLinkAt === null) return undefined;
  try {
    return { url: sealer.open(entry.downloadLink, aad(entry.integrationId, entry.attachmentId)).toString('utf8'), at: Date.parse(entry.downloadLinkAt) };
  } catch {
    return undefined;
  }
}
