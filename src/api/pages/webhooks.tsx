import type { WebhookModel } from './webhook-model.js';

/** The "Last Qonto event" line, inside the dashboard's facts. */
export function WebhookFact(props: { w: WebhookModel }) {
  const { lastEvent } = props.w;
  if (lastEvent === null) return null;
  return (
    <div data-webhook-last-event>
      <dt>{lastEvent.label}</dt>
      <dd>{lastEvent.value}</dd>
    </div>
  );
}

/** Why updates come once a day only, or that consent was withdrawn in Qonto. */
export function WebhookNotice(props: { w: WebhookModel }) {
  const { onceADay, withdrawnInQonto } = props.w;
  return (
    <>
      {onceADay && (
        <p class="help" data-webhook-notice>
          {onceADay}
        </p>
      )}
      {withdrawnInQonto && (
        <p class="help" data-revoked-reason>
          {withdrawnInQonto}
        </p>
      )}
    </>
  );
}
