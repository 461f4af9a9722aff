/**
 * The Graph resources this product reads, validated tolerantly: unknown fields pass through, enum-like
 * values stay plain strings, and facets Graph sometimes omits are optional.
 */
import { z } from 'zod';
import { FatalError } from '../errors.js';

export const driveItemSchema = z.looseObject({
  id: z.string(),
  // Deleted items in delta answers may come without a name.
  name: z.string().default(''),
  size: z.number().optional(),
  eTag: z.string().optional(),
  folder: z.looseObject({ childCount: z.number().optional() }).optional(),
  file: z
    .looseObject({
      mimeType: z.string().optional(),
      hashes: z.looseObject({ quickXorHash: z.string().optional() }).optional(),
    })
    .optional(),
  parentReference: z
    .looseObject({ id: z.string().optional(), driveId: z.string().optional(), path: z.string().optional() })
    .optional(),
  deleted: z.looseObject({ state: z.string().optional() }).optional(),
  /** A short-lived pre-authenticated URL of the file's content (sent without Authorization). */
  '@microsoft.graph.downloadUrl': z.string().optional(),
});
export type DriveItem = z.infer<typeof driveItemSchema>;

export const quotaSchema = z.looseObject({
  total: z.number(),
  used: z.number(),
  remaining: z.number(),
  deleted: z.number().default(0),
  state: z.string().default('normal'),
});
export type Quota = z.infer<typeof quotaSchema>;

export const driveSchema = z.looseObject({ id: z.string(), driveType: z.string(), quota: quotaSchema });

/** Parses a Graph answer or fails with a FatalError that says what did not match. */
export function parseGraph<T extends z.ZodType>(schema: T, body: unknown, what: string): z.infer<T> {
  const parsed = schema.safeParse(body);
  if (!parsed.success) throw new FatalError(`${what}: unexpected answer (${z.prettifyError(parsed.error)})`);
  return parsed.data;
}

/** Path addressing of a child by name (docs/contracts-graph.md, Addressing): each segment percent-encoded, `:` closing the path. */
export function childPath(parentId: string, name: string): string {
  return `/me/drive/items/${encodeURIComponent(parentId)}:/${encodeURIComponent(name)}:`;
}
