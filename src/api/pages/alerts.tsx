import type { AlertsModel } from './alerts-model.js';

/** The alerts of one integration (the target of the alert mails' link, `#alerts-<id>`): a banner for
 * what is under way with what to do, and the latest occurrences. */
export function AlertsSection(props: { id: string; a: AlertsModel }) {
  const { id, a } = props;
  return (
    <section class="alerts" id={`alerts-${id}`} aria-labelledby={`alerts-title-${id}`}>
      <h3 id={`alerts-title-${id}`}>{a.heading}</h3>
      {a.banner.length > 0 && (
        <ul class="alert-banner" role="alert">
          {a.banner.map((b) => (
            <li data-condition={b.condition}>
              <strong>{b.text}</strong>
              {b.action && <span> {b.action}</span>}
            </li>
          ))}
        </ul>
      )}
      {/* A plain list, not <details>: the panel is replaced as it refreshes, which would close it. */}
      <div class="alert-history">
        <h4>{a.historyHeading}</h4>
        {a.history.length === 0 ? (
          <p class="help">{a.emptyHistory}</p>
        ) : (
          <ul>
            {a.history.map((h) => (
              <li data-condition={h.condition}>
                {h.label} <span class="muted">· {h.when}</span>
              </li>
            ))}
          </ul>
        )}
      </div>
    </section>
  );
}
