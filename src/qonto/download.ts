/**
 * Downloads from the pre-signed storage URLs Qonto hands out for attachments (docs/contracts-qonto.md, Attachments).
 * The request carries no Qonto credentials; the answer body is passed on as a stream. The link and
 * each redirect must stay on https and on public addresses (docs/engine-notes.md).
 */
import { FatalError, RetryableError, SyncError } from '../errors.js';
import { isNonPublicHost } from '../http/address-guard.js';
import { parseRetryAfter } from '../http/retry.js';
import { networkError } from './errors.js';
import { mapStreamErrors } from '../http/map-stream-errors.js';

/** Redirects followed from one signed URL (S3 answers at once; a presigned link needs none). */
const MAX_REDIRECTS = 5;
const REDIRECTS = new Set([301, 302, 303, 307, 308]);

export interface DownloadPolicy {
  /**
   * Origins trusted as they are: reached over http, and at loopback or private addresses. Only the
   * sandbox's and the tests' simulator (an http:// Qonto API base); empty against Qonto itself.
   */
  trustedOrigins: readonly string[];
  /** The fetch for every other origin (one that connects only to public addresses); default the
   * fetch given to fetchSignedUrl. */
  publicFetch?: typeof fetch;
}

/**
 * Where a download may go: an https URL to a public host, or a trusted origin. Checked for the link
 * and for every redirect; a refusal is a FatalError (the same link would be refused again). Names are
 * also checked where the connection is made (src/http/address-guard.ts, `publicOnly` deadlines).
 */
export function checkDownloadUrl(raw: string, policy: DownloadPolicy, what: string): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new FatalError(`Qonto ${what}: not a URL`);
  }
  if (policy.trustedOrigins.includes(url.origin)) return url;
  if (url.protocol !== 'https:') throw new FatalError(`Qonto ${what}: refused a ${url.protocol} link (only https)`);
  if (isNonPublicHost(url.hostname)) throw new FatalError(`Qonto ${what}: refused a link to a non-public address (${url.hostname})`);
  return url;
}

/**
 * One GET of a signed URL, following redirects by hand (a bounded number, each one checked against
 * the policy); transient failures (network, 429, 5xx) become RetryableError.
 */
export async function fetchSignedUrl(
  fetchImpl: typeof fetch,
  what: string,
  url: string,
  signal?: AbortSignal,
  policy: DownloadPolicy = { trustedOrigins: [] },
): Promise<Response> {
  let res: Response;
  let target = checkDownloadUrl(url, policy, what);
  for (let redirects = 0; ; redirects++) {
    try {
      const trusted = policy.trustedOrigins.includes(target.origin);
      res = await (trusted ? fetchImpl : (policy.publicFetch ?? fetchImpl))(target, { signal, redirect: 'manual' });
    } catch (error) {
      // Aborted, or refused before sending (the integration's back-off gate): not a network failure.
      if (signal?.aborted || error instanceof SyncError) throw error;
      const code = (error as { cause?: { code?: unknown } } | undefined)?.cause?.code;
      if (code === 'ENONPUBLIC') throw new FatalError(`Qonto ${what}: refused a link whose host resolves to a non-public address`, { cause: error });
      throw networkError(what, error);
    }
    const location = REDIRECTS.has(res.status) ? res.headers.get('location') : null;
    if (location === null) break;
    await res.body?.cancel();
    if (redirects === MAX_REDIRECTS) throw new FatalError(`Qonto ${what}: more than ${MAX_REDIRECTS} redirects`);
    let next: string;
    try {
      next = new URL(location, target).href;
    } catch {
      throw new FatalError(`Qonto ${what}: redirected to something that is not a URL`);
    }
    target = checkDownloadUrl(next, policy, `${what} (redirected)`);
  }
  if (res.status === 429 || res.status >= 500) {
    throw new RetryableError(`Qonto ${what} answered ${res.status}${await storageErrorText(res)}`, {
      status: res.status,
      retryAfterMs: parseRetryAfter(res.headers.get('retry-after')),
    });
  }
  return res;
}

/** `: <Code>: <Message>` from an S3-style XML error body, or '' (the URL itself is never quoted). */
export async function storageErrorText(res: Response): Promise<string> {
  const body = await res.text().catch(() => '');
  const code = /<Code>([^<]*)<\/Code>/.exec(body)?.[1];
  const message = /<Message>([^<]*)<\/Message>/.exec(body)?.[1];
  return code ? `: ${code}${message ? `: ${message}` : ''}` : '';
}

/** `body` as it arrives, with a connection lost midway turned into a RetryableError. */
export function guardStream(body: ReadableStream<Uint8Array>, what: string, signal?: AbortSignal): ReadableStream<Uint8Array> {
  return mapStreamErrors(body, (error) => (signal?.aborted ? error : networkError(`${what} (interrupted)`, error)));
}
