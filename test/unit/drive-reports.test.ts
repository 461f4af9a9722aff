import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { DriveReportFingerprint } from '../../src/store/types.js';
import { fingerprintOf, periodFolderPath, reportFolders, reportsToWrite, type ReportDraft } from '../../src/sync/drive-reports.js';

const draft = (folderPath: string, report: ReportDraft['report'], csv: string): ReportDraft => ({ folderPath, report, csv, fingerprint: fingerprintOf(csv) });
const known = (folderPath: string, report: DriveReportFingerprint['report'], csv: string): DriveReportFingerprint => ({ folderPath, report, fingerprint: fingerprintOf(csv) });

describe('period folder reports', () => {
  it('fingerprints a report by the SHA-256 of its text', () => {
    expect(fingerprintOf('a,b\r\n')).toBe(createHash('sha256').update('a,b\r\n').digest('hex'));
    expect(fingerprintOf('a,b\r\n')).not.toBe(fingerprintOf('a,c\r\n'));
  });

  it('names the folder of a period as the receipts go', () => {
    expect(periodFolderPath('Main (0107)', '2026-11')).toBe('Main (0107)/2026/2026-11');
  });

  it('writes a report where content is, and again where one was written and the content went away', () => {
    const before = [known('A/2026/2026-01', 'missing-receipts', 'x'), known('B/2026/2026-02', 'export-log', 'y')];
    expect(reportFolders('missing-receipts', ['A/2026/2026-03', 'A/2026/2026-02'], before)).toEqual(['A/2026/2026-01', 'A/2026/2026-02', 'A/2026/2026-03']);
    expect(reportFolders('export-log', ['A/2026/2026-03'], before)).toEqual(['A/2026/2026-03', 'B/2026/2026-02']);
  });

  it('writes only what changed since it was last written, per folder and report', () => {
    const drafts = [
      draft('A/2026/2026-01', 'export-log', 'same'),
      draft('A/2026/2026-01', 'missing-receipts', 'new'),
      draft('A/2026/2026-02', 'export-log', 'changed'),
      draft('A/2026/2026-03', 'export-log', 'first'),
    ];
    const before = [
      known('A/2026/2026-01', 'export-log', 'same'),
      known('A/2026/2026-01', 'missing-receipts', 'old'),
      known('A/2026/2026-02', 'export-log', 'was'),
      // The same text as another report's: still that report's own fingerprint.
      known('A/2026/2026-03', 'missing-receipts', 'first'),
    ];
    const folders = new Set(['A/2026/2026-01', 'A/2026/2026-02', 'A/2026/2026-03']);
    expect(reportsToWrite(drafts, before, folders).map((d) => `${d.report} ${d.folderPath}`)).toEqual([
      'missing-receipts A/2026/2026-01',
      'export-log A/2026/2026-02',
      'export-log A/2026/2026-03',
    ]);
    // Nothing new: nothing to write.
    expect(reportsToWrite(drafts, drafts, folders)).toEqual([]);
  });

  it('never writes into a folder the drive no longer has (deleted by the user, or never made)', () => {
    const drafts = [draft('A/2026/2026-01', 'export-log', 'x'), draft('B/2026/2026-01', 'missing-receipts', 'y')];
    expect(reportsToWrite(drafts, [], new Set(['A/2026/2026-01', 'B', 'B/2026'])).map((d) => d.folderPath)).toEqual(['A/2026/2026-01']);
  });
});
