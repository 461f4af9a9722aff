import type { Messages } from './i18n.js';

/** The dashboard's links to the integration's export log (GET /api/integrations/:id/export-log),
 * which the page session opens like the rest of the API. Shown after consent was withdrawn too: the
 * files stay, and so does the record of them. */
export function ExportLogLink(props: { t: Messages; id: string }) {
  const { t, id } = props;
  const href = (format: 'csv' | 'json') => `/api/integrations/${encodeURIComponent(id)}/export-log?format=${format}`;
  return (
    <p class="export-log">
      {t.exportLog}{' '}
      <a href={href('csv')} download>
        {t.exportLogCsv}
      </a>
      {' · '}
      <a href={href('json')} target="_blank" rel="noopener">
        {t.exportLogJson}
      </a>
    </p>
  );
}
