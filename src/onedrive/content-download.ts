/**
 * GET of a drive item's `@microsoft.graph.downloadUrl` (a pre-authenticated link, sent without
 * Authorization), following redirects by hand: each hop must be `https:` to a public host, or,
 * against a local simulator (a Graph base on a loopback http host), http to loopback
 * (docs/engine-notes.md). A refused hop is a FatalError: the same link would be refused again.
 */
import { FatalError } from '../errors.js';
import { isLoopbackHost, isNonPublicHost } from '../http/address-guard.js';

const MAX_REDIRECTS = 5;
const REDIRECTS = new Set([301, 302, 303, 307, 308]);

/** True when `graphUrl` is a local simulator's: its content links are on loopback http hosts. */
export function isLocalSimulator(graphUrl: string): boolean {
  const base = new URL(graphUrl);
  return base.protocol === 'http:' && isLoopbackHost(base.hostname);
}

export function checkContentUrl(raw: string, graphUrl: string, what: string): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new FatalError(`${what}: refused a download link that is not a URL`);
  }
  if (isLocalSimulator(graphUrl) && url.protocol === 'http:' && isLoopbackHost(url.hostname)) return url;
  if (url.protocol !== 'https:') throw new FatalError(`${what}: refused a ${url.protocol} download link (only https)`);
  if (isNonPublicHost(url.hostname)) throw new FatalError(`${what}: refused a download link to a non-public address (${url.hostname})`);
  return url;
}

/** The final answer (not a redirect) for `url`; network errors go up as they are. */
export async function fetchContent(fetchImpl: typeof fetch, url: string, graphUrl: string, what: string, signal?: AbortSignal): Promise<Response> {
  let target = checkContentUrl(url, graphUrl, what);
  for (let redirects = 0; ; redirects++) {
    const res = await fetchImpl(target.href, { signal, redirect: 'manual' });
    const location = REDIRECTS.has(res.status) ? res.headers.get('location') : null;
    if (location === null) return res;
    await res.body?.cancel();
    if (redirects === MAX_REDIRECTS) throw new FatalError(`${what}: more than ${MAX_REDIRECTS} redirects`);
    let next: string;
    try {
      next = new URL(location, target).href;
    } catch {
      throw new FatalError(`${what}: refused a redirect that is not a URL`);
    }
    target = checkContentUrl(next, graphUrl, `${what} (redirected)`);
  }
}
