import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApiBed, type ApiBed } from '../support/api-bed.js';
import { ADMIN_TOKEN } from '../support/harness.js';

/** The webhook fields of the status API and what the dashboard makes of them (API-key mode). */
let bed: ApiBed;
let cookie: string;

beforeAll(async () => {
  bed = await startApiBed({ demo: false });
  const res = await bed.app.request('/auth/admin/login', {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', origin: 'http://localhost:3000' },
    body: new URLSearchParams({ token: ADMIN_TOKEN }).toString(),
  });
  cookie = res.headers.getSetCookie().find((c) => c.startsWith('admin_session='))!.split(';')[0]!;
});

afterAll(() => bed?.close());

const BEARER = { authorization: `Bearer ${ADMIN_TOKEN}` };

async function newIntegration(): Promise<string> {
  const id = randomUUID();
  await bed.h.services.store.createIntegration({ id, status: 'idle' });
  return id;
}

const statusOf = async (id: string) => {
  const res = await bed.app.request(`/api/integrations/${id}`, { headers: BEARER });
  expect(res.status).toBe(200);
  return (await res.json()) as { webhook: unknown; revokedReason: unknown };
};

const panelOf = async (id: string, lang = 'en') => {
  const res = await bed.app.request(`/integrations/${id}/panel?lang=${lang}`, { headers: { cookie } });
  expect(res.status).toBe(200);
  return res.text();
};

describe('status API and dashboard: Qonto webhooks', () => {
  it('answers webhook null and revokedReason null before anything is known, and says nothing of webhooks', async () => {
    const id = await newIntegration();
    expect(await statusOf(id)).toMatchObject({ webhook: null, revokedReason: null });
    const panel = await panelOf(id);
    expect(panel).not.toContain('Last Qonto event');
    expect(panel).not.toContain('Updates once a day');
  });

  it('gives the subscription state and the last event, shown as "Last Qonto event"', async () => {
    const id = await newIntegration();
    const { store } = bed.h.services;
    await store.putWebhookSubscription(id, { state: 'manual', organizationId: 'org-1', lastEventAt: '2026-12-07T09:15:00.000Z' });
    expect((await statusOf(id)).webhook).toEqual({ state: 'manual', reason: null, lastEventAt: '2026-12-07T09:15:00.000Z' });
    expect(await panelOf(id)).toMatch(/<dt>Last Qonto event<\/dt><dd>Mon, 7 Dec 2026, \d\d:15 [A-Z+\d]+<\/dd>/);
    expect(await panelOf(id, 'de')).toContain('<dt>Letzte Qonto-Meldung</dt>');
  });

  it('says why updates come once a day only', async () => {
    const id = await newIntegration();
    await bed.h.services.store.putWebhookSubscription(id, { state: 'unavailable', reason: 'no_secret' });
    expect((await statusOf(id)).webhook).toEqual({ state: 'unavailable', reason: 'no_secret', lastEventAt: null });
    expect(await panelOf(id)).toContain('Updates once a day (23:30): no webhook secret is configured (QONTO_WEBHOOK_SECRET).');
  });

  it('gives why an integration was revoked, and says "consent withdrawn in Qonto"', async () => {
    const id = await newIntegration();
    await bed.h.services.store.updateIntegration(id, { status: 'revoked', revokedReason: 'withdrawn_in_qonto' });
    expect((await statusOf(id)).revokedReason).toBe('withdrawn_in_qonto');
    expect(await panelOf(id)).toContain('Consent withdrawn in Qonto.');
    expect(await panelOf(id, 'de')).toContain('Einwilligung in Qonto widerrufen.');
  });

  it('documents both fields in the OpenAPI Status schema', async () => {
    const spec = (await (await bed.app.request('/api/openapi.json')).json()) as {
      components: { schemas: Record<string, { properties: Record<string, unknown>; required?: string[] }> };
    };
    const status = spec.components.schemas.Status!;
    expect(status.required).toEqual(expect.arrayContaining(['webhook', 'revokedReason']));
    expect(spec.components.schemas.WebhookStatus!.properties).toHaveProperty('lastEventAt');
  });
});
