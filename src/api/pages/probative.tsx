import type { Messages } from './i18n.js';

/** The probative-copies switch of the Finish and reconfigure forms (sent as `probativeCopies`). */
export function ProbativeField(props: { t: Messages; id: string; checked: boolean }) {
  const { t, id } = props;
  return (
    <div class="check">
      <input id={id} name="probativeCopies" type="checkbox" checked={props.checked} aria-describedby={`${id}-help`} />
      <label for={id}>{t.probative.label}</label>
      <p id={`${id}-help`} class="help">
        {t.probative.help}
      </p>
    </div>
  );
}

/** Whether the dashboard's integration saves probative copies, in words. */
export function ProbativeNote(props: { t: Messages; on: boolean }) {
  return (
    <p class="help" data-probative={props.on ? 'on' : 'off'}>
      {props.on ? props.t.probative.on : props.t.probative.off}
    </p>
  );
}
