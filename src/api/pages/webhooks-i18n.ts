import type { WebhookUnavailableReason } from '../../store/types.js';
import type { Locale } from './i18n.js';

/** The words of Qonto's webhooks on the pages (the dashboard's event line and notices, the sandbox's
 * receipt button), in every language of the pages. */
const en = {
  addReceipt: 'Add a receipt in Qonto',
  addReceiptHelp: 'Pays a shop with the demo card and attaches its receipt, as you would in Qonto. Qonto tells this service at once, so the receipt shows up here within a minute.',
  receiptAdded: 'Receipt added in Qonto: it shows up here within a minute.',
  lastEvent: 'Last Qonto event',
  noEventYet: 'none yet',
  onceADay: (time: string, reason: string) => `Updates once a day (${time}): ${reason}`,
  /** With the real time of the next run (SYNC_TIME plus the integration's offset in the spread window). */
  onceADayNext: (when: string, reason: string) => `Updates once a day, next at ${when}: ${reason}`,
  unavailable: {
    insecure_public_url: 'Qonto can only notify this service at a public https address (PUBLIC_URL).',
    missing_scope: 'sign in with Qonto again to allow instant updates (webhooks).',
    api_key_no_permission: 'ask Qonto to allow webhooks for your API key.',
    no_secret: 'no webhook secret is configured (QONTO_WEBHOOK_SECRET).',
  } satisfies Record<WebhookUnavailableReason, string>,
  withdrawnInQonto: 'Consent withdrawn in Qonto.',
};

export type WebhookMessages = typeof en;

const de: WebhookMessages = {
  addReceipt: 'Beleg in Qonto hinzufügen',
  addReceiptHelp: 'Bezahlt ein Geschäft mit der Demo-Karte und hängt den Beleg an, wie Sie es in Qonto tun würden. Qonto meldet das sofort, daher erscheint der Beleg hier innerhalb einer Minute.',
  receiptAdded: 'Beleg in Qonto hinzugefügt: er erscheint hier innerhalb einer Minute.',
  lastEvent: 'Letzte Qonto-Meldung',
  noEventYet: 'noch keine',
  onceADay: (time, reason) => `Aktualisierung einmal täglich (${time}): ${reason}`,
  onceADayNext: (when, reason) => `Aktualisierung einmal täglich, nächste am ${when}: ${reason}`,
  unavailable: {
    insecure_public_url: 'Qonto kann diesen Dienst nur unter einer öffentlichen https-Adresse benachrichtigen (PUBLIC_URL).',
    missing_scope: 'melden Sie sich erneut bei Qonto an, um sofortige Aktualisierungen (Webhooks) zu erlauben.',
    api_key_no_permission: 'bitten Sie Qonto, Webhooks für Ihren API-Schlüssel freizuschalten.',
    no_secret: 'es ist kein Webhook-Secret eingerichtet (QONTO_WEBHOOK_SECRET).',
  },
  withdrawnInQonto: 'Einwilligung in Qonto widerrufen.',
};

export const WEBHOOK_MESSAGES: Record<Locale, WebhookMessages> = { en, de };
