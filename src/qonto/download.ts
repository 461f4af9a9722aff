/**
 * Downloads from the pre-signed storage URLs Qonto hands out for attachments (docs/contracts-qonto.md, Attachments).
 * The request carries no Qonto credentials; the answer body is passed on as a stream.
 */
import { RetryableError } from '../errors.js';
import { parseRetryAfter } from '../http/retry.js';
import { networkError } from './errors.js';

/** One GET of a signed URL; transient failures (network, 429, 5xx) become RetryableError. */
export async function fetchSignedUrl(
  fetchImpl: typeof fetch,
  what: string,
  url: string,
  signal?: AbortSignal,
): Promise<Response> {
  let res: Response;
  try {
    res = await fetchImpl(url, { signal });
  } catch (error) {
    if (signal?.aborted) throw error;
    throw networkError(what, error);
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

/**
 * Passes `body` through chunk by chunk, only as fast as the reader pulls (no buffering), and turns
 * a connection lost midway into a RetryableError so the caller knows another try can succeed.
 */
export function guardStream(body: ReadableStream<Uint8Array>, what: string, signal?: AbortSignal): ReadableStream<Uint8Array> {
  const reader = body.getReader();
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        try {
          const { done, value } = await reader.read();
          if (done) controller.close();
          else controller.enqueue(value);
        } catch (error) {
          controller.error(signal?.aborted ? error : networkError(`${what} (interrupted)`, error));
        }
      },
      cancel: (reason) => reader.cancel(reason),
    },
    { highWaterMark: 0 },
  );
}
