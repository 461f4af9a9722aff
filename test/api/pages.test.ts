import type { Hono } from 'hono';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApiBed, type ApiBed } from '../support/api-bed.js';
import { ADMIN_TOKEN } from '../support/harness.js';

/** The pages in API-key mode over app.request(): sign-in with the admin token, setup steps, dashboard,
 * the refreshing panel, languages and error pages (the browser suite clicks through the same in OAuth mode). */
const ADMIN = ADMIN_TOKEN;
const ORIGIN = 'http://localhost:3000';

let bed: ApiBed;
let app: Hono;

beforeAll(async () => {
  bed = await startApiBed({ demo: { seed: 5, accounts: 1, months: 1, receipts: 4 } });
  ({ app } = bed);
});

afterAll(() => bed?.close());

const cookieOf = (res: Response, name: string): string | undefined =>
  res.headers
    .getSetCookie()
    .find((c) => c.startsWith(`${name}=`))
    ?.split(';')[0];

async function signedIn(): Promise<string> {
  const res = await app.request('/auth/admin/login', {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', origin: ORIGIN },
    body: new URLSearchParams({ token: ADMIN }).toString(),
  });
  expect(res.status).toBe(303);
  const cookie = cookieOf(res, 'admin_session');
  expect(cookie).toBeDefined();
  return cookie!;
}

const page = async (path: string, headers: Record<string, string> = {}) => {
  const res = await app.request(path, { headers: { accept: 'text/html', ...headers } });
  return { res, html: await res.text() };
};

describe('pages (API-key mode)', () => {
  it('asks for the admin token, in the browser language or the one chosen', async () => {
    const de = await page('/', { 'accept-language': 'de-DE,de;q=0.9' });
    expect(de.res.status).toBe(200);
    expect(de.html).toContain('<html lang="de">');
    expect(de.html).toContain('Admin-Token');
    expect(de.html).not.toContain('Sandbox');

    const chosen = await page('/?lang=en', { 'accept-language': 'de' });
    expect(chosen.html).toContain('<html lang="en">');
    const lang = cookieOf(chosen.res, 'lang');
    expect(lang).toBe('lang=en');
    // The choice sticks, over Accept-Language.
    expect((await page('/', { 'accept-language': 'de', cookie: lang! })).html).toContain('<html lang="en">');
  });

  it('refuses a wrong admin token and keeps no session', async () => {
    const res = await app.request('/auth/admin/login', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', origin: ORIGIN },
      body: 'token=nope',
    });
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('/?wrong=1');
    expect(cookieOf(res, 'admin_session')).toBeUndefined();
    expect((await page('/?wrong=1')).html).toContain('This admin token is not valid.');
    // A forged cookie is no session.
    expect((await app.request('/api/integrations', { headers: { cookie: 'admin_session=99999999999999' } })).status).toBe(401);
  });

  it('walks the setup with a session cookie, then shows the dashboard and its panel', async () => {
    const cookie = await signedIn();
    const start = await page('/', { cookie });
    expect(start.html).toContain('Connect your OneDrive');
    expect(start.html).toContain('Only personal Microsoft accounts work');
    expect(start.html).toMatch(/<li class="current" aria-current="step">.*Connect<\/li>/s);

    // Connect from the page: the JSON API takes the cookie, from our own origin only.
    const foreign = await app.request('/api/integrations', { method: 'POST', headers: { cookie, origin: 'https://evil.example' } });
    expect(foreign.status).toBe(403);
    expect(((await foreign.json()) as { error: { code: string } }).error.code).toBe('cross_origin');
    const created = await app.request('/api/integrations', { method: 'POST', headers: { cookie, origin: ORIGIN } });
    expect(created.status).toBe(201);
    const { id, authorizationUrl } = (await created.json()) as { id: string; authorizationUrl: string };

    const user = bed.h.newUser(`pages-${id.slice(0, 8)}`);
    const url = new URL(authorizationUrl);
    url.searchParams.set('login_hint', user.username);
    const back = new URL((await fetch(url, { redirect: 'manual' })).headers.get('location')!);
    const landed = new URL((await app.request(`${back.pathname}${back.search}`)).headers.get('location')!, ORIGIN);

    const choose = await page(`${landed.pathname}${landed.search}`, { cookie });
    expect(choose.html).toContain(`Signed in with Microsoft as ${user.username}`);
    expect(choose.html).toMatch(/aria-current="step">.*Choose the start date/s);
    expect(choose.html).toContain(`data-id="${id}"`);
    expect(choose.html).toContain('<option value="Europe/Paris">');
    // Probative copies: off unless ticked, the field labelled and explained.
    expect(choose.html).toMatch(/<input id="probative-copies" name="probativeCopies" type="checkbox" aria-describedby="probative-copies-help"\/?>/);
    expect(choose.html).toContain('<label for="probative-copies">Also save Qonto’s probative copies</label>');

    const finished = await app.request(`/api/integrations/${id}/finish`, {
      method: 'POST',
      headers: { cookie, origin: ORIGIN, 'content-type': 'application/json' },
      body: JSON.stringify({ syncFrom: '2015-01-01', probativeCopies: true }),
    });
    expect(finished.status).toBe(202);

    const dashboard = await page('/', { cookie });
    expect(dashboard.html).toContain(`data-integration="${id}"`);
    expect(dashboard.html).toContain('Probative copies: saved beside the receipts.');
    expect(dashboard.html).toMatch(new RegExp(`<input id="reconfigure-probative-${id}" name="probativeCopies" type="checkbox" checked=""`));
    const german = await page('/?lang=de', { cookie });
    expect(german.html).toContain('Beweiskräftige Kopien: werden neben den Belegen gespeichert.');
    expect(dashboard.html).toContain(`data-panel="/integrations/${id}/panel"`);
    expect(dashboard.html).not.toContain('Connect your OneDrive');

    // The panel the page refreshes reaches "up to date" with every receipt counted.
    const deadline = Date.now() + 60_000;
    let panel = '';
    while (!panel.includes('data-status="idle"')) {
      if (Date.now() > deadline) throw new Error(`panel never idle: ${panel}`);
      await new Promise((r) => setTimeout(r, 200));
      const res = await app.request(`/integrations/${id}/panel`, { headers: { cookie } });
      expect(res.status).toBe(200);
      panel = await res.text();
    }
    expect(panel).not.toContain('<html');
    expect(panel).toContain('Up to date. Your receipts are safe in OneDrive.');
    const exported = [...panel.matchAll(/<td class="num" data-exported="true">(\d+)<\/td>/g)].reduce((n, m) => n + Number(m[1]), 0);
    const status = (await (await app.request(`/api/integrations/${id}`, { headers: { authorization: `Bearer ${ADMIN}` } })).json()) as { counts: { exported: number } };
    expect(exported).toBe(status.counts.exported);
    expect(exported).toBeGreaterThan(0);
    expect(panel).toMatch(/<meter class="gauge[^"]*" min="0" max="100" value="[\d.]+"/);
    expect(panel).not.toContain('style=');

    // The export log, linked from the dashboard in both languages, opens with the page session.
    const logHref = `/api/integrations/${id}/export-log?format=csv`;
    expect((await page('/', { cookie })).html).toContain(`Export log (every receipt file with its path and SHA-256): <a href="${logHref}" download="">download as CSV</a>`);
    expect((await page('/', { cookie, 'accept-language': 'de' })).html).toContain(`<a href="${logHref}" download="">als CSV herunterladen</a>`);
    const log = await app.request(logHref, { headers: { cookie } });
    expect(log.status).toBe(200);
    // A line per file (and per transaction still missing its receipt), the header, the last CRLF.
    const missing = (await (await app.request(`/api/integrations/${id}/missing-receipts`, { headers: { cookie } })).json()) as { missing: unknown[] };
    expect((await log.text()).split('\r\n')).toHaveLength(exported + missing.missing.length + 2);

    // Signing out ends the session.
    const out = await app.request('/auth/logout', { method: 'POST', headers: { cookie, origin: ORIGIN } });
    expect(out.status).toBe(303);
    expect(out.headers.getSetCookie().some((c) => c.startsWith('admin_session=;') && /Max-Age=0/i.test(c))).toBe(true);
  });

  it('shows the alerts under way as a banner with the action, and the latest ones, in the panel and the status API', async () => {
    const cookie = await signedIn();
    // Connect remembers the language of the page: the language of the alert mails.
    const created = await app.request('/api/integrations', { method: 'POST', headers: { cookie, origin: ORIGIN, 'accept-language': 'de-DE,de;q=0.9' } });
    const { id } = (await created.json()) as { id: string };
    const store = bed.h.services.store;
    expect((await store.alerts.profile(id))?.contactLanguage).toBe('de');
    // A request that names no language leaves it to the Qonto membership's locale.
    const silent = await app.request('/api/integrations', { method: 'POST', headers: { cookie, origin: ORIGIN } });
    expect((await store.alerts.profile(((await silent.json()) as { id: string }).id))?.contactLanguage).toBeNull();
    await store.updateIntegration(id, { status: 'quota_exceeded' });
    await store.alerts.open(id, { condition: 'run_failed', occurrence: 'a', startedAt: '2026-11-19T08:00:00.000Z', mailed: true });
    await store.alerts.resolve(id, ['run_failed'], '2026-11-20T08:00:00.000Z');
    await store.alerts.open(id, { condition: 'drive_full', occurrence: 'b', startedAt: '2026-12-01T10:00:00.000Z', mailed: true });

    const panel = await (await app.request(`/integrations/${id}/panel`, { headers: { cookie, 'accept-language': 'en' } })).text();
    expect(panel).toContain(`id="alerts-${id}"`);
    expect(panel).toMatch(/<ul class="alert-banner" role="alert"><li data-condition="drive_full"><strong>Your OneDrive is full \(since [^)]+\)<\/strong><span> Free some space in OneDrive, then use &quot;Sync now&quot;.<\/span><\/li><\/ul>/);
    expect(panel).toMatch(/<li data-condition="run_failed">The sync failed <span class="muted">· [^<]+ – [^<]+<\/span><\/li>/);
    const german = await (await app.request(`/integrations/${id}/panel`, { headers: { cookie, 'accept-language': 'de' } })).text();
    expect(german).toContain('Ihr OneDrive ist voll (seit ');

    const status = (await (await app.request(`/api/integrations/${id}`, { headers: { authorization: `Bearer ${ADMIN}` } })).json()) as { alerts: unknown };
    expect(status.alerts).toEqual({
      active: [{ condition: 'drive_full', startedAt: '2026-12-01T10:00:00.000Z', resolvedAt: null }],
      history: [
        { condition: 'drive_full', startedAt: '2026-12-01T10:00:00.000Z', resolvedAt: null },
        { condition: 'run_failed', startedAt: '2026-11-19T08:00:00.000Z', resolvedAt: '2026-11-20T08:00:00.000Z' },
      ],
    });
  });

  it('answers the panel only to a signed-in viewer, for a known integration', async () => {
    expect((await app.request('/integrations/abc/panel')).status).toBe(401);
    const cookie = await signedIn();
    expect((await app.request('/integrations/00000000-0000-0000-0000-000000000000/panel', { headers: { cookie } })).status).toBe(404);
    expect((await app.request('/integrations/..%2Fx/panel', { headers: { cookie } })).status).toBe(400);
  });

  it('escapes what comes back in the query string', async () => {
    const cookie = await signedIn();
    const { html } = await page(`/?${new URLSearchParams({ error: '<script>alert(1)</script>', message: '<img src=x onerror=alert(1)>' })}`, { cookie });
    expect(html).not.toContain('<script>alert(1)');
    expect(html).not.toContain('<img src=x');
    expect(html).toContain('&lt;img src=x onerror=alert(1)&gt;');
  });

  it('explains a refused work account on the setup page', async () => {
    const cookie = await signedIn();
    const { html } = await page('/?error=work_or_school_account&message=whatever', { cookie });
    expect(html).toContain('This is a work or school account');
    expect(html).toContain('Nothing of the refused account was stored.');
  });
});

describe('error pages', () => {
  it('shows an expired sign-in link as a page to a browser and as JSON to a program', async () => {
    const browser = await page('/auth/microsoft/callback?state=gone&code=x', { 'accept-language': 'de' });
    expect(browser.res.status).toBe(400);
    expect(browser.res.headers.get('content-type')).toContain('text/html');
    expect(browser.html).toContain('Dieser Link ist abgelaufen');
    expect(browser.html).toContain('invalid_state');

    const program = await app.request('/auth/microsoft/callback?state=gone&code=x');
    expect(program.status).toBe(400);
    expect(((await program.json()) as { error: { code: string } }).error.code).toBe('invalid_state');
  });

  it('keeps the JSON API in JSON even for a browser, and has a page for unknown pages', async () => {
    const api = await page('/api/nothing');
    expect(api.res.status).toBe(404);
    expect(JSON.parse(api.html)).toMatchObject({ error: { code: 'not_found' } });
    const missing = await page('/nothing');
    expect(missing.res.status).toBe(404);
    expect(missing.html).toContain('Page not found');
  });

  it('serves the style sheet and the script', async () => {
    const css = await app.request('/assets/app.css');
    expect(css.headers.get('content-type')).toContain('text/css');
    expect(await css.text()).toContain(':focus-visible');
    const js = await app.request('/assets/app.js');
    expect(js.headers.get('content-type')).toContain('javascript');
    expect(await js.text()).toContain('/api/integrations');
  });
});
