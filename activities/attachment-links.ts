import { guardStream } from '../src/qonto/download.js';
import type { QontoClient } from '../src/qonto/client.js';
import { parseManifestKey } from '../src/sync/probative.js';
import type { SeenLink } from './download-link.js';

/** Qonto signs download links for 30 minutes: leave a margin for the download itself. */
const LINK_TTL_MS = 25 * 60_000;
/** Enough for a large backfill's first batches (a signed link is a few hundred bytes). */
const DEFAULT_CAPACITY = 20_000;

/**
 * Download links of receipts, as the transactions listing embeds them at discovery, kept so the
 * export can download at once instead of asking Qonto for a fresh link per receipt. Qonto allows
 * 1,000 requests per 10 s and 10,000 per 10 minutes per IP: one request per receipt would cap a
 * backfill at ~17 receipts/s sustained. A link older than 25 minutes is not used; one the storage
 * refuses falls back to a fresh one. Per worker process and bounded: when full, new links are not
 * kept (receipts are exported in discovery order, so the kept ones are needed first). A receipt whose
 * link is missing here (another worker discovered it) uses the one stored with it in the manifest,
 * while fresh and not tried by this process yet, else gets a fresh one.
 */
export class AttachmentLinks {
  private readonly links = new Map<string, { url: string; at: number }>();
  /** Keys whose link this process took or tried, and when: their stored link is not tried again (it
   * may be the one that failed). Oldest first; forgotten once any link of theirs would have expired. */
  private readonly tried = new Map<string, number>();

  constructor(
    private readonly capacity = DEFAULT_CAPACITY,
    private readonly now: () => number = Date.now,
  ) {}

  /** `key`: the manifest key of the file the link downloads (src/sync/probative.ts). */
  remember(key: string, url: string): void {
    if (this.links.size >= this.capacity) this.dropExpired();
    if (this.links.size < this.capacity || this.links.has(key)) this.links.set(key, { url, at: this.now() });
  }

  /** The link if still fresh; it is handed out once (a retry gets a fresh link from Qonto). */
  take(key: string): string | undefined {
    const link = this.links.get(key);
    if (!link) return undefined;
    this.links.delete(key);
    return this.now() - link.at < LINK_TTL_MS ? link.url : undefined;
  }

  get size(): number {
    return this.links.size;
  }

  private markTried(key: string): void {
    const cutoff = this.now() - LINK_TTL_MS;
    for (const [id, at] of this.tried) {
      if (at > cutoff && this.tried.size < this.capacity) break;
      this.tried.delete(id);
    }
    this.tried.delete(key);
    this.tried.set(key, this.now());
  }

  private fresh(link: SeenLink | undefined): string | undefined {
    return link !== undefined && this.now() - link.at < LINK_TTL_MS ? link.url : undefined;
  }

  private dropExpired(): void {
    const cutoff = this.now() - LINK_TTL_MS;
    for (const [id, link] of this.links) if (link.at <= cutoff) this.links.delete(id);
  }

  /** The file's bytes (`key`: its manifest key, a receipt's or its probative copy's), streamed: through
   * the kept link, else the `stored` one, when there is one that is fresh and works, else through a
   * fresh link from Qonto (which also retries transient failures). `stored` is only asked for when no
   * kept link serves and this process has not tried the key yet (it is sealed: opening it costs a
   * decryption per receipt). */
  async open(qonto: QontoClient, key: string, signal?: AbortSignal, stored?: () => SeenLink | undefined): Promise<ReadableStream<Uint8Array>> {
    const url = this.take(key) ?? (this.tried.has(key) ? undefined : this.fresh(stored?.()));
    if (url !== undefined) {
      this.markTried(key);
      const what = `download of attachment ${key}`;
      const res = await qonto.fetchDownload(url, what, signal).catch((error: unknown) => {
        if (signal?.aborted) throw error;
        return undefined;
      });
      if (res?.ok && res.body) return guardStream(res.body, what, signal);
      await res?.body?.cancel();
    }
    const { attachmentId, kind } = parseManifestKey(key);
    return (await qonto.openAttachment(attachmentId, signal, kind)).body;
  }
}
