import { readFileSync } from 'node:fs';
import type { Client } from '@temporalio/client';
import { Hono, type Context } from 'hono';
import { z } from 'zod';
import { workflowIdFor } from '../../../workflows/messages.js';
import type { Integration, Store } from '../../store/types.js';
import type { AdminAuth } from '../admin-auth.js';
import { ApiError } from '../errors.js';
import { idParam } from '../schemas.js';
import { readStatus } from '../status.js';
import { validate } from '../validate.js';
import { Dashboard, StatusPanel } from './dashboard.js';
import { dashboardModel } from './dashboard-model.js';
import { MESSAGES, localeOf } from './i18n.js';
import { missingView } from './missing-receipts.js';
import { Layout, type PageContext } from './layout.js';
import { SandboxDrivePage, type DriveListing } from './sandbox-drive.js';
import { AdminSignIn, ChooseDateStep, ConnectStep, QontoSignIn, Refusal } from './setup.js';

/** Who looks at the pages: a Qonto member (OAuth mode) or the operator (API-key mode). */
export interface Viewer {
  name: string;
  role: string;
  /** OAuth mode: only this organization's integrations are shown. */
  organizationId: string | null;
}

export interface PagesDeps {
  store: Store;
  temporal: Client;
  namespace: string;
  defaultTimeZone: string;
  viewer: (c: Context) => Promise<Viewer | null>;
  /** How a visitor signs in: "Sign in with Qonto" (OAuth mode) or the admin token (API-key mode). */
  signIn: { kind: 'qonto' } | { kind: 'adminToken'; adminAuth: AdminAuth };
  /** Ends every session the visitor holds. */
  signOut: (c: Context) => void | Promise<void>;
  /** Where the Temporal UI is, for the link to each integration's workflow. */
  temporalUiUrl: string | null;
  /** The daily run's HH:MM (SYNC_TIME), named where webhooks cannot be used; default 23:30. */
  syncTime?: string;
  /** Sandbox mode: the simulated OneDrive, listed. */
  sandboxDrives?: () => DriveListing[];
  /** Sandbox mode: attaches a new receipt in the simulated Qonto (its webhooks bring it over). */
  addSandboxReceipt?: () => void;
}

const asset = (name: string) => readFileSync(new URL(`./assets/${name}`, import.meta.url), 'utf8');
const CSS = asset('app.css');
const SCRIPT = asset('app.js');

const loginForm = z.object({ token: z.string().min(1).max(512) });

/** "YYYY-MM-DD" of now in a zone. */
function today(timeZone: string): string {
  return new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' }).format(new Date());
}

const ZONES = Intl.supportedValuesOf('timeZone');

/** The setup steps and the dashboard (`GET /`), the refreshing status panel, sign-in forms and assets. */
export function pageRoutes(deps: PagesDeps) {
  const app = new Hono();
  const sandbox = deps.sandboxDrives !== undefined;

  const pageContext = (c: Context, viewer: Viewer | null): PageContext => {
    const locale = localeOf(c);
    const url = new URL(c.req.url);
    return { locale, t: MESSAGES[locale], sandbox, viewer, path: `${url.pathname}${url.search}` };
  };

  const visible = async (viewer: Viewer): Promise<Integration[]> =>
    (await deps.store.listIntegrations()).filter((i) => viewer.organizationId === null || i.organizationId === viewer.organizationId);

  const temporalUrl = (id: string) =>
    deps.temporalUiUrl ? `${deps.temporalUiUrl}/namespaces/${encodeURIComponent(deps.namespace)}/workflows/${encodeURIComponent(workflowIdFor(id))}` : null;

  async function dashboardOf(page: PageContext, integration: Integration) {
    const status = await readStatus(deps, integration);
    const folders = await deps.store.folderCounts(integration.id);
    const m = dashboardModel(status, folders, page.locale, page.t, deps.defaultTimeZone, deps.syncTime, deps.signIn.kind === 'adminToken');
    // Nothing to chase before the first import, nor once consent is withdrawn.
    const missing =
      integration.syncFrom !== null && integration.status !== 'revoked' && integration.status !== 'connecting'
        ? missingView(await deps.store.missingReceipts(integration.id, integration.syncFrom), page.locale, integration.id)
        : null;
    return { status, m, missing };
  }

  app.get('/assets/app.css', (c) => c.body(CSS, 200, { 'content-type': 'text/css; charset=utf-8', 'cache-control': 'no-cache' }));
  app.get('/assets/app.js', (c) => c.body(SCRIPT, 200, { 'content-type': 'text/javascript; charset=utf-8', 'cache-control': 'no-cache' }));

  app.get('/', async (c) => {
    const viewer = await deps.viewer(c);
    const page = pageContext(c, viewer);
    const { t } = page;
    const q = c.req.query();
    c.header('cache-control', 'no-store');
    if (!viewer) {
      return c.html(
        <Layout page={page} title={t.signInTitle}>
          {q.error && (
            <p class="card error" role="alert">
              {q.message || q.error}
            </p>
          )}
          {deps.signIn.kind === 'qonto' ? <QontoSignIn t={t} /> : <AdminSignIn t={t} sandbox={sandbox} wrong={q.wrong === '1'} />}
        </Layout>,
      );
    }

    const integrations = await visible(viewer);
    const newestFirst = [...integrations].sort((a, b) => b.updatedAt.localeCompare(a.updatedAt));
    const pending = newestFirst.find((i) => i.status === 'connecting' && i.microsoftAccount && (!q.integration || i.id === q.integration));
    const active = newestFirst.filter((i) => i.status !== 'connecting' && i.status !== 'revoked');
    const shown = active.length > 0 || q.error ? active : newestFirst.filter((i) => i.status === 'revoked').slice(0, 1);
    const dashboards = await Promise.all(shown.map(async (i) => ({ integration: i, ...(await dashboardOf(page, i)) })));
    const day = today(deps.defaultTimeZone);

    return c.html(
      <Layout page={page} title={active.length > 0 ? t.dashboardTitle : t.connectTitle}>
        {q.error && <Refusal t={t} code={q.error} message={q.message} />}
        {pending && (
          <ChooseDateStep
            t={t}
            id={pending.id}
            account={pending.microsoftAccount!.username}
            resumed={false}
            defaultDate={`${day.slice(0, 4)}-01-01`}
            today={day}
            zones={ZONES}
          />
        )}
        {!pending && q.resumed === 'true' && q.connected && (
          <p class="card success" role="status">
            {t.resumed(q.connected)}
          </p>
        )}
        {!q.error && !pending && active.length === 0 && <ConnectStep t={t} />}
        {dashboards.map(({ integration, status, m, missing }) => (
          <Dashboard
            t={t}
            id={integration.id}
            account={status.microsoftAccount}
            m={m}
            lastError={status.lastError}
            syncFrom={status.syncFrom}
            timeZone={status.timeZone}
            probativeCopies={status.probativeCopies}
            today={day}
            zones={ZONES}
            temporalUrl={temporalUrl(integration.id)}
            missing={missing}
          />
        ))}
      </Layout>,
    );
  });

  app.get('/integrations/:id/panel', validate('param', idParam), async (c) => {
    const viewer = await deps.viewer(c);
    if (!viewer) throw new ApiError(401, 'unauthenticated', 'Sign in first');
    const { id } = c.req.valid('param');
    const integration = await deps.store.getIntegration(id);
    if (!integration || (viewer.organizationId !== null && integration.organizationId !== viewer.organizationId)) throw new ApiError(404, 'not_found', `No integration ${id}`);
    const page = pageContext(c, viewer);
    const { status, m, missing } = await dashboardOf(page, integration);
    c.header('cache-control', 'no-store');
    return c.html(<StatusPanel t={page.t} id={integration.id} m={m} lastError={status.lastError} missing={missing} />);
  });

  if (deps.signIn.kind === 'adminToken') {
    const { adminAuth } = deps.signIn;
    app.post('/auth/admin/login', async (c) => {
      const parsed = loginForm.safeParse(await c.req.parseBody().catch(() => ({})));
      if (!parsed.success || !adminAuth.check(c, parsed.data.token)) return c.redirect('/?wrong=1', 303);
      await adminAuth.startSession(c);
      return c.redirect('/', 303);
    });
  }

  app.post('/auth/logout', async (c) => {
    await deps.signOut(c);
    return c.redirect('/', 303);
  });

  if (deps.sandboxDrives) {
    const drives = deps.sandboxDrives;
    const addReceipt = deps.addSandboxReceipt;
    app.get('/sandbox/drive', (c) => {
      c.header('cache-control', 'no-store');
      return c.html(<SandboxDrivePage page={pageContext(c, null)} drives={drives()} addReceipt={addReceipt !== undefined} added={c.req.query('added') === '1'} />);
    });
    if (addReceipt) {
      // Like the drive page, open to any visitor of the sandbox: the demo organization is simulated.
      // The app's same-origin check refuses a form posted from another site.
      app.post('/sandbox/receipts', (c) => {
        addReceipt();
        return c.redirect('/sandbox/drive?added=1', 303);
      });
    }
  }

  return app;
}
