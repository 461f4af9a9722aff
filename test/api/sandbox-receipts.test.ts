import type { Hono } from 'hono';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../src/api/app.js';
import { apiDeps } from '../../src/api/deps.js';
import { addDemoReceipt } from '../../src/simulators/qonto/demo-receipt.js';
import { startApiBed, type ApiBed } from '../support/api-bed.js';

/** The sandbox's "Add a receipt in Qonto" action, over app.request() with the sandbox's extras. */
const ORIGIN = 'http://localhost:3000';

let bed: ApiBed;
let sandboxApp: Hono;

beforeAll(async () => {
  bed = await startApiBed({ demo: { seed: 5, accounts: 2, months: 1, receipts: 4 } });
  const data = bed.h.sims.qonto.data;
  sandboxApp = createApp(apiDeps(bed.config, bed.h.services, bed.client, { sandboxDrives: () => [], addSandboxReceipt: () => void addDemoReceipt(data) }));
});

afterAll(() => bed?.close());

const transactionCount = (): number => bed.h.sims.qonto.data.bankAccounts().reduce((n, a) => n + bed.h.sims.qonto.data.transactionsOf(a.id).length, 0);

const add = (headers: Record<string, string>) =>
  sandboxApp.request('/sandbox/receipts', { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers }, body: '' });

describe('sandbox: Add a receipt in Qonto', () => {
  it('offers the button on the simulated drive, in English and German', async () => {
    const en = await (await sandboxApp.request('/sandbox/drive', { headers: { 'accept-language': 'en' } })).text();
    expect(en).toContain('<form method="post" action="/sandbox/receipts">');
    expect(en).toContain('Add a receipt in Qonto');
    const de = await (await sandboxApp.request('/sandbox/drive', { headers: { 'accept-language': 'de' } })).text();
    expect(de).toContain('Beleg in Qonto hinzufügen');
  });

  it('pays a demo shop now on the main account, attaches its receipt, and says so on the drive page', async () => {
    const data = bed.h.sims.qonto.data;
    const before = transactionCount();
    const res = await add({ origin: ORIGIN });
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('/sandbox/drive?added=1');
    expect(transactionCount()).toBe(before + 1);

    const main = data.bankAccounts().find((a) => a.main)!;
    const newest = data.transactionsOf(main.id).at(-1)!;
    expect(newest).toMatchObject({ status: 'completed', side: 'debit' });
    expect(Date.now() - Date.parse(newest.emittedAt)).toBeLessThan(60_000);
    const [receipt] = data.attachmentsOf(newest.id);
    expect(receipt).toMatchObject({ contentType: 'application/pdf' });
    expect(data.visibleAttachmentIds(newest)).toEqual([receipt!.id]);

    const page = await (await sandboxApp.request('/sandbox/drive?added=1', { headers: { 'accept-language': 'en' } })).text();
    expect(page).toContain('Receipt added in Qonto: it shows up here within a minute.');
  });

  it('announces the payment and its receipt to the subscriptions', async () => {
    const { qonto } = bed.h.sims;
    // A callback nobody listens on: the events are what counts here, not their delivery.
    qonto.data.addWebhookSubscription({ callbackUrl: 'http://127.0.0.1:9/webhooks/qonto', types: ['v1/transactions'] });
    const events = qonto.webhooks.events.length;
    expect((await add({ origin: ORIGIN })).status).toBe(303);
    const sent = qonto.webhooks.events.slice(events).map((e) => [e.data.event, (e.data.attachment_ids as string[]).length]);
    expect(sent).toEqual([
      ['created', 0],
      ['updated', 1],
    ]);
    qonto.webhooks.stop();
  });

  it('refuses a form posted from another site, and adds nothing', async () => {
    const before = transactionCount();
    const res = await add({ origin: 'https://evil.example' });
    expect(res.status).toBe(403);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('cross_origin');
    expect(transactionCount()).toBe(before);
  });

  it('does not exist outside the sandbox', async () => {
    const before = transactionCount();
    const res = await bed.app.request('/sandbox/receipts', { method: 'POST', headers: { origin: ORIGIN } });
    expect(res.status).toBe(404);
    expect(transactionCount()).toBe(before);
    const spec = (await (await bed.app.request('/api/openapi.json')).json()) as { paths: Record<string, unknown> };
    expect(spec.paths['/sandbox/receipts']).toBeUndefined();
    const sandboxSpec = (await (await sandboxApp.request('/api/openapi.json')).json()) as { paths: Record<string, { post?: unknown }> };
    expect(sandboxSpec.paths['/sandbox/receipts']?.post).toBeDefined();
  });
});
