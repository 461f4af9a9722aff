import { AlertsSection } from './alerts.js';
import type { DashboardModel } from './dashboard-model.js';
import { ExportLogLink } from './export-log-link.js';
import type { Messages } from './i18n.js';
import { MissingReceipts, type MissingView } from './missing-receipts.js';
import { ProbativeField, ProbativeNote } from './probative.js';
import { ZoneSelect } from './setup.js';
import { WebhookFact, WebhookNotice } from './webhooks.js';

/** The part of a dashboard the page refreshes in place (`GET /integrations/:id/panel`). */
export function StatusPanel(props: { t: Messages; id: string; m: DashboardModel; lastError: string | null; missing?: MissingView | null }) {
  const { t, m, id } = props;
  return (
    <div class="panel" data-status={m.status} data-refresh-seconds={m.refreshSeconds}>
      <p class={`state tone-${m.tone}`} role="status">
        <span class="dot" aria-hidden="true"></span>
        <span class="visually-hidden">{t.state}: </span>
        {m.stateText}
      </p>
      <WebhookNotice w={m.webhooks} />
      {m.progress && (
        <div class="progress-block">
          <label for={`backfill-progress-${id}`}>{t.progressLabel}</label>
          <progress id={`backfill-progress-${id}`} max={m.progress.total || 1} value={m.progress.done}>
            {m.progress.percent}%
          </progress>
          <p class="help">{t.progressText(m.progress.done, m.progress.total)}</p>
        </div>
      )}
      {m.needs.length > 0 && (
        <div class="needs" role="alert">
          <h3>{t.needsYou}</h3>
          {m.needs.includes('reconnect') && (
            <p>
              {m.reconnectText}{' '}
              <button type="button" class="primary" data-action="connect" data-busy={t.connecting}>
                {t.reconnectButton}
              </button>
            </p>
          )}
          {m.needs.includes('free_space') && <p>{t.freeSpaceText}</p>}
          {m.needs.includes('retry') && <p>{m.retryAt ? t.retryText(m.retryAt) : t.failedText}</p>}
        </div>
      )}
      <AlertsSection id={id} a={m.alerts} />
      {m.status !== 'revoked' && (
        <dl class="facts">
          <div>
            <dt>{t.lastRun}</dt>
            <dd>{m.lastRun}</dd>
          </div>
          <div>
            <dt>{t.nextRun}</dt>
            <dd>{m.nextRun}</dd>
          </div>
          <WebhookFact w={m.webhooks} />
          {props.lastError && m.status !== 'idle' && (
            <div>
              <dt>{t.lastError}</dt>
              <dd class="muted">{props.lastError}</dd>
            </div>
          )}
        </dl>
      )}
      {m.status !== 'revoked' && (
        <div class="gauge-block">
          <h3 id={`storage-title-${id}`}>{t.storage}</h3>
          {m.gauge ? (
            <>
              <meter class={`gauge level-${m.gauge.level}`} min={0} max={100} value={m.gauge.percent} aria-labelledby={`storage-title-${id}`} aria-valuetext={m.gauge.text}>
                {m.gauge.percent}%
              </meter>
              <p class="help">{m.gauge.text}</p>
              {m.gauge.warning && <p class={m.gauge.level === 'full' ? 'error' : 'warning'}>{m.gauge.warning}</p>}
            </>
          ) : (
            <p class="help">{t.storageUnknown}</p>
          )}
        </div>
      )}
      <h3>{t.byFolder}</h3>
      {m.accounts.length === 0 ? (
        <p class="help">{t.noReceiptsYet}</p>
      ) : (
        m.accounts.map((a) => (
          <table class="folders">
            <caption>{a.account}</caption>
            <thead>
              <tr>
                <th scope="col">{t.period}</th>
                <th scope="col" class="num">
                  {t.exported}
                </th>
                <th scope="col" class="num">
                  {t.toRetry}
                </th>
                <th scope="col" class="num">
                  {t.waiting}
                </th>
              </tr>
            </thead>
            <tbody>
              {a.periods.map((p) => (
                <tr>
                  <th scope="row">{p.period}</th>
                  <td class="num" data-exported>
                    {p.exported}
                  </td>
                  <td class="num">{p.failed}</td>
                  <td class="num">{p.pending}</td>
                </tr>
              ))}
            </tbody>
          </table>
        ))
      )}
      {props.missing && <MissingReceipts id={id} view={props.missing} />}
    </div>
  );
}

/** One integration: the refreshing status, then what the user can do. */
export function Dashboard(props: {
  t: Messages;
  id: string;
  account: string | null;
  m: DashboardModel;
  lastError: string | null;
  syncFrom: string | null;
  timeZone: string | null;
  probativeCopies: boolean;
  today: string;
  zones: string[];
  temporalUrl: string | null;
  missing?: MissingView | null;
}) {
  const { t, m, id } = props;
  const live = m.status !== 'revoked';
  return (
    <section class="card dashboard" aria-labelledby={`title-${id}`} data-integration={id}>
      <h2 id={`title-${id}`}>
        {t.dashboardTitle}
        {props.account && <span class="account"> · {props.account}</span>}
      </h2>
      <div data-panel={`/integrations/${id}/panel`} aria-live="off">
        <StatusPanel t={t} id={id} m={m} lastError={props.lastError} missing={props.missing} />
      </div>
      {live && (
        <div class="actions">
          <h3>{t.actions}</h3>
          <div class="row">
            <button type="button" data-action="sync" data-id={id}>
              {t.syncNow}
            </button>
            <button type="button" class="danger" data-action="withdraw" data-id={id}>
              {t.withdraw}
            </button>
          </div>
          <ProbativeNote t={t} on={props.probativeCopies} />
          <p class="success" role="status" data-notice hidden data-sync-text={t.syncRequested} data-reconfigure-text={t.reconfigured}></p>
          <p class="error" role="alert" data-error hidden></p>
          <details class="reconfigure">
            <summary>{t.reconfigure}</summary>
            <form class="stack" data-action="reconfigure" data-id={id}>
              <p class="help">{t.reconfigureText}</p>
              <label for={`reconfigure-from-${id}`}>{t.syncFromLabel}</label>
              <input id={`reconfigure-from-${id}`} name="syncFrom" type="date" required value={props.syncFrom ?? ''} min="2015-01-01" max={props.today} />
              <ZoneSelect t={t} id={`reconfigure-zone-${id}`} zones={props.zones} selected={props.timeZone} />
              <ProbativeField t={t} id={`reconfigure-probative-${id}`} checked={props.probativeCopies} />
              <div class="row">
                <button type="submit">{t.save}</button>
              </div>
            </form>
          </details>
          <dialog class="confirm" aria-labelledby={`withdraw-title-${id}`} aria-describedby={`withdraw-text-${id}`}>
            <form method="dialog" class="stack">
              <h3 id={`withdraw-title-${id}`}>{t.withdrawConfirmTitle}</h3>
              <p id={`withdraw-text-${id}`}>{t.withdrawConfirmText}</p>
              <div class="row">
                <button value="cancel" autofocus>
                  {t.cancel}
                </button>
                <button value="confirm" class="danger" data-confirm-withdraw={id}>
                  {t.withdrawConfirm}
                </button>
              </div>
            </form>
          </dialog>
        </div>
      )}
      <ExportLogLink t={t} id={id} />
      {props.temporalUrl && (
        <p class="temporal">
          <a href={props.temporalUrl} target="_blank" rel="noopener">
            {t.temporalLink}
          </a>
        </p>
      )}
    </section>
  );
}
