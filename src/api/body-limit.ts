import type { MiddlewareHandler } from 'hono';
import { ApiError } from './errors.js';

/**
 * Request bodies above `maxBytes` get a 413 JSON answer that the client can read.
 *
 * hono/body-limit answers as soon as it knows the body is too large; the rest of the body is then
 * still on the wire, and the adapter hangs up on it (after 500 ms), so a client that sends its whole
 * request before reading the answer (a slow uplink, Python's http.client) gets EPIPE or a reset and
 * never sees the 413. Here the rest is read and discarded first, up to `discardBytes`; the answer
 * then arrives on a clean connection that stays usable. A body declared (or found) larger than that
 * is answered at once with `Connection: close`: we will not pay that much bandwidth to be polite.
 * The time a client may take is bounded by Node's `requestTimeout`. `maxBytes` may depend on the path
 * (the codec server takes larger bodies than the API).
 */
export function bodyLimit(limitFor: number | ((path: string) => number), discardBytes: number): MiddlewareHandler {
  return async (c, next) => {
    const maxBytes = typeof limitFor === 'number' ? limitFor : limitFor(c.req.path);
    const tooLarge = () => new ApiError(413, 'payload_too_large', `Request bodies are limited to ${maxBytes} bytes`);
    // Typed as the bytes Node delivers (the DOM typing says `any`).
    const body = c.req.raw.body as ReadableStream<Uint8Array> | null;
    if (!body) return next();
    const declared = c.req.raw.headers.has('transfer-encoding') ? null : c.req.header('content-length');
    if (declared != null) {
      // Node's HTTP parser holds the body to its declared length.
      const length = Number(declared);
      if (length <= maxBytes) return next();
      if (length <= discardBytes && (await discard(body.getReader(), 0, discardBytes))) throw tooLarge();
      c.header('Connection', 'close');
      throw tooLarge();
    }
    const reader = body.getReader();
    const chunks: Uint8Array[] = [];
    let size = 0;
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      size += value.length;
      if (size > maxBytes) {
        if (!(await discard(reader, size, discardBytes))) c.header('Connection', 'close');
        throw tooLarge();
      }
      chunks.push(value);
    }
    // Made from its parts: the adapter's request object is its own class, which Node's Request does not
    // take as a request to copy (the adapter leaves the global Request as it is: src/api/listen.ts).
    const raw = c.req.raw;
    c.req.raw = new Request(raw.url, { method: raw.method, headers: raw.headers, signal: raw.signal, body: Buffer.concat(chunks, size) });
    return next();
  };
}

/** Reads the rest of a body without keeping it; false (and stops) once more than `bound` bytes came,
 * or when the client went away meanwhile. */
async function discard(reader: ReadableStreamDefaultReader<Uint8Array>, already: number, bound: number): Promise<boolean> {
  let size = already;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return true;
      size += value.length;
      if (size > bound) {
        await reader.cancel();
        return false;
      }
    }
  } catch {
    return false;
  }
}
