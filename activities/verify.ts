import { Context } from '@temporalio/activity';
import { DeltaResyncRequiredError } from '../src/onedrive/delta.js';
import type { DriveItem } from '../src/onedrive/client.js';
import type { ActivityDeps } from './deps.js';
import { keepHeartbeating } from './heartbeat.js';
import { cancelSessions } from './sessions.js';
import type { VerifyResult } from './types.js';

/**
 * What the user deleted in the app folder since the last run, from the delta feed:
 * - a folder we made (account, year or period): its receipts are dismissed and stay gone, while
 *   receipts discovered later for that folder are still exported (the folder comes back with them);
 * - a file: it is exported again.
 * Without a delta link (first run) or after 410 (link expired) the whole app folder is enumerated and
 * anything we believe is there but is not counts as deleted.
 */
export function verifyActivities(deps: ActivityDeps) {
  return {
    async verifyDrive(input: { integrationId: string; deltaLink: string | null }): Promise<VerifyResult> {
      const { integrationId } = input;
      const drive = deps.onedrive(integrationId);
      const ctx = Context.current();

      let link: string | { folder: 'approot' } = input.deltaLink ?? { folder: 'approot' };
      let fullScan = input.deltaLink === null;
      let deleted = new Set<string>();
      let present = new Set<string>();
      /** The drive's quickXorHash of the files the feed reported present (to tell a changed file). */
      let hashes = new Map<string, string>();
      let deltaLink: string | undefined;
      const beat = keepHeartbeating(ctx);
      try {
        for (let pages = 0; deltaLink === undefined; pages++) {
          let page: { items: DriveItem[]; nextLink?: string; deltaLink?: string };
          try {
            const from = link;
            page = await beat.run(() => drive.deltaPage(from));
          } catch (error) {
            if (!(error instanceof DeltaResyncRequiredError) || fullScan) throw error;
            link = { folder: 'approot' };
            fullScan = true;
            deleted = new Set();
            present = new Set();
            hashes = new Map();
            continue;
          }
          for (const item of page.items) {
            if (item.deleted) {
              deleted.add(item.id);
              present.delete(item.id);
            } else {
              present.add(item.id);
              deleted.delete(item.id);
              const hash = item.file?.hashes?.quickXorHash;
              if (hash !== undefined) hashes.set(item.id, hash);
            }
          }
          beat.progress({ pages });
          if (page.nextLink) link = page.nextLink;
          else if (page.deltaLink) deltaLink = page.deltaLink;
          else throw new Error('delta page without nextLink or deltaLink');
        }
      } finally {
        beat.stop();
      }

      const { store } = deps;
      if (fullScan) {
        for (const f of await store.listFolders(integrationId)) if (f.path !== '' && !present.has(f.driveItemId)) deleted.add(f.driveItemId);
        for (const id of await store.uploadedItemIds(integrationId)) if (!present.has(id)) deleted.add(id);
      }
      const ids = [...deleted];

      let dismissed = 0;
      const sessions: string[] = [];
      const folders = (await store.findFoldersByIds(integrationId, ids)).sort((a, b) => a.path.length - b.path.length);
      for (const folder of folders) {
        const under = await store.dismissUnder(integrationId, folder.path);
        dismissed += under.dismissed;
        sessions.push(...under.uploadUrls);
        await store.forgetFoldersUnder(integrationId, folder.path);
      }
      await cancelSessions(drive, sessions, ctx.cancellationSignal);

      let requeued = 0;
      for (const entry of await store.findByDriveItemIds(integrationId, ids)) {
        if (entry.state !== 'uploaded') continue;
        await store.updateEntry(integrationId, entry.attachmentId, {
          state: 'pending',
          driveItemId: null,
          uploadUrl: null,
          reimports: entry.reimports + 1,
        });
        requeued += 1;
      }
      // Every other exported file is still there as far as the drive knows. One whose content someone
      // replaced (its hash no longer ours) is recorded as changed, and no longer counts as seen intact
      // (the feed reports a change once); the file itself is left as the user made it.
      const at = new Date().toISOString();
      for (const entry of await store.findByDriveItemIds(integrationId, [...hashes.keys()])) {
        const changed = entry.state === 'uploaded' && entry.quickXorHash !== null && entry.quickXorHash !== hashes.get(entry.driveItemId!);
        if (changed && entry.changedAt === null) await store.updateEntry(integrationId, entry.attachmentId, { changedAt: at });
      }
      await store.markVerified(integrationId, at);
      return { deltaLink, requeued, dismissed };
    },
  };
}
