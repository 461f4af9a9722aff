import { z } from '@hono/zod-openapi';
import { isValidTimeZone } from '../sync/schedule.js';

const DAY = /^\d{4}-\d{2}-\d{2}$/;

function isRealDay(value: string): boolean {
  const ms = Date.parse(`${value}T00:00:00Z`);
  return !Number.isNaN(ms) && new Date(ms).toISOString().slice(0, 10) === value;
}

/** A calendar day, YYYY-MM-DD. */
const daySchema = z
  .string()
  .regex(DAY, 'must be a date YYYY-MM-DD')
  .refine(isRealDay, 'is not a calendar date')
  .openapi({ format: 'date', example: '2026-11-01' });

/** `GET /api/integrations/:id/export-log`: both bounds on the transaction date, inclusive. A `from`
 * after `to` is an empty range, not an error: the OpenAPI document cannot say that two parameters
 * depend on each other, and an empty log is a true answer. */
export const exportLogQuery = z.object({
  format: z.enum(['csv', 'json']).default('csv').openapi({ description: 'csv (the default, a download) or json' }),
  from: daySchema.optional().openapi({ description: "First transaction date, inclusive (YYYY-MM-DD, in the integration's time zone)" }),
  to: daySchema.optional().openapi({ description: "Last transaction date, inclusive (YYYY-MM-DD, in the integration's time zone)" }),
});

export const syncFromSchema = z
  .string()
  .regex(DAY, 'must be a date YYYY-MM-DD')
  .openapi({ format: 'date', description: 'A calendar day from 2015-01-01 to today', example: '2026-01-01' })
  .refine(isRealDay, 'is not a calendar date')
  .refine((v) => v >= '2015-01-01', 'must be 2015-01-01 or later (Qonto has no older transactions)')
  // A day ahead of UTC covers every zone's "today".
  .refine((v) => Date.parse(`${v}T00:00:00Z`) <= Date.now() + 86_400_000, 'must not be in the future');

/** The zones this runtime knows, for the document (the check below also takes aliases such as UTC). */
const KNOWN_ZONES = Intl.supportedValuesOf('timeZone').filter(isValidTimeZone) as [string, ...string[]];

export const timeZoneSchema = z
  .string()
  .min(1)
  .max(64)
  .refine(isValidTimeZone, 'must be an IANA time zone, e.g. Europe/Paris')
  .openapi({ description: 'An IANA time zone', enum: KNOWN_ZONES, example: 'Europe/Paris' });

export const probativeCopiesSchema = z.boolean().openapi({
  description: "Also export Qonto's probative copy (a PAdES-signed PDF) of each receipt that has one, beside it as `…-probative.pdf`",
  example: true,
});

export const finishBody = z
  .strictObject({ syncFrom: syncFromSchema, timeZone: timeZoneSchema.optional(), probativeCopies: probativeCopiesSchema.default(false) })
  .openapi('FinishSettings');

export const reconfigureBody = z
  .strictObject({ syncFrom: syncFromSchema.optional(), timeZone: timeZoneSchema.optional(), probativeCopies: probativeCopiesSchema.optional() })
  .refine((b) => b.syncFrom !== undefined || b.timeZone !== undefined || b.probativeCopies !== undefined, 'give syncFrom, timeZone, probativeCopies or several')
  .openapi('Settings', { minProperties: 1 });

export const idParam = z.object({
  id: z
    .string()
    .regex(/^[A-Za-z0-9-]{1,64}$/, 'is not an integration id')
    .openapi({ param: { name: 'id', in: 'path' }, example: '5f0c1d2e-3b4a-4c5d-8e9f-0a1b2c3d4e5f' }),
});

export const callbackQuery = z.object({
  state: z.string().min(1).max(200),
  code: z.string().min(1).max(4096).optional(),
  error: z.string().max(200).optional(),
  error_description: z.string().max(2000).optional(),
});
