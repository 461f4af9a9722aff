import type { Context } from 'hono';
import { html } from 'hono/html';

/**
 * `GET /`: where the Microsoft sign-in lands. Until the setup pages arrive it says what happened and
 * what to call next; every value shown is escaped by the `html` tag.
 */
export function landingPage(c: Context) {
  const q = c.req.query();
  const outcome = q.error
    ? html`<p class="error">Microsoft sign-in did not complete: <strong>${q.error}</strong>. ${q.message ?? ''}</p>`
    : q.connected
      ? html`<p>Connected <strong>${q.connected}</strong> to integration <code>${q.integration ?? ''}</code>.</p>
          <p>Finish the setup: <code>POST /api/integrations/${q.integration ?? ':id'}/finish</code> with <code>{"syncFrom": "YYYY-MM-DD"}</code>.</p>`
      : html`<p>Start with <code>POST /api/integrations</code> (see the README) and open the <code>authorizationUrl</code> it returns.</p>`;
  return c.html(html`<!doctype html>
    <html lang="en">
      <head><meta charset="utf-8" /><title>Qonto → OneDrive receipts</title></head>
      <body>
        <h1>Qonto → OneDrive receipts</h1>
        ${outcome}
        <p>API description: <a href="/api/openapi.json">/api/openapi.json</a></p>
      </body>
    </html>`);
}
