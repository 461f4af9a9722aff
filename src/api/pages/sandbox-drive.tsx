import { formatBytes } from './dashboard-model.js';
import { Layout, type PageContext } from './layout.js';
import { WEBHOOK_MESSAGES } from './webhooks-i18n.js';

/** What the sandbox shows of the simulated OneDrive: each user's files under their folders. */
export interface DriveListing {
  user: string;
  used: number;
  total: number;
  folders: { path: string; files: { name: string; size: number }[] }[];
}

/** Sandbox only: the simulated OneDrive, to see receipts arrive without a Microsoft account. */
export function SandboxDrivePage(props: { page: PageContext; drives: DriveListing[]; addReceipt: boolean; added: boolean }) {
  const { t, locale } = props.page;
  const w = WEBHOOK_MESSAGES[locale];
  return (
    <Layout page={props.page} title={t.driveTitle}>
      <section class="card" aria-labelledby="drive-title">
        <h1 id="drive-title">{t.driveTitle}</h1>
        <p>{t.sandboxHint}</p>
        {props.added && (
          <p class="success" role="status">
            {w.receiptAdded}
          </p>
        )}
        {props.addReceipt && (
          <form method="post" action="/sandbox/receipts">
            <p class="help" id="add-receipt-help">
              {w.addReceiptHelp}
            </p>
            <button type="submit" aria-describedby="add-receipt-help">
              {w.addReceipt}
            </button>
          </form>
        )}
        {props.drives.length === 0 && <p class="help">{t.driveEmpty}</p>}
        {props.drives.map((d) => (
          <section class="drive" aria-label={d.user}>
            <h2>{d.user}</h2>
            <p class="help">{t.storageText(formatBytes(d.used, locale), formatBytes(d.total, locale), formatBytes(Math.max(0, d.total - d.used), locale))}</p>
            {d.folders.length === 0 && <p class="help">{t.driveEmpty}</p>}
            {d.folders.map((f) => (
              <details open={f.files.length <= 20}>
                <summary>
                  <span class="path">{f.path}</span> · {f.files.length} {t.files}
                </summary>
                <ul class="files">
                  {f.files.map((file) => (
                    <li>
                      <span class="path">{file.name}</span> <span class="muted">{formatBytes(file.size, locale)}</span>
                    </li>
                  ))}
                </ul>
              </details>
            ))}
          </section>
        ))}
      </section>
    </Layout>
  );
}
