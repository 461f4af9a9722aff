import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cspViolations, freePortBlock, launchChromium, snap } from '../support/browser.js';
import { leaks } from '../support/personal-data.js';
import { expandActivity, runIds, storedHistory } from '../support/temporal-ui.js';
import { startWorkerProcess, type WorkerProcess } from '../support/worker-process.js';

/**
 * The product as a newcomer runs it: `npm start` with no credentials (sandbox) from an empty data
 * directory, its embedded Temporal dev server, and headless Chromium clicking through the pages and
 * the simulators' sign-in pages. Screenshots of every step land in test/browser/artifacts/.
 */
let app: WorkerProcess;
let appEnv: Record<string, string>;
let browser: Browser;
let dataDir: string;
let base: string;
let uiPort: number;

const firstDayMonthsAgo = (months: number) => {
  const now = new Date();
  return new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - months, 1)).toISOString().slice(0, 10);
};

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'browser-sandbox-'));
  const [port, temporalPort, sandboxBase] = [await freePortBlock(), await freePortBlock([0, 1]), await freePortBlock([0, 10, 20, 21])];
  uiPort = temporalPort + 1;
  base = `http://localhost:${port}`;
  appEnv = {
    PORT: String(port),
    PUBLIC_URL: base,
    DATA_DIR: dataDir,
    SANDBOX: 'true',
    SANDBOX_PORT_BASE: String(sandboxBase),
    TEMPORAL_PORT: String(temporalPort),
    TEMPORAL_UI_PORT: String(uiPort),
  };
  app = await startWorkerProcess(appEnv, 120_000);
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  await app?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

/**
 * The Temporal UI the dashboard links to, opened as an operator would, with no settings changed: it
 * decodes the encrypted payloads through the service's codec server (open in the sandbox), so the
 * account folders `loadOrganization` found read in clear there, while the stored history holds
 * them only encrypted, and the same page without the codec shows ciphertext.
 */
async function expectTemporalUiDecodes(workflowUrl: string, syncFrom: string, folders: string[]): Promise<void> {
  const uiUrl = new URL(workflowUrl).origin;
  const workflowId = workflowUrl.split('/').pop()!;
  const page = await browser.newPage({ locale: 'en-GB', viewport: { width: 1400, height: 1000 } });
  await page.goto(workflowUrl);
  // The latest run's input, decoded.
  await page.getByText(`"syncFrom": "${syncFrom}"`).first().waitFor();
  // The backfill's run: the folders are in its history, encrypted.
  const [firstRun] = await runIds(uiUrl, workflowId);
  const stored = await storedHistory(uiUrl, workflowId, firstRun!);
  expect(stored).toContain(Buffer.from('binary/encrypted').toString('base64'));
  expect(leaks(stored, folders)).toEqual([]);
  await expandActivity(page, `${workflowUrl}/${firstRun}`, 'loadOrganization');
  for (const folder of folders) await page.getByText(folder).first().waitFor();
  await snap(page, '06a-temporal-ui-decoded');
  await page.close();

  // Without the codec server, the same row shows the ciphertext and no folder.
  const blind = await browser.newPage({ locale: 'en-GB', viewport: { width: 1400, height: 1000 } });
  await blind.route(`${base}/codec/**`, (route) => route.abort());
  const row = await expandActivity(blind, `${workflowUrl}/${firstRun}`, 'loadOrganization');
  await row.filter({ hasText: /Result\s*"[A-Za-z0-9+/]{40}/ }).waitFor();
  await blind.getByText('Activity Task Completed').first().waitFor();
  for (const folder of folders) expect(await blind.getByText(folder).count()).toBe(0);
  await snap(blind, '06b-temporal-ui-without-codec');
  await blind.close();
}

async function signInWithQonto(page: Page, role: string): Promise<void> {
  await page.goto(`${base}/?lang=en`);
  await page.getByRole('link', { name: 'Sign in with Qonto' }).click();
  await page.waitForURL(/oauth2\/auth/);
  await page.getByRole('listitem').filter({ hasText: `(${role})` }).getByRole('link').click();
}

describe('sandbox setup in a browser', () => {
  it('goes from an empty data directory to receipts in OneDrive, then withdraws consent', async () => {
    const page = await browser.newPage({ locale: 'en-GB', viewport: { width: 1100, height: 900 } });
    const violations = await cspViolations(page);
    expect((await page.goto(base))?.headers()['content-security-policy']).toContain("script-src 'self'");
    await expect(page.getByRole('link', { name: 'Sandbox' }).isVisible()).resolves.toBe(true);
    await expect(page.getByRole('heading', { level: 1 }).textContent()).resolves.toBe('Sign in');
    await snap(page, '01-sign-in');

    await page.getByRole('link', { name: 'Sign in with Qonto' }).click();
    await page.waitForURL(/oauth2\/auth/);
    await snap(page, '02-qonto-simulator');
    await page.getByRole('listitem').filter({ hasText: '(owner)' }).getByRole('link').click();

    // Step 1: Connect.
    await page.waitForURL(`${base}/`);
    await expect(page.locator('.steps [aria-current=step]').textContent()).resolves.toContain('Connect');
    await expect(page.getByText('Only personal Microsoft accounts work').isVisible()).resolves.toBe(true);
    await snap(page, '03-connect');
    await page.getByRole('button', { name: 'Connect' }).click();

    // Step 2: the Microsoft sign-in page of the identity simulator.
    await page.waitForURL(/oauth2\/v2.0\/authorize/);
    await snap(page, '04-microsoft-simulator');
    await page.getByRole('link', { name: /camille\.martin@outlook\.com/ }).click();

    // Step 3: the start date; step 4: Finish.
    await page.waitForURL(new RegExp(`^${base}/\\?`));
    await expect(page.getByRole('status').first().textContent()).resolves.toContain('Signed in with Microsoft as camille.martin@outlook.com');
    await expect(page.locator('.steps [aria-current=step]').textContent()).resolves.toContain('Choose the start date');
    // Every field has a label a screen reader announces.
    const unlabelled = await page.locator('input, select').evaluateAll((els) => els.filter((e) => (e as unknown as { labels: ArrayLike<unknown> }).labels.length === 0).length);
    expect(unlabelled).toBe(0);
    const syncFrom = firstDayMonthsAgo(3);
    await page.getByLabel('Sync receipts from').fill(syncFrom);
    await page.getByLabel('Also save Qonto’s probative copies').check();
    await snap(page, '05-choose-date');
    await page.getByRole('button', { name: 'Finish' }).click();

    // The dashboard refreshes by itself until the backfill is done.
    await page.waitForURL(`${base}/`);
    const dashboard = page.locator('section.dashboard');
    await dashboard.waitFor();
    await page.locator('.panel[data-status=idle]').waitFor({ timeout: 120_000 });
    await expect(page.getByRole('status').first().textContent()).resolves.toContain('Up to date');
    const exported = await page.locator('td[data-exported]').evaluateAll((cells) => cells.reduce((n, c) => n + Number(c.textContent), 0));
    expect(exported).toBeGreaterThanOrEqual(90);
    expect(await page.locator('table.folders caption').count()).toBe(2);
    // Measured after the uploads: the gauge counts the receipts just exported (about 70 MB).
    await expect(page.getByRole('meter').getAttribute('aria-valuetext')).resolves.toMatch(/^[1-9][\d.]* MB of 5 GB used/);
    const id = await dashboard.getAttribute('data-integration');
    const workflowUrl = await page.getByRole('link', { name: 'Inspect the workflow in the Temporal UI' }).getAttribute('href');
    expect(workflowUrl).toBe(`http://localhost:${uiPort}/namespaces/default/workflows/integration-${id}`);
    await expect(page.locator('.facts').textContent()).resolves.toMatch(/Next run.*23:[3-5]\d/); // 23:30 + its offset in the 30-minute window
    await expect(dashboard.getByText('Probative copies: saved beside the receipts.').isVisible()).resolves.toBe(true);
    await snap(page, '06-dashboard');
    await expectTemporalUiDecodes(workflowUrl!, syncFrom, await page.locator('table.folders caption').allTextContents());

    // The same receipts, counted in the simulated OneDrive.
    await page.getByRole('link', { name: 'Browse the simulated OneDrive' }).click();
    let files = await page.locator('ul.files li').count();
    // Counts are of files: the probative copies (ticked at Finish) are among them.
    expect(files).toBe(exported);
    expect(await page.locator('ul.files li', { hasText: '-probative.pdf' }).count()).toBeGreaterThan(0);
    await snap(page, '07-simulated-onedrive');

    // `npm start` again on the same data directory: the session, the integration and its workflow are
    // still there; the simulators start empty, so the sandbox signs in again and re-imports everything.
    await app.stop();
    app = await startWorkerProcess(appEnv, 120_000);
    expect(app.output()).toContain(`integration ${id} signed in again`);
    const deadline = Date.now() + 90_000;
    for (;;) {
      await page.goto(`${base}/sandbox/drive`);
      if ((await page.locator('ul.files li').count()) === files) break;
      if (Date.now() > deadline) throw new Error('the restarted sandbox did not re-import every receipt');
      await new Promise((r) => setTimeout(r, 1000));
    }

    // A receipt added in Qonto reaches the drive within a minute, through the simulated Qonto's
    // webhook (the restarted simulator got the subscription back) and an incremental run.
    const before = new Set(await page.locator('ul.files li').allTextContents());
    await page.getByRole('button', { name: 'Add a receipt in Qonto' }).click();
    await expect(page.getByRole('status').first().textContent()).resolves.toContain('Receipt added in Qonto');
    const added = Date.now();
    for (;;) {
      await page.goto(`${base}/sandbox/drive`);
      const now = await page.locator('ul.files li').allTextContents();
      if (now.length === files + 1 && now.some((name) => !before.has(name))) break;
      if (Date.now() - added > 60_000) throw new Error('the receipt added in Qonto did not reach the drive within a minute');
      await new Promise((r) => setTimeout(r, 1000));
    }
    files += 1;
    await snap(page, '07b-receipt-from-webhook');
    await page.goto(`${base}/`);
    await expect(page.locator('[data-webhook-last-event] dd').textContent()).resolves.not.toBe('none yet');

    // German, by the language switch.
    await page.goto(`${base}/`);
    await page.getByRole('link', { name: 'Deutsch' }).click();
    await expect(page.getByRole('status').first().textContent()).resolves.toContain('Aktuell');
    await expect(page.getByRole('button', { name: 'Jetzt synchronisieren' }).isVisible()).resolves.toBe(true);
    await snap(page, '08-dashboard-de');
    await page.getByRole('link', { name: 'English' }).click();

    // Receipts still missing: a line per account and period, its transactions shown on demand.
    const missing = page.locator('details[data-missing-period]').first();
    await expect(missing.locator('summary').textContent()).resolves.toMatch(/^\d{4}-\d{2}: \d+ transactions? still without a receipt/);
    await missing.locator('summary').click();
    await expect(missing.locator('tbody tr').first().isVisible()).resolves.toBe(true);

    // Sync now answers and the page says so.
    const lastRun = await page.locator('.facts dd').first().textContent();
    await page.getByRole('button', { name: 'Sync now' }).click();
    await page.getByText('Sync requested.').waitFor();
    await page.locator('.panel[data-status=idle]').waitFor({ timeout: 60_000 });
    // The panel was replaced once the run ended (its last run changed); the list the reader opened stays open.
    await page.locator('.facts dd').first().filter({ hasNotText: lastRun! }).waitFor({ timeout: 60_000 });
    await expect(page.locator('details[data-missing-period]').first().getAttribute('open')).resolves.toBe('');

    // Withdraw consent: the confirmation says files stay.
    await page.getByRole('button', { name: 'Withdraw consent' }).click();
    const dialog = page.getByRole('dialog');
    await expect(dialog.textContent()).resolves.toContain('Files already in your OneDrive stay there.');
    await snap(page, '09-withdraw-confirm');
    await dialog.getByRole('button', { name: 'Withdraw consent' }).click();
    await page.locator('.panel[data-status=revoked]').waitFor({ timeout: 30_000 });
    await expect(page.getByRole('status').first().textContent()).resolves.toContain('Consent withdrawn');
    await expect(page.getByRole('button', { name: 'Sync now' }).count()).resolves.toBe(0);
    await snap(page, '10-withdrawn');

    // Files stay in OneDrive.
    await page.goto(`${base}/sandbox/drive`);
    expect(await page.locator('ul.files li').count()).toBe(files);
    // Every page of ours, the dashboard's gauge included, lived within its Content Security Policy.
    expect(violations).toEqual([]);
    await page.close();
  }, 240_000);

  it('refuses a work account and says why', async () => {
    const context = await browser.newContext({ locale: 'en-GB' });
    const page = await context.newPage();
    await signInWithQonto(page, 'accountant');
    await page.waitForURL(`${base}/`);
    await page.getByRole('button', { name: 'Connect' }).click();
    await page.waitForURL(/oauth2\/v2.0\/authorize/);
    await page.getByRole('link', { name: /contoso\.onmicrosoft\.com/ }).click();
    await page.waitForURL(new RegExp(`^${base}/\\?`));
    await expect(page.getByRole('heading', { level: 1 }).first().textContent()).resolves.toBe('This is a work or school account');
    await expect(page.getByText('Sign in again with a personal Microsoft account').isVisible()).resolves.toBe(true);
    await expect(page.getByRole('button', { name: 'Try again' }).isVisible()).resolves.toBe(true);
    await snap(page, '11-work-account-refused');
    // The refused Connect used this Qonto sign-in's tokens: trying again goes through Qonto first.
    await page.getByRole('button', { name: 'Try again' }).click();
    await page.waitForURL(/oauth2\/auth/);
    await page.getByRole('listitem').filter({ hasText: '(accountant)' }).getByRole('link').click();
    await page.waitForURL(`${base}/`);
    await page.getByRole('button', { name: 'Connect' }).click();
    await page.waitForURL(/oauth2\/v2.0\/authorize/);
    await context.close();
  });

  it('shows readable pages for a refused role and an expired link', async () => {
    const context = await browser.newContext({ locale: 'de-DE' });
    const page = await context.newPage();
    await page.goto(`${base}/auth/microsoft/callback?state=gone&code=x`);
    await expect(page.getByRole('heading', { level: 1 }).textContent()).resolves.toBe('Dieser Link ist abgelaufen');
    await snap(page, '12-expired-link-de');

    await page.goto(`${base}/?lang=en`);
    await page.getByRole('link', { name: 'Sign in with Qonto' }).click();
    await page.waitForURL(/oauth2\/auth/);
    await page.getByRole('listitem').filter({ hasText: '(employee)' }).getByRole('link').click();
    await expect(page.getByRole('heading', { level: 1 }).textContent()).resolves.toBe('Not allowed');
    await expect(page.locator('main').textContent()).resolves.toContain('Your Qonto role is employee');
    await snap(page, '13-employee-refused');

    // Keyboard: the first Tab reaches the skip link.
    await page.goto(`${base}/`);
    await page.keyboard.press('Tab');
    await expect(page.evaluate(() => (globalThis as unknown as { document: { activeElement: { textContent: string } | null } }).document.activeElement?.textContent)).resolves.toBe('Skip to content');
    await context.close();
  });
});
