import type { Locale } from './i18n.js';

/** The words of Qonto's webhooks on the pages (the dashboard's event line and notices, the sandbox's
 * receipt button), in every language of the pages. */
const en = {
  addReceipt: 'Add a receipt in Qonto',
  addReceiptHelp: 'Pays a shop with the demo card and attaches its receipt, as you would in Qonto. Qonto tells this service at once, so the receipt shows up here within a minute.',
  receiptAdded: 'Receipt added in Qonto: it shows up here within a minute.',
};

export type WebhookMessages = typeof en;

const de: WebhookMessages = {
  addReceipt: 'Beleg in Qonto hinzufügen',
  addReceiptHelp: 'Bezahlt ein Geschäft mit der Demo-Karte und hängt den Beleg an, wie Sie es in Qonto tun würden. Qonto meldet das sofort, daher erscheint der Beleg hier innerhalb einer Minute.',
  receiptAdded: 'Beleg in Qonto hinzugefügt: er erscheint hier innerhalb einer Minute.',
};

export const WEBHOOK_MESSAGES: Record<Locale, WebhookMessages> = { en, de };
