/**
 * The reports written into period folders (docs/export-log.md and docs/missing-receipts.md): which
 * folder gets which report, and whether what it would hold differs from what was last written.
 * Pure: the activity (activities/drive-reports.ts) reads the store and writes the files.
 */
import { createHash } from 'node:crypto';
import type { DriveReportFingerprint, DriveReportKind } from '../store/types.js';

/** The file each report is written as. The leading `_` sorts it above the receipts; no receipt
 * name starts with one (they start with the date). */
export const REPORT_FILE_NAMES: Readonly<Record<DriveReportKind, string>> = {
  'export-log': '_export-log.csv',
  'missing-receipts': '_missing-receipts.csv',
};

/** Which reports the operator turned on (EXPORT_LOG_CSV, MISSING_RECEIPTS_CSV). */
export interface DriveReportSettings {
  exportLog: boolean;
  missingReceipts: boolean;
}

/** `<account>/<YYYY>/<YYYY-MM>`: the folder a transaction of `period` (`YYYY-MM`) goes to. */
export function periodFolderPath(account: string, period: string): string {
  return `${account}/${period.slice(0, 4)}/${period}`;
}

/** Lowercase hex SHA-256 of the text: what a report's content is recognised by. */
export function fingerprintOf(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

/** One report as it would be written now. */
export interface ReportDraft {
  folderPath: string;
  report: DriveReportKind;
  csv: string;
  /** Of what makes the report differ (its CSV, or for the export log its CSV without the verification
   * times, which every drive check moves on without anything having changed in the period). */
  fingerprint: string;
}

/**
 * The folders that get `report`: those with content for it now, and those where it was written
 * before (their content went away: the report is written again, with the header only, rather than
 * left saying what is no longer true). Sorted.
 */
export function reportFolders(report: DriveReportKind, withContent: Iterable<string>, known: readonly DriveReportFingerprint[]): string[] {
  const folders = new Set(withContent);
  for (const k of known) if (k.report === report) folders.add(k.folderPath);
  return [...folders].sort();
}

/**
 * The drafts to write: those for a folder that exists in the drive (never one the user deleted: it
 * is no longer among the folders we know, and a report does not create one) whose fingerprint
 * differs from the one last written.
 */
export function reportsToWrite(drafts: readonly ReportDraft[], known: readonly DriveReportFingerprint[], existingFolders: ReadonlySet<string>): ReportDraft[] {
  const written = new Map(known.map((k) => [`${k.report}\n${k.folderPath}`, k.fingerprint]));
  return drafts.filter((d) => existingFolders.has(d.folderPath) && written.get(`${d.report}\n${d.folderPath}`) !== d.fingerprint);
}
