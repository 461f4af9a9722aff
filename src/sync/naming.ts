/**
 * Where a receipt goes in OneDrive: folder and file names derived deterministically from the receipt,
 * always valid under OneDrive's naming rules (docs/contracts-graph.md, Names OneDrive accepts) and short enough that
 * `Apps/<app name>/<account>/<YYYY>/<YYYY-MM>/<file>` stays under 400 characters. The file name
 * carries the start of the attachment id, so a retry rewrites the same name instead of making
 * "name (1).pdf". Pure: no Node imports, usable in workflow code.
 */
import { FatalError } from '../errors.js';
import { localDate } from './periods.js';

/** OneDrive rejects a path (after `/drive/root:`) of this many characters or more. */
export const MAX_PATH_LENGTH = 400;

// Per-name limit of the file systems a synced OneDrive folder lands on (NTFS, APFS, ext4).
const MAX_SEGMENT_UNITS = 255;
// Caps counted both in graphemes (what a person sees) and UTF-16 code units (what the path limit
// counts, conservatively: a flag is 1 grapheme but 4 units). With them the longest possible path is
// 5 ('Apps/') + 60 (app name) + 1 + 87 (account) + 14 ('/YYYY/YYYY-MM/') + 199 (file) = 366 < 400;
// a probative copy's name (probativeFileName) is at most PROBATIVE_NAME_MAX, so 376 < 400.
const COUNTERPARTY_MAX = { graphemes: 60, units: 90 };
const ACCOUNT_NAME_MAX = { graphemes: 60, units: 80 };
// Qonto attachment ids are UUIDs; anything else is a contract violation, not something to rename.
const ATTACHMENT_ID = /^[A-Za-z0-9-]{1,64}$/;
// Amounts in cents stay exact below 2^53; Qonto amounts are far smaller.
const MAX_CENTS = Number.MAX_SAFE_INTEGER;

/**
 * Forbidden characters (`" * : < > ? / \ |`) become plain ASCII, not rclone's full-width look-alikes
 * (＂＊：…): people search for and retype these names, and a look-alike makes two names that look the
 * same differ, and breaks in tools that fold or reject non-ASCII punctuation. Separators read as '-',
 * a double quote as a single one, the rest as '_'.
 */
const FORBIDDEN_REPLACEMENT: Readonly<Record<string, string>> = {
  '/': '-',
  '\\': '-',
  '|': '-',
  ':': '-',
  '"': "'",
  '*': '_',
  '<': '_',
  '>': '_',
  '?': '_',
};
const FORBIDDEN = /["*:<>?/\\|]/g;
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;
// Control characters (incl. newline and tab, which break path lookups) read as word breaks.
const CONTROL = /[\p{Cc}]/gu;
// Invisible bidirectional overrides can make "fdp.exe" display as "exe.pdf".
const BIDI_CONTROL = /[\u200E\u200F\u202A-\u202E\u2066-\u2069]/g;
// `&#123;` / `&#x7B;` look like HTML character references, which OneDrive refuses.
const HTML_CODE = /&#(?:[xX][0-9A-Fa-f]+|[0-9]+);?/g;
// Only the '_' before "vti_" changes, so no new "_vti_" can appear; one pass is enough.
const VTI = /_(?=vti_)/gi;
const EDGE_SPACES_AND_DOTS = /^[\s.]+|[\s.]+$/g;
// Windows device names, also with an extension (`con.txt`, `COM1 .log`); COM¹-³ count too.
const RESERVED = /^(?:CON|PRN|AUX|NUL|COM[0-9¹²³]|LPT[0-9¹²³])\s*(?:\.|$)/i;

const graphemes = new Intl.Segmenter('en', { granularity: 'grapheme' });

/** Everything but the edge and length rules; may return ''. */
function cleanText(raw: string): string {
  let text = String(raw)
    .replace(LONE_SURROGATE, '\uFFFD')
    .replace(CONTROL, ' ')
    .replace(BIDI_CONTROL, '');
  // NFC can turn U+037E into ';' and so complete an HTML code, and removing one can bring a base and
  // a combining mark together: repeat until neither changes anything (each round shortens the text).
  for (let before = ''; before !== text; ) {
    before = text;
    text = text.normalize('NFC').replace(HTML_CODE, '');
  }
  return text
    .replace(FORBIDDEN, (c) => FORBIDDEN_REPLACEMENT[c] ?? '_')
    .replace(/\s+/g, ' ')
    .replace(VTI, '-');
}

/** The rules on a whole name: edges, `~`, reserved names. Adds at most one character. */
function finishName(text: string): string {
  // Stripping leading dots also disposes of `.lock` and hidden-file names.
  let name = text.replace(EDGE_SPACES_AND_DOTS, '');
  // A leading `~$` marks Office lock files (refused); rclone also avoids a leading `~`.
  if (name.startsWith('~')) name = `_${name.slice(1)}`;
  if (RESERVED.test(name) || name.toLowerCase() === 'desktop.ini') name = `_${name}`;
  return name;
}

function truncate(text: string, max: { graphemes: number; units: number }): string {
  let out = '';
  let count = 0;
  for (const { segment } of graphemes.segment(text)) {
    if (count + 1 > max.graphemes || out.length + segment.length > max.units) break;
    out += segment;
    count += 1;
  }
  return out;
}

function fits(text: string, max: { graphemes: number; units: number }): boolean {
  return text.length <= max.units && [...graphemes.segment(text)].length <= max.graphemes;
}

/** A valid name within `max`, or '' when nothing usable is left. Cuts between graphemes only. */
function cleanName(raw: string, max: { graphemes: number; units: number }): string {
  const name = finishName(cleanText(raw));
  if (fits(name, max)) return name;
  // finishName may prefix one character, so leave room for it.
  return finishName(truncate(name, { graphemes: max.graphemes - 1, units: max.units - 1 }));
}

/** One OneDrive path segment, always valid and never empty (→ `fallback`, itself sanitized). */
export function sanitizeSegment(name: string, fallback: string): string {
  const max = { graphemes: MAX_SEGMENT_UNITS, units: MAX_SEGMENT_UNITS };
  return cleanName(name ?? '', max) || cleanName(fallback ?? '', max) || '_';
}

/** Whether `prefix/segments…` stays under OneDrive's path limit (counted in UTF-16 code units). */
export function fitsPath(segments: string[], prefix?: string): boolean {
  const parts = [...(prefix ? prefix.split('/') : []), ...segments].filter((part) => part !== '');
  return parts.join('/').length < MAX_PATH_LENGTH;
}

/** `Main account (1234)`: the account's name and the last four characters of its IBAN. */
export function accountFolderName(account: { name: string; iban: string | null | undefined }): string {
  const name = cleanName(account.name ?? '', ACCOUNT_NAME_MAX) || 'Account';
  const last4 = (account.iban ?? '').replace(/[^A-Za-z0-9]/g, '').slice(-4).toUpperCase();
  return last4 ? `${name} (${last4})` : name;
}

/** `['2026', '2026-03']` for the period of periodOf(). */
export function periodFolderSegments(period: { year: string; month: string }): string[] {
  if (!/^\d{4}$/.test(period.year) || !new RegExp(`^${period.year}-(0[1-9]|1[0-2])$`).test(period.month)) {
    throw new RangeError(`Invalid period ${JSON.stringify(period)}: expected { year: 'YYYY', month: 'YYYY-MM' }`);
  }
  return [period.year, period.month];
}

export interface ReceiptNaming {
  attachmentId: string;
  /** Qonto's original file name; may lack an extension. */
  fileName: string;
  contentType: string;
  /** The transaction's `emitted_at`. */
  emittedAt: string;
  timeZone: string;
  counterparty: string | null | undefined;
  /** Unsigned, as Qonto sends it; `side` gives the sign. */
  amount: number;
  currency: string;
  side: string;
}

const KNOWN_EXTENSIONS = new Set([
  'pdf', 'png', 'jpg', 'jpeg', 'heic', 'gif', 'tif', 'tiff', 'webp',
  'txt', 'xml', 'csv', 'doc', 'docx', 'xls', 'xlsx', 'eml',
]);
const EXTENSION_BY_TYPE: Readonly<Record<string, string>> = {
  'application/pdf': 'pdf',
  'image/png': 'png',
  'image/jpeg': 'jpg',
  'image/jpg': 'jpg',
  'image/pjpeg': 'jpg',
  'image/heic': 'heic',
  'image/heif': 'heic',
  'image/gif': 'gif',
  'image/tiff': 'tiff',
  'image/webp': 'webp',
  'text/plain': 'txt',
  'application/xml': 'xml',
  'text/xml': 'xml',
  'text/csv': 'csv',
  'application/msword': 'doc',
  'application/vnd.openxmlformats-officedocument.wordprocessingml.document': 'docx',
  'application/vnd.ms-excel': 'xls',
  'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet': 'xlsx',
  'message/rfc822': 'eml',
};

/** The original name's extension if it is one we know, else the content type's, else `bin`. */
function extensionOf(fileName: string, contentType: string): string {
  const fromName = /\.([A-Za-z0-9]+)$/.exec((fileName ?? '').trim())?.[1]?.toLowerCase();
  if (fromName && KNOWN_EXTENSIONS.has(fromName)) return fromName;
  const mediaType = (contentType ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
  return Object.hasOwn(EXTENSION_BY_TYPE, mediaType) ? (EXTENSION_BY_TYPE[mediaType] as string) : 'bin';
}

/** Data no file name can be made from. `reason` is a code safe to log; the message can carry the
 * amount or other receipt data, and stays out of the logs. */
export class UnnameableReceiptError extends FatalError {
  constructor(
    readonly reason: 'amount_out_of_range' | 'attachment_id_invalid',
    message: string,
  ) {
    super(message);
  }
}

/** `-52.40` for a debit of 52.4: two decimals, '.', no grouping, whatever the machine's locale. */
export function formatAmount(amount: number, side: string): string {
  // Round the decimal Qonto sent (1.005 → 1.01), not its binary approximation (1.00499…).
  const cents = Math.round(Number((Math.abs(amount) * 100).toPrecision(15)));
  if (!Number.isFinite(amount) || cents > MAX_CENTS) throw new UnnameableReceiptError('amount_out_of_range', `Receipt amount ${amount} is out of range`);
  const text = `${Math.floor(cents / 100)}.${String(cents % 100).padStart(2, '0')}`;
  return side.toLowerCase() === 'debit' && cents > 0 ? `-${text}` : text;
}

/**
 * `2026-03-14 Amazon EU -52.40 EUR a1b2c3d4.pdf`: local date of `emittedAt` in `timeZone` (the same
 * day periodOf() files it under), counterparty (capped, cut between graphemes; left out when empty),
 * signed amount, currency, the first `idLength` characters of the attachment id, extension. Pass the
 * full id length when two attachments' short names clash case-insensitively.
 */
export function receiptFileName(r: ReceiptNaming, idLength = 8): string {
  if (!Number.isInteger(idLength) || idLength < 1) throw new RangeError(`Invalid id length ${idLength}`);
  if (!ATTACHMENT_ID.test(r.attachmentId)) {
    throw new UnnameableReceiptError('attachment_id_invalid', `Attachment id ${JSON.stringify(r.attachmentId)} is not of the form [A-Za-z0-9-]{1,64}`);
  }
  const parts = [
    localDate(r.emittedAt, r.timeZone),
    cleanName(r.counterparty ?? '', COUNTERPARTY_MAX),
    formatAmount(r.amount, r.side ?? ''),
    (r.currency ?? '').toUpperCase().replace(/[^A-Z0-9]/g, '').slice(0, 8),
    r.attachmentId.slice(0, idLength),
  ];
  return `${parts.filter((part) => part !== '').join(' ')}.${extensionOf(r.fileName, r.contentType)}`;
}

/** `-probative.pdf` replaces at most `.jpeg` (5 units): a copy's name is at most 10 units longer than
 * its receipt's (199), and the fallback name is cut to the same bound. */
const PROBATIVE_NAME_MAX = 209;
const PROBATIVE_ENDING = '-probative.pdf';

/**
 * The name of a receipt's probative copy (a PAdES-signed PDF), beside it in its folder:
 * `2026-03-14 Amazon EU -52.40 EUR a1b2c3d4-probative.pdf` for `… a1b2c3d4.jpg`. Derived from the
 * receipt's recorded name, so it follows the receipt's fallback name too. With `attachmentId`, the
 * fallback for when that name is taken in the folder (two receipts that differ only by extension):
 * the full attachment id before the ending, the rest cut to keep the length bound.
 */
export function probativeFileName(receiptFileName: string, attachmentId?: string): string {
  const base = receiptFileName.replace(/\.[A-Za-z0-9]+$/, '');
  if (attachmentId === undefined) return `${base}${PROBATIVE_ENDING}`;
  if (!ATTACHMENT_ID.test(attachmentId)) {
    throw new UnnameableReceiptError('attachment_id_invalid', `Attachment id ${JSON.stringify(attachmentId)} is not of the form [A-Za-z0-9-]{1,64}`);
  }
  const room = PROBATIVE_NAME_MAX - attachmentId.length - 1 - PROBATIVE_ENDING.length;
  const cut = truncate(base, { graphemes: room, units: room }).trimEnd();
  return `${cut === '' ? '' : `${cut} `}${attachmentId}${PROBATIVE_ENDING}`;
}
