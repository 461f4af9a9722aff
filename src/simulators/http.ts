import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as delay } from 'node:timers/promises';

export type Handler = (req: IncomingMessage, res: ServerResponse) => void | Promise<void>;

export interface RunningServer {
  /** Base URL without a trailing slash, e.g. http://127.0.0.1:40123 */
  url: string;
  server: Server;
  close(): Promise<void>;
}

/** Starts a plain node:http server on 127.0.0.1 (port 0 = any free port). Handler errors become 500s
 * so a simulator bug shows up as a failed request, not a crashed test process. */
export async function startHttpServer(handler: Handler, port = 0, host = '127.0.0.1', opts: { latencyMs?: number } = {}): Promise<RunningServer> {
  const latency = opts.latencyMs ?? 0;
  const server = createServer((req, res) => {
    // A simulated network/service latency before each answer (benchmarks).
    const answered = latency > 0 ? delay(latency).then(() => handler(req, res)) : Promise.resolve(handler(req, res));
    answered.catch((error: unknown) => {
      if (!res.headersSent) sendJson(res, 500, { error: { code: 'simulatorError', message: String(error) } });
      else res.destroy();
    });
  });
  server.keepAliveTimeout = 1_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const { port: actual } = server.address() as AddressInfo;
  return {
    url: `http://${host}:${actual}`,
    server,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

export async function readBody(req: IncomingMessage, limit = 1024 * 1024): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limit) throw new Error(`request body over ${limit} bytes`);
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

/**
 * From now on `res` sends its headers and the first `bytes` of its body, then nothing: later writes
 * are swallowed and `end()` never finishes the answer, so the client waits on an open connection
 * (fault `stall-body`). The connection closes when the client gives up or the server closes.
 */
export function stallAfter(res: ServerResponse, bytes: number): void {
  let left = bytes;
  const write = res.write.bind(res) as (chunk: Buffer) => boolean;
  const pass = (chunk: unknown): void => {
    if (typeof chunk !== 'string' && !(chunk instanceof Uint8Array)) return;
    const buf = Buffer.from(chunk);
    const part = buf.subarray(0, Math.max(0, left));
    left -= part.length;
    if (part.length > 0) write(part);
    res.flushHeaders();
  };
  res.write = ((chunk: unknown) => {
    pass(chunk);
    return true;
  }) as ServerResponse['write'];
  res.end = ((chunk?: unknown) => {
    pass(chunk);
    return res;
  }) as ServerResponse['end'];
}
