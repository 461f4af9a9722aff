import { Counter } from 'prom-client';
import { PREFIX, registry } from './registry.js';

/** How `/webhooks/qonto` answered a delivery: a fixed set, so the label stays bounded. */
export const WEBHOOK_OUTCOMES = [
  'accepted',
  'duplicate',
  'ignored',
  'unsupported_media_type',
  'bad_request',
  'invalid_signature',
  'stale_signature',
  'unknown_subscription',
  'unavailable',
] as const;
export type WebhookOutcome = (typeof WEBHOOK_OUTCOMES)[number];

const deliveries = new Counter({
  name: `${PREFIX}qonto_webhook_deliveries_total`,
  help: 'Qonto webhook deliveries received, by outcome: accepted, duplicate, ignored (verified, nothing to do), a refusal (unsupported_media_type, bad_request, invalid_signature, stale_signature, unknown_subscription) or unavailable (Temporal did not take it: Qonto retries)',
  labelNames: ['outcome'] as const,
  registers: [registry],
});

for (const outcome of WEBHOOK_OUTCOMES) deliveries.inc({ outcome }, 0);

export function observeWebhookDelivery(outcome: WebhookOutcome): void {
  deliveries.inc({ outcome });
}
