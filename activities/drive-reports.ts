import { Context } from '@temporalio/activity';
import { CSV_HEADER, csvLine, toLogEntries } from '../src/api/export-log.js';
import { missingReceiptsCsv } from '../src/api/missing-receipts.js';
import { NotFoundError } from '../src/errors.js';
import type { DriveReportFingerprint, MissingReceipt, Store } from '../src/store/types.js';
import { REPORT_FILE_NAMES, fingerprintOf, periodFolderPath, reportFolders, reportsToWrite, type ReportDraft } from '../src/sync/drive-reports.js';
import type { ActivityDeps } from './deps.js';
import { keepHeartbeating } from './heartbeat.js';

/**
 * The reports in the period folders (EXPORT_LOG_CSV, MISSING_RECEIPTS_CSV; docs/export-log.md,
 * docs/missing-receipts.md), after a run's export: each with the rows the API serves for that folder,
 * written only where they differ from what was last written there. Safe to retry: a report is
 * recorded as written only once the drive holds it, and writing it again replaces it.
 */
export function driveReportActivities(deps: ActivityDeps) {
  return {
    async writeDriveReports({ integrationId }: { integrationId: string }): Promise<{ written: number }> {
      const on = deps.driveReports;
      if (!on?.exportLog && !on?.missingReceipts) return { written: 0 };
      const { store } = deps;
      const integration = await store.getIntegration(integrationId);
      if (!integration) return { written: 0 };
      const known = await store.driveReports(integrationId);
      const folders = new Map((await store.listFolders(integrationId)).map((f) => [f.path, f.driveItemId]));

      const drafts: ReportDraft[] = [];
      if (on.exportLog) drafts.push(...(await exportLogDrafts(store, integrationId, known, folders)));
      if (on.missingReceipts && integration.syncFrom !== null) {
        drafts.push(...missingReceiptDrafts(await store.missingReceipts(integrationId, integration.syncFrom), known));
      }
      const due = reportsToWrite(drafts, known, new Set(folders.keys()));
      if (due.length === 0) return { written: 0 };

      const ctx = Context.current();
      const drive = deps.onedrive(integrationId);
      const beat = keepHeartbeating(ctx, deps.heartbeatIntervalMs);
      let written = 0;
      try {
        for (const draft of due) {
          const bytes = Buffer.from(draft.csv, 'utf8');
          try {
            await beat.run(() =>
              drive.uploadFile({
                parentId: folders.get(draft.folderPath)!,
                name: REPORT_FILE_NAMES[draft.report],
                size: bytes.length,
                open: async () => new Blob([bytes]).stream(),
                signal: ctx.cancellationSignal,
              }),
            );
          } catch (error) {
            // The folder went since the drive check: the next run's check dismisses it; nothing is
            // created here (a report never brings back a folder the user deleted).
            if (error instanceof NotFoundError) continue;
            throw error;
          }
          await store.putDriveReport(integrationId, { folderPath: draft.folderPath, report: draft.report, fingerprint: draft.fingerprint });
          beat.progress({ written: ++written });
        }
      } finally {
        beat.stop();
      }
      return { written };
    },
  };
}

/** One per period folder we know, read folder by folder (a period's log fits in memory; the whole
 * log need not). */
async function exportLogDrafts(
  store: Store,
  integrationId: string,
  known: readonly DriveReportFingerprint[],
  folders: ReadonlyMap<string, string>,
): Promise<ReportDraft[]> {
  const withReceipts = (await store.folderCounts(integrationId)).map((f) => f.folderPath);
  const drafts: ReportDraft[] = [];
  for (const folderPath of reportFolders('export-log', withReceipts, known)) {
    if (!folders.has(folderPath)) continue;
    let csv = CSV_HEADER;
    let unverified = CSV_HEADER;
    for await (const row of store.exportLog(integrationId, { folderPath })) {
      // A receipt's row, its probative copy's status with it (the transactions without a receipt are
      // the folder's other report).
      for (const entry of toLogEntries(row)) {
        csv += csvLine(entry);
        unverified += csvLine({ ...entry, verifiedAt: null });
      }
    }
    drafts.push({ folderPath, report: 'export-log', csv, fingerprint: fingerprintOf(unverified) });
  }
  return drafts;
}

function missingReceiptDrafts(missing: readonly MissingReceipt[], known: readonly DriveReportFingerprint[]): ReportDraft[] {
  const byFolder = new Map<string, MissingReceipt[]>();
  for (const m of missing) {
    const path = periodFolderPath(m.account, m.period);
    const list = byFolder.get(path);
    if (list) list.push(m);
    else byFolder.set(path, [m]);
  }
  return reportFolders('missing-receipts', byFolder.keys(), known).map((folderPath) => {
    const csv = missingReceiptsCsv(byFolder.get(folderPath) ?? []);
    return { folderPath, report: 'missing-receipts', csv, fingerprint: fingerprintOf(csv) };
  });
}
