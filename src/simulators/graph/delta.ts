/**
 * Delta queries (docs/contracts-graph.md, Delta). A query computes its whole result at once (at the drive's current
 * change sequence), hands it out in pages linked by `@odata.nextLink`, and ends with a deltaLink
 * whose token remembers that sequence. Tokens are server-side and scoped to the folder they were
 * issued for; an unknown, expired or foreign token answers 410 resyncRequired with a Location
 * that restarts the enumeration. Deleting a folder reports the folder and every descendant deleted.
 */
import { randomBytes } from 'node:crypto';
import type { Drive, Item } from './drive.js';
import { GraphError } from './errors.js';
import { type PublicUrls, deletedItemJson, driveItemJson } from './item-json.js';

type TokenState =
  | { kind: 'delta'; folderId: string; seq: number }
  | { kind: 'page'; folderId: string; items: Record<string, unknown>[]; endSeq: number; top: number };

/** Page size when the client sends no `$top` (also used by children listings). */
export const DEFAULT_TOP = 200;

/** Page cursors hold serialised items; keep only the most recent ones (older ones answer 410). */
const MAX_PAGE_CURSORS = 200;

export interface DeltaPage {
  value: Record<string, unknown>[];
  '@odata.nextLink'?: string;
  '@odata.deltaLink'?: string;
}

export class DeltaTokens {
  private readonly tokens = new Map<string, TokenState>();
  private readonly pageTokens: string[] = [];

  /** Every token issued so far becomes unknown: the next call with one answers 410. */
  expire(): void {
    this.tokens.clear();
    this.pageTokens.length = 0;
  }

  /**
   * One delta call on `folder`. `link` is the absolute URL of this delta endpoint without query,
   * used for nextLink, deltaLink and the 410 Location.
   */
  page(drive: Drive, folder: Item, token: string | null, top: number | undefined, link: string, urls: PublicUrls): DeltaPage {
    if (token === 'latest') return { value: [], '@odata.deltaLink': this.deltaLink(folder, drive.seq, link) };
    if (token === null) return this.emit(folder, this.enumerate(drive, folder, undefined, urls), drive.seq, link, top);
    const state = this.tokens.get(token);
    if (!state || state.folderId !== folder.id) {
      throw new GraphError(410, 'resyncRequired', 'Resync required. Replace any local items with the server version and resync.', 'resyncChangesApplyDifferences', {
        location: link,
      });
    }
    if (state.kind === 'page') return this.emit(folder, state.items, state.endSeq, link, top ?? state.top);
    return this.emit(folder, this.enumerate(drive, folder, state.seq, urls), drive.seq, link, top);
  }

  private emit(folder: Item, items: Record<string, unknown>[], endSeq: number, link: string, top = DEFAULT_TOP): DeltaPage {
    const value = items.slice(0, top);
    if (items.length <= top) return { value, '@odata.deltaLink': this.deltaLink(folder, endSeq, link) };
    const token = this.mint({ kind: 'page', folderId: folder.id, items: items.slice(top), endSeq, top });
    this.pageTokens.push(token);
    if (this.pageTokens.length > MAX_PAGE_CURSORS) this.tokens.delete(this.pageTokens.shift()!);
    return { value, '@odata.nextLink': `${link}?token=${token}` };
  }

  private deltaLink(folder: Item, seq: number, link: string): string {
    return `${link}?token=${this.mint({ kind: 'delta', folderId: folder.id, seq })}`;
  }

  private mint(state: TokenState): string {
    const token = randomBytes(18).toString('base64url');
    this.tokens.set(token, state);
    return token;
  }

  /**
   * Full enumeration (since undefined): the live subtree, parents first. Otherwise everything under
   * `folder` changed after `since`, each once in its latest state: live items parents first, then
   * deleted ones children first.
   */
  private enumerate(drive: Drive, folder: Item, since: number | undefined, urls: PublicUrls): Record<string, unknown>[] {
    if (since === undefined) {
      const out: Record<string, unknown>[] = [];
      const walk = (item: Item): void => {
        out.push(driveItemJson(drive, item, urls, true));
        if (item.kind === 'folder') for (const child of drive.childrenOf(item)) walk(child);
      };
      walk(folder);
      return out;
    }
    const changed = [...drive.allItems()].filter((it) => it.changeSeq > since && drive.isWithin(it, folder));
    const live = changed.filter((it) => !it.deleted).sort((a, b) => drive.depthOf(a) - drive.depthOf(b));
    const gone = changed.filter((it) => it.deleted).sort((a, b) => drive.depthOf(b) - drive.depthOf(a));
    return [...live.map((it) => driveItemJson(drive, it, urls, true)), ...gone.map((it) => deletedItemJson(drive, it))];
  }
}
