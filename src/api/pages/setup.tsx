import type { Messages } from './i18n.js';
import { ProbativeField } from './probative.js';

/** The original's four steps; `current` is 1-based. */
export function Steps(props: { t: Messages; current: number }) {
  return (
    <ol class="steps" aria-label={props.t.stepsLabel}>
      {props.t.steps.map((label, index) => (
        <li class={index + 1 < props.current ? 'done' : index + 1 === props.current ? 'current' : ''} aria-current={index + 1 === props.current ? 'step' : undefined}>
          <span class="num" aria-hidden="true">
            {index + 1}
          </span>
          {label}
        </li>
      ))}
    </ol>
  );
}

export function QontoSignIn(props: { t: Messages }) {
  const { t } = props;
  return (
    <section class="card" aria-labelledby="signin-title">
      <h1 id="signin-title">{t.signInTitle}</h1>
      <p>{t.tagline}</p>
      <p>{t.signInQontoText}</p>
      <a class="button primary" href="/auth/qonto/login">
        {t.signInQonto}
      </a>
    </section>
  );
}

export function AdminSignIn(props: { t: Messages; sandbox: boolean; wrong: boolean }) {
  const { t } = props;
  return (
    <section class="card" aria-labelledby="signin-title">
      <h1 id="signin-title">{t.signInTitle}</h1>
      <p>{t.tagline}</p>
      <form method="post" action="/auth/admin/login" class="stack">
        <label for="admin-token">{t.adminTokenLabel}</label>
        <input id="admin-token" name="token" type="password" required autocomplete="current-password" aria-describedby="admin-token-help" aria-invalid={props.wrong ? 'true' : undefined} />
        <p id="admin-token-help" class="help">
          {t.adminTokenHelp} {props.sandbox ? t.adminTokenHelpSandbox : ''}
        </p>
        {props.wrong && (
          <p class="error" role="alert">
            {t.adminTokenWrong}
          </p>
        )}
        <button type="submit" class="primary">
          {t.signInButton}
        </button>
      </form>
    </section>
  );
}

/** Step 1: what will happen, the personal-account rule, and the Connect button. */
export function ConnectStep(props: { t: Messages }) {
  const { t } = props;
  return (
    <section class="card" aria-labelledby="connect-title">
      <Steps t={t} current={1} />
      <h1 id="connect-title">{t.connectTitle}</h1>
      <p>{t.connectText}</p>
      <p class="note">{t.personalOnly}</p>
      <button type="button" class="primary" data-action="connect" data-busy={t.connecting}>
        {t.connectButton}
      </button>
      <p class="error" role="alert" data-error hidden></p>
    </section>
  );
}

/** A sign-in that came back refused: why, and how to go on. */
export function Refusal(props: { t: Messages; code: string; message: string | undefined }) {
  const { t } = props;
  const work = props.code === 'work_or_school_account';
  const declined = props.code === 'access_denied';
  return (
    <section class="card refusal" aria-labelledby="refusal-title" role="alert">
      <h1 id="refusal-title">{work ? t.workAccountTitle : t.refusedTitle}</h1>
      <p>{work ? t.workAccountText : declined ? t.declinedText : props.message || props.code}</p>
      {work && <p class="note">{t.personalOnly}</p>}
      <p class="code">
        <code>{props.code}</code>
      </p>
      <div class="row">
        <button type="button" class="primary" data-action="connect" data-busy={t.connecting}>
          {t.tryAgain}
        </button>
        <a class="button" href="/">
          {t.backHome}
        </a>
      </div>
      <p class="error" role="alert" data-error hidden></p>
    </section>
  );
}

/** Steps 3 and 4: the start date (and zone), then Finish. */
export function ChooseDateStep(props: { t: Messages; id: string; account: string; resumed: boolean; defaultDate: string; today: string; zones: string[] }) {
  const { t } = props;
  return (
    <section class="card" aria-labelledby="date-title">
      <Steps t={t} current={3} />
      <p class="success" role="status">
        {props.resumed ? t.resumed(props.account) : t.signedInMicrosoft(props.account)}
      </p>
      <h1 id="date-title">{t.steps[2]}</h1>
      <form class="stack" data-action="finish" data-id={props.id} data-busy={t.finishing}>
        <label for="sync-from">{t.syncFromLabel}</label>
        <input id="sync-from" name="syncFrom" type="date" required value={props.defaultDate} min="2015-01-01" max={props.today} aria-describedby="sync-from-help" />
        <p id="sync-from-help" class="help">
          {t.syncFromHelp}
        </p>
        <ZoneSelect t={t} id="time-zone" zones={props.zones} selected={null} />
        <ProbativeField t={t} id="probative-copies" checked={false} />
        <div class="row">
          <button type="submit" class="primary">
            {t.finishButton}
          </button>
        </div>
        <p class="error" role="alert" data-error hidden></p>
      </form>
    </section>
  );
}

export function ZoneSelect(props: { t: Messages; id: string; zones: string[]; selected: string | null }) {
  const { t } = props;
  return (
    <>
      <label for={props.id}>{t.timeZoneLabel}</label>
      <select id={props.id} name="timeZone" aria-describedby={`${props.id}-help`}>
        <option value="" selected={props.selected === null}>
          {t.timeZoneOrganization}
        </option>
        {props.zones.map((zone) => (
          <option value={zone} selected={zone === props.selected}>
            {zone}
          </option>
        ))}
      </select>
      <p id={`${props.id}-help`} class="help">
        {t.timeZoneHelp}
      </p>
    </>
  );
}
