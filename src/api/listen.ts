import { serve, type ServerType } from '@hono/node-server';
import type { AddressInfo } from 'node:net';
import type { Hono } from 'hono';

/**
 * Serves the app over HTTP on `port` (0: any free port); resolves once it listens.
 *
 * The server leaves the global Request and Response alone (`overrideGlobalObjects: false`). By default
 * it replaces them, process-wide, with lighter classes of its own that build Node's object on first
 * use; every process here also makes outbound requests through layers that wrap each answer in a new
 * Response, and in the worker those wrappers cost more CPU than they save for the few pages and
 * metrics it serves (in the backfill benchmark, 2–3 s of worker CPU per 5,000 receipts).
 */
export function listen(app: Hono, port: number, hostname?: string): Promise<{ server: ServerType; port: number }> {
  return new Promise((resolve) => {
    const server = serve({ fetch: app.fetch, port, overrideGlobalObjects: false, ...(hostname ? { hostname } : {}) }, (info: AddressInfo) =>
      resolve({ server, port: info.port }),
    );
  });
}
