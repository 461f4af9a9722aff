import type { Server } from 'node:http';
import type { Hono } from 'hono';
import { listen } from '../api/listen.js';

export interface HttpServer {
  port: number;
  /** Stops accepting connections and resolves once the requests in flight are answered; after
   * `graceMs`, the connections still open are cut. */
  close(graceMs: number): Promise<void>;
}

/** How often idle keep-alive connections are closed during a stop: `server.close()` closes only those
 * idle at that moment, and one answering its last request becomes idle later. */
const IDLE_SWEEP_MS = 100;

export async function serveHttp(app: Hono, port: number): Promise<HttpServer> {
  const { server, port: bound } = await listen(app, port);
  const http = server as Server;
  let closing: Promise<void> | undefined;
  return {
    port: bound,
    close(graceMs) {
      closing ??= new Promise<void>((resolve) => {
        const sweep = setInterval(() => http.closeIdleConnections(), IDLE_SWEEP_MS);
        const cut = setTimeout(() => http.closeAllConnections(), graceMs);
        http.close(() => {
          clearInterval(sweep);
          clearTimeout(cut);
          resolve();
        });
      });
      return closing;
    },
  };
}
