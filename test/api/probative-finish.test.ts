import type { Hono } from 'hono';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ExportLogEntry } from '../../src/api/export-log.js';
import { driveMismatches, expectedReceipts } from '../support/expectations.js';
import { startApiBed, type ApiBed } from '../support/api-bed.js';
import { ADMIN_TOKEN, type Harness } from '../support/harness.js';
import { until } from '../support/until.js';

/**
 * Probative copies chosen at the Finish step, over HTTP: the API in API-key mode (app.request()), the
 * real workflow on the run's dev server, the simulators over real HTTP. The choice sent in the body is
 * stored, reaches the workflow the Finish step starts, and its first run exports the copies.
 */
const auth = { authorization: `Bearer ${ADMIN_TOKEN}` };
const SYNC_FROM = '2020-01-01';
const ZONE = 'Europe/Paris';

let bed: ApiBed;
let h: Harness;
let app: Hono;

beforeAll(async () => {
  bed = await startApiBed({ demo: { seed: 5, accounts: 1, months: 2, receipts: 24 } });
  ({ h, app } = bed);
});

afterAll(() => bed?.close());

const call = async (method: string, path: string, body?: unknown): Promise<Response> =>
  app.request(path, { method, headers: { ...auth, ...(body === undefined ? {} : { 'content-type': 'application/json' }) }, body: body === undefined ? undefined : JSON.stringify(body) });

type Status = { status: string; nextRunAt: string | null; probativeCopies: boolean; counts: { exported: number; failed: number; pending: number }; lastRun: { kind: string; outcome: string } | null };

describe('probative copies from the Finish step', () => {
  it('stores `probativeCopies: true` sent to Finish, and the workflow it starts exports each copy beside its receipt', async () => {
    const { id, authorizationUrl } = (await (await call('POST', '/api/integrations')).json()) as { id: string; authorizationUrl: string };
    const user = h.newUser(`probative-${id.slice(0, 8)}`);
    const authorize = new URL(authorizationUrl);
    authorize.searchParams.set('login_hint', user.username);
    const back = new URL((await fetch(authorize, { redirect: 'manual' })).headers.get('location')!);
    expect((await app.request(`${back.pathname}${back.search}`)).status).toBe(302);

    const finish = await call('POST', `/api/integrations/${id}/finish`, { syncFrom: SYNC_FROM, timeZone: ZONE, probativeCopies: true });
    expect(finish.status).toBe(202);
    expect((await h.services.store.getIntegration(id))?.probativeCopies).toBe(true);

    const done = await until(async () => (await (await call('GET', `/api/integrations/${id}`)).json()) as Status, (s) => s.status === 'idle' && s.nextRunAt !== null, 'the backfill');
    expect(done.probativeCopies).toBe(true);
    const receipts = expectedReceipts(h.sims.qonto.data, SYNC_FROM, ZONE);
    const withCopy = receipts.filter((a) => a.probative.status === 'available');
    const notMade = (status: string) => new Set(receipts.filter((a) => a.probative.status === status).map((a) => a.id));
    // The demo holds copies available, pending and never made.
    expect(withCopy.length).toBeGreaterThan(0);
    expect(notMade('pending').size + notMade('unavailable').size).toBeGreaterThan(0);

    // The first run (the backfill, no reconfiguration) exported receipts and copies, each verified.
    expect(done.lastRun).toMatchObject({ kind: 'backfill', outcome: 'completed' });
    expect(done.counts).toEqual({ exported: receipts.length + withCopy.length, failed: 0, pending: 0 });
    expect(await driveMismatches(h.sims.graph.drive(user.id), h.services.store, id, receipts, undefined, withCopy)).toEqual([]);

    // The export log shows each copy as a file, and where the others stand.
    const log = await call('GET', `/api/integrations/${id}/export-log?format=json`);
    expect(log.status).toBe(200);
    const { entries } = (await log.json()) as { entries: ExportLogEntry[] };
    const ids = (rows: ExportLogEntry[]) => new Set(rows.map((e) => e.attachmentId));
    const copies = entries.filter((e) => e.path?.endsWith('-probative.pdf'));
    expect(ids(copies)).toEqual(new Set(withCopy.map((a) => a.id)));
    expect(copies.every((e) => e.state === 'exported' && /^[0-9a-f]{64}$/.test(e.sha256 ?? ''))).toBe(true);
    expect(ids(entries.filter((e) => e.state === 'probative_pending'))).toEqual(notMade('pending'));
    expect(ids(entries.filter((e) => e.state === 'probative_unavailable'))).toEqual(notMade('unavailable'));
  });
});
