import type { MissingReceipt } from '../../store/types.js';
import type { Locale } from './i18n.js';
import { MISSING_MESSAGES, type MissingMessages } from './missing-receipts-i18n.js';

/** The dashboard's "receipts still missing" section: per business account and period a line with the
 * count, the transactions behind it on demand (a <details>, no script needed), and the CSV. */

export interface MissingView {
  t: MissingMessages;
  csvUrl: string;
  accounts: {
    account: string;
    periods: {
      period: string;
      line: string;
      lost: string | null;
      count: number;
      /** The first MAX_LINES transactions; `more` says how many the CSV has beyond them. */
      items: { date: string; counterparty: string; amount: string; lost: boolean }[];
      more: string | null;
    }[];
  }[];
}

const LOCALE_TAGS: Record<Locale, string> = { en: 'en-GB', de: 'de-DE' };

function formatAmount(cents: number, currency: string, locale: Locale): string {
  try {
    return new Intl.NumberFormat(LOCALE_TAGS[locale], { style: 'currency', currency }).format(cents / 100);
  } catch {
    // Not an ISO 4217 code Intl knows: the number and the code as Qonto gave it.
    return `${new Intl.NumberFormat(LOCALE_TAGS[locale], { minimumFractionDigits: 2 }).format(cents / 100)} ${currency}`;
  }
}

function formatDay(ymd: string, locale: Locale): string {
  return new Intl.DateTimeFormat(LOCALE_TAGS[locale], { day: 'numeric', month: 'short', year: 'numeric', timeZone: 'UTC' }).format(new Date(`${ymd}T00:00:00Z`));
}

/** Transactions shown per period: the panel is rendered again at every refresh (every few seconds
 * while a run is under way), so a period with hundreds of them points to the CSV instead. */
export const MAX_LINES = 50;

/** Grouped by account (in the order of their names), newest period first, as the receipts tables. */
export function missingView(missing: readonly MissingReceipt[], locale: Locale, integrationId: string): MissingView {
  const t = MISSING_MESSAGES[locale];
  const accounts: MissingView['accounts'] = [];
  const lostIn = new Map<MissingView['accounts'][number]['periods'][number], number>();
  for (const m of [...missing].sort((a, b) => a.account.localeCompare(b.account) || b.period.localeCompare(a.period) || a.date.localeCompare(b.date))) {
    let account = accounts.find((a) => a.account === m.account);
    if (!account) accounts.push((account = { account: m.account, periods: [] }));
    let period = account.periods.find((p) => p.period === m.period);
    if (!period) account.periods.push((period = { period: m.period, line: '', lost: null, count: 0, items: [], more: null }));
    period.count += 1;
    if (m.lost) lostIn.set(period, (lostIn.get(period) ?? 0) + 1);
    if (period.items.length < MAX_LINES) {
      period.items.push({ date: formatDay(m.date, locale), counterparty: m.counterparty, amount: formatAmount(m.amountCents, m.currency, locale), lost: m.lost });
    }
  }
  for (const account of accounts) {
    for (const p of account.periods) {
      const lost = lostIn.get(p) ?? 0;
      p.line = t.line(p.period, p.count);
      p.lost = lost > 0 ? t.lost(lost) : null;
      p.more = p.count > p.items.length ? t.more(p.count - p.items.length) : null;
    }
  }
  return { t, csvUrl: `/api/integrations/${encodeURIComponent(integrationId)}/missing-receipts?format=csv`, accounts };
}

export function MissingReceipts(props: { id: string; view: MissingView }) {
  const { t, accounts, csvUrl } = props.view;
  return (
    <div class="missing-receipts" id={`missing-${props.id}`} data-missing-receipts>
      <h3>{t.title}</h3>
      {accounts.length === 0 ? (
        <p class="help">{t.none}</p>
      ) : (
        <>
          {accounts.map((a) => (
            <div class="missing-account">
              <h4>{a.account}</h4>
              {a.periods.map((p) => (
                <details data-keep-open={`${props.id}/${a.account}/${p.period}`} data-missing-period={p.period} data-count={p.count}>
                  <summary>
                    {p.line}
                    {p.lost && <span class="muted"> ({p.lost})</span>}
                  </summary>
                  <table class="folders">
                    <thead>
                      <tr>
                        <th scope="col">{t.date}</th>
                        <th scope="col">{t.counterparty}</th>
                        <th scope="col" class="num">
                          {t.amount}
                        </th>
                      </tr>
                    </thead>
                    <tbody>
                      {p.items.map((i) => (
                        <tr>
                          <td>{i.date}</td>
                          <td>
                            {i.counterparty}
                            {i.lost && <span class="muted"> ({t.lostMark})</span>}
                          </td>
                          <td class="num">{i.amount}</td>
                        </tr>
                      ))}
                    </tbody>
                  </table>
                  {p.more && (
                    <p class="help">
                      <a href={csvUrl} download>
                        {p.more}
                      </a>
                    </p>
                  )}
                </details>
              ))}
            </div>
          ))}
          <p class="help">{t.asOf}</p>
          <p>
            <a href={csvUrl} download>
              {t.download}
            </a>
          </p>
        </>
      )}
    </div>
  );
}
