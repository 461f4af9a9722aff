/**
 * Parses Graph drive addresses (docs/contracts-graph.md, Addressing): `/me/drive` or `/drives/{id}`, then `/root`,
 * `/special/approot` or `/items/{id}`, then an optional `:/relative/path:` (a second colon ends the
 * path), then an optional action. Works on the raw path: each segment is percent-decoded on its own,
 * so `%2F` inside a name never splits it.
 */
import { invalidRequest } from './errors.js';

export type Base = { kind: 'root' } | { kind: 'approot' } | { kind: 'id'; id: string };
export type Action = 'item' | 'children' | 'content' | 'createUploadSession' | 'delta';

export type Address =
  | { target: 'drive'; driveId?: string }
  | { target: 'item'; driveId?: string; base: Base; path: string[]; action: Action };

const ACTIONS: Record<string, Action> = {
  '': 'item',
  '/': 'item',
  '/children': 'children',
  '/content': 'content',
  '/createuploadsession': 'createUploadSession',
  '/delta': 'delta',
};

/** `raw` is the path after the version prefix, e.g. `/me/drive/root:/a%20b:/children`. Undefined = no such resource. */
export function parseAddress(raw: string): Address | undefined {
  let rest: string;
  let driveId: string | undefined;
  if (raw === '/me/drive' || raw.startsWith('/me/drive/') || raw.startsWith('/me/drive:')) {
    rest = raw.slice('/me/drive'.length);
  } else {
    const m = /^\/drives\/([^/:]+)(.*)$/.exec(raw);
    if (!m) return undefined;
    driveId = decode(m[1]!);
    rest = m[2]!;
  }
  if (rest === '' || rest === '/') return { target: 'drive', driveId };

  let base: Base;
  if (startsSegment(rest, '/root')) {
    base = { kind: 'root' };
    rest = rest.slice('/root'.length);
  } else if (startsSegment(rest, '/special/approot')) {
    base = { kind: 'approot' };
    rest = rest.slice('/special/approot'.length);
  } else {
    const m = /^\/items\/([^/:]+)(.*)$/.exec(rest);
    if (!m) return undefined;
    base = { kind: 'id', id: decode(m[1]!) };
    rest = m[2]!;
  }

  let path: string[] = [];
  if (rest.startsWith(':')) {
    const end = rest.indexOf(':', 1);
    const rawPath = end < 0 ? rest.slice(1) : rest.slice(1, end);
    rest = end < 0 ? '' : rest.slice(end + 1);
    path = rawPath.split('/').filter((s) => s !== '').map(decode);
  }
  const action = ACTIONS[rest.toLowerCase()];
  if (action === undefined) return undefined;
  return { target: 'item', driveId, base, path, action };
}

function startsSegment(text: string, prefix: string): boolean {
  if (!text.startsWith(prefix)) return false;
  const next = text.charAt(prefix.length);
  return next === '' || next === '/' || next === ':';
}

function decode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw invalidRequest(`Malformed percent-encoding in "${segment}".`, 'invalidPath');
  }
}
