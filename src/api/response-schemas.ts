import { z } from '@hono/zod-openapi';
import { ALERT_CONDITIONS } from '../alerts/conditions.js';
import { INTEGRATION_STATUSES, type RevokedReason, type WebhookState, type WebhookUnavailableReason } from '../store/types.js';
import { EXPORT_LOG_STATES } from './export-log.js';

/** What the API answers, as zod schemas: the OpenAPI document is generated from them, and the handlers'
 * types are checked against them. */

/** `{"error": {code, message, details?}}`, with the codes a response can carry. */
export const errorBody = (codes: readonly [string, ...string[]] | null) =>
  z.object({
    error: z.object({
      code: codes ? z.enum(codes) : z.string(),
      message: z.string(),
      details: z.unknown().optional(),
    }),
  });

/** A JSON error response; pages also answer it as an HTML page to a browser that asks for one. */
export function errorResponse(description: string, codes: readonly [string, ...string[]] | null, opts: { html?: boolean } = {}) {
  return {
    description,
    content: {
      'application/json': { schema: errorBody(codes) },
      ...(opts.html ? { 'text/html': { schema: z.string() } } : {}),
    },
  };
}

const count = z.number().int().nonnegative();

const lastRun = z
  .object({
    kind: z.enum(['backfill', 'sync', 'reconfigure', 'incremental']),
    startedAt: z.string(),
    finishedAt: z.string(),
    outcome: z.enum(['completed', 'quota_exceeded', 'reconnect_required', 'failed', 'revoked']),
    exported: count,
    failed: count,
    bytes: count,
    requeued: count,
    dismissed: count,
  })
  .openapi('LastRun');

const quota = z
  .object({ total: z.number(), used: z.number(), remaining: z.number(), deleted: z.number(), state: z.string() })
  .openapi('Quota', { description: 'The OneDrive storage, in bytes, as Graph reports it' });

const alert = z
  .object({
    condition: z.enum(ALERT_CONDITIONS),
    startedAt: z.string().openapi({ format: 'date-time' }),
    resolvedAt: z.string().nullable().openapi({ format: 'date-time', description: 'null while it lasts' }),
  })
  .openapi('Alert', { description: 'One occurrence of an alert condition (docs/alerts.md)' });

const alerts = z
  .object({
    active: z.array(alert).openapi({ description: 'Conditions under way, oldest first' }),
    history: z.array(alert).openapi({ description: 'The latest occurrences, newest first (at most 10)' }),
  })
  .openapi('Alerts');

const WEBHOOK_STATES = ['creating', 'active', 'manual', 'unavailable', 'revoked'] as const satisfies readonly WebhookState[];
const WEBHOOK_UNAVAILABLE = ['insecure_public_url', 'missing_scope', 'api_key_no_permission', 'no_secret'] as const satisfies readonly WebhookUnavailableReason[];
const REVOKED_REASONS = ['withdrawn_here', 'withdrawn_in_qonto'] as const satisfies readonly RevokedReason[];

const webhookStatus = z
  .object({
    state: z.enum(WEBHOOK_STATES),
    reason: z.enum(WEBHOOK_UNAVAILABLE).nullable().openapi({ description: 'While unavailable: why Qonto cannot notify this service (the daily run still syncs)' }),
    lastEventAt: z.string().nullable().openapi({ format: 'date-time', description: 'When the last new Qonto event for it arrived' }),
  })
  .openapi('WebhookStatus');

export const integrationStatus = z
  .object({
    id: z.string(),
    status: z.enum(INTEGRATION_STATUSES),
    syncFrom: z.string().nullable(),
    timeZone: z.string().nullable(),
    nextRunAt: z.string().nullable().openapi({ format: 'date-time' }),
    lastRun: lastRun.nullable(),
    lastIncremental: lastRun.nullable().openapi({ description: 'The last incremental run, for the transactions Qonto\'s webhooks named (null when none, or when no worker answered)' }),
    counts: z.object({ exported: count, failed: count, pending: count }),
    quota: quota.nullable(),
    lastError: z.string().nullable(),
    signInEnded: z
      .enum(['qonto', 'microsoft'])
      .nullable()
      .openapi({ description: 'While reconnect_required: whose sign-in ended and must be renewed (null when not known)' }),
    microsoftAccount: z.string().nullable(),
    probativeCopies: z.boolean().openapi({ description: "Qonto's probative copies are exported beside the receipts" }),
    phase: z.string().nullable().openapi({ description: 'What the workflow is doing right now, in words (null when no worker answered)' }),
    backfill: z
      .object({ done: z.boolean(), exported: count, pending: count })
      .nullable()
      .openapi({ description: 'Progress of the first import (null when no worker answered)' }),
    alerts,
    webhook: webhookStatus.nullable().openapi({ description: "Qonto's webhooks for this integration (null until it first tried to subscribe)" }),
    revokedReason: z
      .enum(REVOKED_REASONS)
      .nullable()
      .openapi({ description: 'When revoked: consent withdrawn here, or in Qonto (a consent-revocation event)' }),
  })
  .openapi('Status');

export const created = z.object({ id: z.string(), authorizationUrl: z.string().url() }).openapi('Created');
export const integrationList = z.object({ integrations: z.array(integrationStatus) });
export const finished = z.object({ id: z.string(), status: z.enum(INTEGRATION_STATUSES) });
export const revoked = z.object({
  id: z.string(),
  status: z.literal('revoked'),
  workflowNotified: z.boolean().nullable().openapi({ description: 'null: no workflow was running' }),
});
export const reconfigureAccepted = z.object({
  id: z.string(),
  accepted: z.object({ syncFrom: z.string().optional(), timeZone: z.string().optional(), probativeCopies: z.boolean().optional() }),
});
export const syncAccepted = z.object({ id: z.string(), accepted: z.literal(true) });

const nullableText = (description: string) => z.string().nullable().openapi({ description });

export const exportLogEntry = z
  .object({
    attachmentId: nullableText("Qonto's attachment id (a probative copy's too: its path ends -probative.pdf); null on a transaction still missing its receipt"),
    transactionId: z.string(),
    date: nullableText('Transaction date, YYYY-MM-DD in the integration\'s time zone (null: discovered before the log existed, see docs)'),
    amount: nullableText('Signed amount as in the file name, e.g. -52.40'),
    currency: z.string().nullable(),
    counterparty: z.string().nullable(),
    account: z.string().openapi({ description: 'The business account\'s folder, e.g. Main account (0107)' }),
    path: nullableText('The file below the app folder, as OneDrive shows it; null on a row without a file (state probative_*, missing, lost)'),
    size: count.nullable(),
    sha256: nullableText('Lowercase hex SHA-256 of the bytes uploaded'),
    quickXorHash: nullableText("OneDrive's quickXorHash of the same bytes (base64), checked against the drive's"),
    exportedAt: nullableText('First time the file was verified in the drive'),
    verifiedAt: nullableText('Last time the file was seen intact in the drive'),
    state: z.enum(EXPORT_LOG_STATES),
  })
  .openapi('ExportLogEntry');
export const exportLogBody = z.object({ entries: z.array(exportLogEntry) }).openapi('ExportLog');
