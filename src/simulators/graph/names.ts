/**
 * OneDrive name rules (docs/contracts-graph.md, Names OneDrive accepts): what the service refuses with 400, how names compare
 * (case-insensitively), and how `conflictBehavior: rename` picks a free name.
 */
import { invalidRequest } from './errors.js';

const FORBIDDEN_CHARS = /["*:<>?/\\|]/;
const RESERVED_DEVICE = /^(con|prn|aux|nul|com[0-9]|lpt[0-9])(\..*)?$/i;
const RESERVED_EXACT = new Set(['.lock', 'desktop.ini']);
/** Whole path (relative to the drive root) must stay under this many characters. */
export const MAX_PATH_CHARS = 400;

/** Throws 400 invalidRequest when OneDrive would refuse `name` for a new file or folder. */
export function assertValidName(name: string): void {
  const refuse = (why: string): never => {
    throw invalidRequest(`The provided name cannot be used: ${why}.`, 'invalidName');
  };
  if (name.length === 0) refuse('it is empty');
  if (FORBIDDEN_CHARS.test(name)) refuse('it contains one of " * : < > ? / \\ |');
  if (/^\s|\s$/.test(name)) refuse('it starts or ends with white space');
  if (name.endsWith('.')) refuse('it ends with a dot');
  if (RESERVED_DEVICE.test(name)) refuse('it is a reserved device name');
  if (RESERVED_EXACT.has(name.toLowerCase())) refuse('it is a reserved file name');
  if (name.startsWith('~$')) refuse('it starts with ~$');
  if (name.includes('_vti_')) refuse('it contains _vti_');
}

/** `path` is relative to the drive root, e.g. `Apps/X/2026/a.pdf`; counted in code points. */
export function assertPathLength(path: string): void {
  if ([...path].length >= MAX_PATH_CHARS) {
    throw invalidRequest(`The path is too long (must be under ${MAX_PATH_CHARS} characters).`, 'pathIsTooLong');
  }
}

/** Key under which names collide: lookups and clashes ignore case (and Unicode normalisation form). */
export function nameKey(name: string): string {
  return name.normalize('NFC').toLowerCase();
}

/** `rename` candidates as OneDrive makes them: "x.pdf" → "x 1.pdf", folder "2026" → "2026 1". */
export function renamed(name: string, n: number, isFile: boolean): string {
  const dot = isFile ? name.lastIndexOf('.') : -1;
  if (dot <= 0) return `${name} ${n}`;
  return `${name.slice(0, dot)} ${n}${name.slice(dot)}`;
}
