import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { promisify } from 'node:util';
import type { Client } from '@temporalio/client';
import { historyToJSON, type History } from '@temporalio/common/lib/proto-utils.js';
import { afterAll, beforeAll, expect, inject, it } from 'vitest';
import { listen } from '../../src/api/listen.js';
import { findTemporalBinary } from '../../src/temporal/binaries.js';
import { accountFolderName } from '../../src/sync/naming.js';
import { settingsFrom, startIntegration } from '../../src/temporal/integrations.js';
import { workflowIdFor } from '../../workflows/messages.js';
import { startApiBed, type ApiBed } from '../support/api-bed.js';
import { ADMIN_TOKEN } from '../support/harness.js';
import { leaks, personalData } from '../support/personal-data.js';
import { sleepingAfter } from '../support/testbed.js';
import { waitForStatus } from '../support/workflow.js';

/**
 * What the Temporal server stores (and its UI shows) of a backfill holds no personal data in plaintext:
 * every payload is encrypted by the codec; the codec server decodes them back for the admin.
 */
const ADMIN = ADMIN_TOKEN;

let bed: ApiBed;
beforeAll(async () => {
  bed = await startApiBed({ demo: { seed: 17, accounts: 2, months: 2, receipts: 12 } });
});
afterAll(() => bed?.close());

/** Every execution of the workflow, first to current, as the server returns them (raw, undecoded). */
async function executionHistories(client: Client, workflowId: string, firstRunId: string): Promise<History[]> {
  const chain: History[] = [];
  let runId: string | undefined = firstRunId;
  while (runId) {
    const history: History = await client.workflow.getHandle(workflowId, runId).fetchHistory();
    chain.push(history);
    runId = history.events?.at(-1)?.workflowExecutionContinuedAsNewEventAttributes?.newExecutionRunId ?? undefined;
  }
  return chain;
}

it('a backfill leaves no account name, IBAN, counterparty or file name in any history event, and the codec server decodes them', async () => {
  const { h, client, app, config } = bed;
  const id = `privacy-${randomUUID().slice(0, 8)}`;
  await h.connect(id, h.newUser(id));
  // One upload refused for good: its receipt is marked failed and the run's lastError names the file.
  h.sims.graph.faults.add({ method: 'PUT', path: /\/content/ }, { kind: 'status', status: 400, code: 'invalidRequest' });
  const started = await startIntegration(client, config.TEMPORAL_TASK_QUEUE, {
    integrationId: id,
    syncFrom: '2020-01-01',
    timeZone: 'Europe/Paris',
    settings: { ...settingsFrom(config), batchSize: 5 },
  });
  const done = await waitForStatus(client, id, sleepingAfter(1), 'the backfill');
  expect(done.counts).toMatchObject({ failed: 1, pending: 0 });
  const personal = await personalData(h, id);
  // The test sees what it is looking for: the run's error (decoded by the client) names a file.
  expect(personal.some((s) => done.lastError?.includes(s))).toBe(true);

  const histories = await executionHistories(client, workflowIdFor(id), started.firstExecutionRunId);
  expect(histories.length).toBeGreaterThanOrEqual(2);
  for (const history of histories) expect(leaks(historyToJSON(history), personal)).toEqual([]);

  // The codec server gives the admin the plaintext back: the organization as loadOrganization returned it.
  const events = histories.flatMap((hist) => hist.events ?? []);
  const scheduled = events.find((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'loadOrganization');
  const completed = events.find((e) => e.activityTaskCompletedEventAttributes?.scheduledEventId?.toString() === scheduled?.eventId?.toString());
  const payloads = completed?.activityTaskCompletedEventAttributes?.result?.payloads ?? [];
  expect(payloads).toHaveLength(1);
  const body = {
    payloads: payloads.map((p) => ({
      metadata: Object.fromEntries(Object.entries(p.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v).toString('base64')])),
      data: Buffer.from(p.data ?? new Uint8Array()).toString('base64'),
    })),
  };
  expect(Buffer.from(body.payloads[0]!.metadata.encoding!, 'base64').toString()).toBe('binary/encrypted');
  const post = (headers: Record<string, string>) =>
    app.request('/codec/decode', { method: 'POST', headers: { 'content-type': 'application/json', 'x-namespace': 'default', ...headers }, body: JSON.stringify(body) });

  expect((await post({})).status).toBe(401);
  const res = await post({ authorization: `Bearer ${ADMIN}` });
  expect(res.status).toBe(200);
  const decoded = ((await res.json()) as { payloads: Array<{ metadata: Record<string, string>; data: string }> }).payloads;
  expect(Buffer.from(decoded[0]!.metadata.encoding!, 'base64').toString()).toBe('json/plain');
  const organization = JSON.parse(Buffer.from(decoded[0]!.data, 'base64').toString()) as { accounts: Array<{ folderName: string }> };
  expect(organization.accounts.map((a) => a.folderName).sort()).toEqual(h.sims.qonto.data.bankAccounts().map(accountFolderName).sort());

  // The operator's way: `temporal workflow show` reads the raw history, and decodes it through the
  // codec server over HTTP when given its endpoint and the admin token.
  const { server, port } = await listen(app, 0, '127.0.0.1');
  try {
    const endpoint = `http://127.0.0.1:${port}/codec`;
    const show = async (...extra: string[]) =>
      (
        await promisify(execFile)(
          findTemporalBinary('cli')!,
          ['workflow', 'show', '--workflow-id', workflowIdFor(id), '--run-id', started.firstExecutionRunId, '--address', inject('temporalAddress'), '--output', 'json', ...extra],
          { maxBuffer: 64 * 1024 * 1024 },
        )
      ).stdout;
    expect(leaks(await show(), personal)).toEqual([]);
    const decodedByCli = await show('--codec-endpoint', endpoint, '--codec-auth', `Bearer ${ADMIN}`);
    expect(leaks(decodedByCli, personal)).toEqual(expect.arrayContaining(h.sims.qonto.data.bankAccounts().map(accountFolderName)));
  } finally {
    await new Promise((resolve) => server.close(resolve));
  }
});
