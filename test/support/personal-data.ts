import { accountFolderName } from '../../src/sync/naming.js';
import type { Harness } from './harness.js';

/** Short strings (a 4-digit year, "receipt") occur in any history; only distinctive ones are searched. */
const MIN_LENGTH = 6;

/**
 * The personal data an integration's workflow handles: account names, IBANs and the "(last four
 * digits)" of the folder names, counterparties, the receipts' file names at Qonto and in the drive.
 * Each also in its JSON-escaped form, as it would appear inside a JSON payload.
 */
export async function personalData(h: Harness, integrationId: string): Promise<string[]> {
  const data = h.sims.qonto.data;
  const accounts = data.bankAccounts();
  const transactions = accounts.flatMap((a) => data.transactionsOf(a.id));
  const attachments = transactions.flatMap((t) => data.attachmentsOf(t.id));
  const entries = (await Promise.all(attachments.map((a) => h.services.store.getEntry(integrationId, a.id)))).filter((e) => e !== null);
  const strings = new Set([
    data.organization.name,
    ...accounts.flatMap((a) => [a.name, accountFolderName(a), a.iban, a.iban.replace(/\s/g, ''), `(${a.iban.replace(/\s/g, '').slice(-4)})`]),
    ...transactions.map((t) => t.label),
    ...attachments.map((a) => a.fileName),
    ...entries.map((e) => e.fileName),
  ]);
  const distinctive = [...strings].filter((s) => s.length >= MIN_LENGTH);
  return [...new Set(distinctive.flatMap((s) => [s, JSON.stringify(s).slice(1, -1)]))];
}

/** Texts to search in a history as JSON: the JSON itself and every base64 string in it decoded
 * (payload data is base64 there). */
export function searchableTexts(historyJson: string): string[] {
  const texts = [historyJson];
  JSON.parse(historyJson, (_key, value: unknown) => {
    if (typeof value === 'string' && value.length >= 4 && /^[A-Za-z0-9+/]+={0,2}$/.test(value)) {
      texts.push(Buffer.from(value, 'base64').toString('utf8'));
    }
    return value;
  });
  return texts;
}

/** Which of `needles` occur in the history (case-insensitively). */
export function leaks(historyJson: string, needles: string[]): string[] {
  const text = searchableTexts(historyJson).join('\n').toLowerCase();
  return needles.filter((s) => text.includes(s.toLowerCase()));
}
