/**
 * Qonto's probative copies (docs/probative-copies.md): a PAdES-signed PDF Qonto makes of many
 * attachments. Each copy exported is a manifest row of its own, keyed by the attachment id plus a
 * kind (never by file name), so it has the identity, verification and re-import rules of a receipt.
 * Pure: no Node imports, usable in workflow code.
 */

/** What became of an attachment's probative copy, as the export sees it. Qonto documents
 * `available` and `unavailable`; any other status (e.g. `pending`) reads as not available yet and is
 * looked at again at later runs. */
export type ProbativeStatus = 'available' | 'pending' | 'unavailable';

export type FileKind = 'original' | 'probative';

/** The part of Qonto's `probative_attachment` object the export reads. */
export interface ProbativeAttachment {
  status: string;
  file_size?: number | null | undefined;
  url?: string | null | undefined;
}

export type ProbativeState =
  | { status: 'available'; size: number; url: string }
  | { status: 'pending' }
  | { status: 'unavailable' };

/** Qonto's answer in the export's terms. No object at all: Qonto makes no copy of this attachment.
 * `available` without a link or a size cannot be downloaded yet: pending. */
export function probativeStateOf(probative: ProbativeAttachment | null | undefined): ProbativeState {
  if (!probative) return { status: 'unavailable' };
  const status = probative.status.trim().toLowerCase();
  if (status === 'unavailable') return { status: 'unavailable' };
  if (status === 'available' && probative.url && typeof probative.file_size === 'number') {
    return { status: 'available', size: probative.file_size, url: probative.url };
  }
  return { status: 'pending' };
}

// Outside the alphabet of Qonto attachment ids ([A-Za-z0-9-], see naming.ts): no original can clash.
const PROBATIVE_SUFFIX = ':probative';

/** The manifest key of a file: the attachment id for the original, id + kind for the copy. */
export function manifestKey(attachmentId: string, kind: FileKind): string {
  return kind === 'original' ? attachmentId : `${attachmentId}${PROBATIVE_SUFFIX}`;
}

/** The attachment and kind a manifest key stands for. */
export function parseManifestKey(key: string): { attachmentId: string; kind: FileKind } {
  return key.endsWith(PROBATIVE_SUFFIX)
    ? { attachmentId: key.slice(0, -PROBATIVE_SUFFIX.length), kind: 'probative' }
    : { attachmentId: key, kind: 'original' };
}
