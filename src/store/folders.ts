import type { Kysely } from 'kysely';
import type { Database } from './schema.js';
import type { DriveReportKind, Store } from './types.js';
import { now } from './rows.js';
import { atOrBelow, chunks } from './sql-parts.js';

/** The drive's folders as the store caches them (ids by path below the app folder), and the reports
 * written into them. Forgetting a folder forgets everything below it, reports included. */
export function folderStatements(
  db: Kysely<Database>,
): Pick<Store, 'getFolder' | 'putFolder' | 'findFoldersByIds' | 'listFolders' | 'forgetFoldersUnder' | 'driveReports' | 'putDriveReport'> {
  return {
    async getFolder(integrationId, path) {
      const row = await db
        .selectFrom('folders')
        .select('drive_item_id')
        .where('integration_id', '=', integrationId)
        .where('path', '=', path)
        .executeTakeFirst();
      return row?.drive_item_id ?? null;
    },
    async putFolder(integrationId, path, driveItemId) {
      await db
        .insertInto('folders')
        .values({ integration_id: integrationId, path, drive_item_id: driveItemId })
        .onConflict((oc) => oc.columns(['integration_id', 'path']).doUpdateSet({ drive_item_id: driveItemId }))
        .execute();
    },
    async findFoldersByIds(integrationId, ids) {
      const found: { path: string; driveItemId: string }[] = [];
      for (const some of chunks([...new Set(ids)])) {
        const rows = await db
          .selectFrom('folders')
          .select(['path', 'drive_item_id'])
          .where('integration_id', '=', integrationId)
          .where('drive_item_id', 'in', some)
          .orderBy('path')
          .execute();
        found.push(...rows.map((r) => ({ path: r.path, driveItemId: r.drive_item_id })));
      }
      return found;
    },
    async listFolders(integrationId) {
      const rows = await db
        .selectFrom('folders')
        .select(['path', 'drive_item_id'])
        .where('integration_id', '=', integrationId)
        .orderBy('path')
        .execute();
      return rows.map((r) => ({ path: r.path, driveItemId: r.drive_item_id }));
    },
    async forgetFoldersUnder(integrationId, path) {
      await db.transaction().execute(async (trx) => {
        await trx.deleteFrom('folders').where('integration_id', '=', integrationId).where(atOrBelow('path', path)).execute();
        await trx.deleteFrom('drive_reports').where('integration_id', '=', integrationId).where(atOrBelow('folder_path', path)).execute();
      });
    },
    async driveReports(integrationId) {
      const rows = await db
        .selectFrom('drive_reports')
        .select(['folder_path', 'report', 'fingerprint'])
        .where('integration_id', '=', integrationId)
        .orderBy('folder_path')
        .orderBy('report')
        .execute();
      return rows.map((r) => ({ folderPath: r.folder_path, report: r.report as DriveReportKind, fingerprint: r.fingerprint }));
    },
    async putDriveReport(integrationId, { folderPath, report, fingerprint }) {
      await db
        .insertInto('drive_reports')
        .values({ integration_id: integrationId, folder_path: folderPath, report, fingerprint, written_at: now() })
        .onConflict((oc) => oc.columns(['integration_id', 'folder_path', 'report']).doUpdateSet({ fingerprint, written_at: now() }))
        .execute();
    },
  };
}
