/**
 * The codec server: `POST /codec/encode` and `POST /codec/decode`, the remote-codec protocol of the
 * Temporal UI and CLI (`{"payloads": [{"metadata": {key: base64}, "data": base64}]}` both ways, the
 * namespace in `X-Namespace`). It lets an operator read the encrypted histories (payload-codec.ts)
 * in the UI or with `temporal workflow show --codec-endpoint …`, and nobody else: it answers only
 * ADMIN_TOKEN as a bearer token or the admin cookie of the pages, and only browsers on this service's
 * own origin or the Temporal UI's (CORS, with credentials so the UI can send the cookie). In the
 * sandbox it may be `open` (sandbox-codec.ts decides): callers without credentials are answered too.
 */
import type { Payload, PayloadCodec } from '@temporalio/common';
import { Hono, type MiddlewareHandler } from 'hono';
import { cors } from 'hono/cors';
import { z } from 'zod';
import type { OpenAPIHono } from '@hono/zod-openapi';
import { ApiError } from './errors.js';
import { errorResponse } from './response-schemas.js';
import { validate } from './validate.js';

export interface CodecServerDeps {
  codec: PayloadCodec;
  /** ADMIN_TOKEN as a bearer token, or the admin cookie; absent when no ADMIN_TOKEN is set. */
  requireAdmin?: MiddlewareHandler;
  /**
   * Answer callers who present no `Authorization` header (the sandbox, whose payloads are all simulated
   * demo data: the embedded UI decodes without credentials). A presented token is still checked.
   */
  open?: boolean;
  /** This service's origin and the Temporal UI's (embedded UI or TEMPORAL_UI_URL), when known. */
  allowedOrigins: string[];
  /** Only this namespace's payloads are ours to decode (an `X-Namespace` naming another is refused). */
  namespace: string;
}

/** Payloads per request: a history page's worth. */
const MAX_PAYLOADS = 1000;
const base64 = z.string().regex(/^[A-Za-z0-9+/]*={0,2}$/, 'must be base64');
const bodySchema = z.object({
  payloads: z
    .array(z.object({ metadata: z.record(z.string(), base64).nullish(), data: base64.nullish() }))
    .max(MAX_PAYLOADS),
});
type JsonPayload = z.infer<typeof bodySchema>['payloads'][number];

const fromJson = (p: JsonPayload): Payload => ({
  metadata: Object.fromEntries(Object.entries(p.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64')])),
  data: Buffer.from(p.data ?? '', 'base64'),
});

const toJson = (p: Payload) => ({
  metadata: Object.fromEntries(Object.entries(p.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v).toString('base64')])),
  data: Buffer.from(p.data ?? new Uint8Array()).toString('base64'),
});

export function codecServer(deps: CodecServerDeps): Hono {
  const allowed = new Set(deps.allowedOrigins.map((url) => new URL(url).origin));
  const app = new Hono();
  app.use(
    '*',
    cors({
      origin: (origin) => (allowed.has(origin) ? origin : null),
      allowMethods: ['POST'],
      allowHeaders: ['content-type', 'authorization', 'x-namespace'],
      credentials: true,
      maxAge: 600,
    }),
  );
  // The checks below guard the POST routes only: another method falls through to the app's 405.
  const onPost =
    (check: MiddlewareHandler): MiddlewareHandler =>
    (c, next) =>
      c.req.method === 'POST' ? check(c, next) : next();
  // A browser on another origin cannot read the answer (CORS), and must not even have it computed.
  app.use('*', onPost(async (c, next) => {
    const origin = c.req.header('origin');
    if (origin !== undefined && !allowed.has(origin)) {
      throw new ApiError(403, 'cross_origin', `Requests from ${origin} are not accepted: set TEMPORAL_UI_URL to the Temporal UI's address`);
    }
    await next();
  }));
  const access: MiddlewareHandler = async (c, next) => {
    if (deps.open && c.req.header('authorization') === undefined) return next();
    if (!deps.requireAdmin) throw new ApiError(401, 'unauthenticated', 'No ADMIN_TOKEN is set: send no Authorization header');
    return deps.requireAdmin(c, next);
  };
  app.use('*', onPost(access));
  app.use('*', onPost(async (c, next) => {
    const namespace = c.req.header('x-namespace');
    if (namespace !== undefined && namespace !== deps.namespace) {
      throw new ApiError(400, 'unknown_namespace', `This codec server decodes the namespace ${deps.namespace}, not ${namespace}`);
    }
    await next();
  }));

  for (const direction of ['encode', 'decode'] as const) {
    app.post(`/${direction}`, validate('json', bodySchema), async (c) => {
      const payloads = c.req.valid('json').payloads.map(fromJson);
      let result: Payload[];
      try {
        result = await deps.codec[direction](payloads);
      } catch (error) {
        // Unknown key, tampered or truncated ciphertext: the caller's input, said without internals.
        throw new ApiError(400, 'undecodable_payload', error instanceof Error ? error.message : 'The payloads could not be decoded');
      }
      return c.json({ payloads: result.map(toJson) });
    });
  }
  return app;
}

const payloadsBody = z.object({
  payloads: z.array(z.object({ metadata: z.record(z.string(), z.string()), data: z.string() })),
});

/** The codec server's part of the OpenAPI document (served when ADMIN_TOKEN is set, or open in the sandbox). */
export function registerCodecPaths(registry: OpenAPIHono['openAPIRegistry'], opts: { open: boolean; namespace: string }): void {
  registry.registerComponent('securitySchemes', 'adminToken', { type: 'http', scheme: 'bearer', description: 'ADMIN_TOKEN (or the admin_session cookie of the pages)' });
  for (const direction of ['encode', 'decode'] as const) {
    registry.registerPath({
      method: 'post',
      path: `/codec/${direction}`,
      tags: ['codec'],
      summary: `Temporal remote codec: ${direction === 'encode' ? 'encrypts' : 'decrypts'} payloads (Temporal UI and CLI; ${opts.open ? 'open in this sandbox' : 'needs ADMIN_TOKEN'})`,
      // An empty requirement: no credentials needed (the sandbox's open codec).
      security: opts.open ? [{ adminToken: [] }, {}] : [{ adminToken: [] }],
      request: {
        // Only our namespace's payloads are decoded: another one is refused (400 unknown_namespace).
        headers: z.object({ 'x-namespace': z.enum([opts.namespace]).optional() }),
        body: { required: true, content: { 'application/json': { schema: bodySchema } } },
      },
      responses: {
        200: { description: `The payloads, ${direction}d`, content: { 'application/json': { schema: payloadsBody } } },
        400: errorResponse('Invalid body, another namespace, or payloads that cannot be decoded', ['invalid_request', 'bad_request', 'unknown_namespace', 'undecodable_payload']),
        401: errorResponse('No credentials', ['unauthenticated']),
        403: errorResponse('A wrong admin token, or a browser on another origin', ['forbidden', 'cross_origin']),
        413: errorResponse('The request body is too large', ['payload_too_large']),
        415: errorResponse('The body is not JSON', ['unsupported_media_type']),
        429: errorResponse('Too many failed sign-ins from this address: retry after `Retry-After` seconds', ['too_many_requests']),
      },
    });
  }
}
