/**
 * Records the integration workflow's histories for the replay test (test/workflow/replay.test.ts):
 * `npx tsx scripts/record-histories.ts`.
 *
 * Drives a few representative scenarios on a dev server of its own (a real Temporal server) with the
 * real activities against the simulators, and writes the executions that matter as CLI-compatible JSON
 * to test/fixtures/histories/<scenario>-<n>.json, where n is the execution's position in the
 * continue-as-new chain (1 = the first run, the backfill). Every written execution is closed, so its
 * last workflow task is complete and replay checks all of it. Payloads are encrypted with the tests'
 * fixed PAYLOAD_KEY (test/support/harness.ts), which the replay test decodes them with. Fails if a
 * history holds a credential or personal data (account names, IBANs, counterparties, file names).
 *
 * Scenario names given as arguments record only those (`npx tsx scripts/record-histories.ts
 * webhook-incremental`): the other fixtures stay as they were recorded.
 *
 * `transactions-changed-before-webhooks-2.json` was recorded on the code from before webhooks (commit
 * d2ed52a's scenario of that name): a transactionsChanged signal reaches execution 2 while it sleeps
 * (no handler then), then "sync now" runs it. It shows that such an execution replays on the webhook
 * code without a timer or activity more; recording it again would lose that, so the scenario is gone.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Client } from '@temporalio/client';
import { historyToJSON, type History } from '@temporalio/common/lib/proto-utils.js';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { serverExecutable } from '../src/temporal/binaries.js';
import { settingsFrom, startIntegration } from '../src/temporal/integrations.js';
import { bundleWorkflows, createWorker } from '../src/temporal/worker.js';
import { dataConverter, startHarness, type Harness } from '../test/support/harness.js';
import { leaks, personalData } from '../test/support/personal-data.js';
import { SYNC_FROM, ZONE, sleepingAfter } from '../test/support/testbed.js';
import { waitForStatus } from '../test/support/workflow.js';
import { reconfigureSignal, reconnectSignal, revokeSignal, syncNowSignal, transactionsChangedSignal, workflowIdFor } from '../workflows/messages.js';
import type { IntegrationSettings } from '../workflows/state.js';

const OUT_DIR = fileURLToPath(new URL('../test/fixtures/histories/', import.meta.url));

interface Scenario {
  name: string;
  /** Positions in the continue-as-new chain to write (1 = first execution). */
  executions: number[];
  /** Settings of this scenario's integration on top of the common ones. */
  settings?: Partial<IntegrationSettings>;
  /** Drives the workflow until every execution to write has closed. */
  drive(ctx: { client: Client; h: Harness; id: string; user: ReturnType<Harness['newUser']> }): Promise<void>;
}

const scenarios: Scenario[] = [
  {
    // Execution 1 is the backfill, ending with continue-as-new; execution 2 sleeps until a "sync now".
    name: 'backfill-then-sync-now',
    executions: [1, 2],
    async drive({ client, id }) {
      await waitForStatus(client, id, sleepingAfter(1), 'the backfill');
      await client.workflow.getHandle(workflowIdFor(id)).signal(syncNowSignal);
      await waitForStatus(client, id, sleepingAfter(2), 'the sync-now run');
    },
  },
  {
    // The code from the fleet-wave patch on: execution 1's backfill schedules its activities with
    // priority 4, execution 2 sleeps until 23:30 plus the integration's spread offset, is woken by
    // "sync now" and runs with priority 2.
    name: 'fleet-wave',
    executions: [1, 2],
    settings: { syncSpreadMinutes: 30 },
    async drive({ client, id }) {
      await waitForStatus(client, id, sleepingAfter(1), 'the backfill');
      await client.workflow.getHandle(workflowIdFor(id)).signal(syncNowSignal);
      await waitForStatus(client, id, sleepingAfter(2), 'the sync-now run');
    },
  },
  {
    // Execution 2 is woken from its sleep by the revocation and completes.
    name: 'revoke-while-sleeping',
    executions: [2],
    async drive({ client, id }) {
      await waitForStatus(client, id, sleepingAfter(1), 'the backfill');
      const handle = client.workflow.getHandle(workflowIdFor(id));
      await handle.signal(revokeSignal);
      const outcome = (await handle.result()) as { status: string };
      if (outcome.status !== 'revoked') throw new Error(`revoke ended with ${JSON.stringify(outcome)}`);
    },
  },
  {
    // Execution 2's run fails with reconnect_required; execution 3 waits for the reconnect and runs.
    name: 'reconnect',
    executions: [2, 3],
    async drive({ client, h, id, user }) {
      await waitForStatus(client, id, sleepingAfter(1), 'the backfill');
      h.sims.directory.revokeUser(user.id);
      const handle = client.workflow.getHandle(workflowIdFor(id));
      await handle.signal(syncNowSignal);
      await waitForStatus(client, id, (v) => v.status === 'reconnect_required', 'reconnect_required');
      await h.connect(id, user);
      await handle.signal(reconnectSignal);
      await waitForStatus(client, id, (v) => v.status === 'idle' && sleepingAfter(3)(v), 'the run after the reconnect');
    },
  },
  {
    // Execution 2 is woken by a reconfiguration (new start date and zone) and imports everything again.
    name: 'reconfigure',
    executions: [2],
    async drive({ client, id }) {
      await waitForStatus(client, id, sleepingAfter(1), 'the backfill');
      await client.workflow.getHandle(workflowIdFor(id)).signal(reconfigureSignal, { syncFrom: '2020-02-01', timeZone: 'Europe/Berlin' });
      await waitForStatus(client, id, (v) => v.lastRun?.kind === 'reconfigure' && sleepingAfter(2)(v), 'the reconfigure run');
    },
  },
  {
    // Execution 2 sleeps, is woken by a webhook's transactionsChanged signal, gathers changes for the
    // debounce window and runs an incremental run (discovery by id, export) before continuing as new.
    name: 'webhook-incremental',
    executions: [2],
    settings: { webhookDebounceMs: 1_000 },
    async drive({ client, h, id }) {
      await waitForStatus(client, id, sleepingAfter(1), 'the backfill');
      const data = h.sims.qonto.data;
      const tx = data.addTransaction({ bankAccountId: data.bankAccounts()[0]!.id, amount: 9.5, label: 'Webhook shop', side: 'debit' });
      const attachment = data.attachReceipt(tx.id, { fileName: 'webhook.pdf', contentType: 'application/pdf', size: 1_000 });
      const change = { transactionId: tx.id, attachmentIds: [attachment.id], receivedAt: new Date().toISOString() };
      await client.workflow.getHandle(workflowIdFor(id)).signal(transactionsChangedSignal, { changes: [change] });
      await waitForStatus(client, id, (v) => v.lastIncremental?.exported === 1 && sleepingAfter(2)(v), 'the incremental run');
    },
  },
  {
    // Execution 2's reconfiguration fails (Graph answers 403) and continues as new with a retry time;
    // execution 3 sleeps until then, is woken by "sync now" once the fault is gone and applies it.
    name: 'failed-reconfigure',
    executions: [2, 3],
    async drive({ client, h, id }) {
      await waitForStatus(client, id, sleepingAfter(1), 'the backfill');
      const handle = client.workflow.getHandle(workflowIdFor(id));
      const fault = h.sims.graph.faults.add({}, { kind: 'status', status: 403, code: 'accessDenied' }, Number.POSITIVE_INFINITY);
      await handle.signal(reconfigureSignal, { syncFrom: '2020-02-01' });
      await waitForStatus(client, id, (v) => v.status === 'failed' && sleepingAfter(2)(v), 'the failed reconfiguration');
      h.sims.graph.faults.remove(fault);
      await handle.signal(syncNowSignal);
      await waitForStatus(client, id, (v) => v.lastRun?.outcome === 'completed' && sleepingAfter(3)(v), 'the reconfiguration, once the fault is gone');
    },
  },
];

async function main(): Promise<void> {
  // Before anything creates the runtime: workers' state changes would drown the summary.
  Runtime.install({ logger: new DefaultLogger('WARN') });
  const env = await TestWorkflowEnvironment.createLocal({ server: { executable: serverExecutable('cli') }, client: { dataConverter } });
  const h = await startHarness({ demo: { seed: 5, accounts: 1, months: 1, receipts: 6 } });
  try {
    const bundle = await bundleWorkflows();
    const forbidden = forbiddenStrings(h);
    const written: Array<{ file: string; events: number }> = [];
    const outputs: Array<{ file: string; json: string }> = [];
    const only = process.argv.slice(2);
    const unknown = only.filter((name) => !scenarios.some((s) => s.name === name));
    if (unknown.length > 0) throw new Error(`unknown scenario(s): ${unknown.join(', ')}`);
    for (const scenario of scenarios.filter((s) => only.length === 0 || only.includes(s.name))) {
      const id = `replay-${scenario.name}`;
      const user = h.newUser(id);
      await h.connect(id, user);
      const taskQueue = `tq-${id}`;
      const worker = await createWorker({ connection: env.nativeConnection, namespace: 'default', taskQueue, deps: h.services.deps, workflowBundle: bundle, dataConverter });
      const started = await startIntegration(env.client, taskQueue, {
        integrationId: id,
        syncFrom: SYNC_FROM,
        timeZone: ZONE,
        settings: { ...settingsFrom(h.config), batchSize: 10, ...scenario.settings },
      });
      await worker.runUntil(() => scenario.drive({ client: env.client, h, id, user }));

      const chain = await executionChain(env.client, started.workflowId, started.firstExecutionRunId, Math.max(...scenario.executions));
      for (const n of scenario.executions) {
        const history = chain[n - 1]!;
        const file = `${scenario.name}-${n}.json`;
        assertClosed(file, history);
        assertNoSecrets(file, history, [...forbidden, ...(await personalData(h, id))]);
        outputs.push({ file, json: `${historyToJSON(history)}\n` });
        written.push({ file, events: history.events?.length ?? 0 });
      }
      await env.client.workflow.getHandle(started.workflowId).terminate('recorded').catch(() => {});
    }
    // Written only once every scenario has been recorded and checked. Other fixtures in the folder
    // (e.g. histories kept from before a patched change) are left alone: they keep being replayed.
    mkdirSync(OUT_DIR, { recursive: true });
    for (const { file, json } of outputs) writeFileSync(`${OUT_DIR}${file}`, json);
    for (const { file, events } of written) console.log(`${file}: ${events} events`);
  } finally {
    await h.close();
    await env.teardown();
  }
}

/** Histories of the first `count` executions of a workflow, following continue-as-new by run id. */
async function executionChain(client: Client, workflowId: string, firstRunId: string, count: number): Promise<History[]> {
  const chain: History[] = [];
  let runId: string | undefined = firstRunId;
  while (chain.length < count) {
    if (!runId) throw new Error(`${workflowId}: execution ${chain.length} did not continue as new`);
    const history = await client.workflow.getHandle(workflowId, runId).fetchHistory();
    chain.push(history);
    runId = history.events?.at(-1)?.workflowExecutionContinuedAsNewEventAttributes?.newExecutionRunId ?? undefined;
  }
  return chain;
}

/** An open execution's last workflow task may be incomplete, and replay does not fail on that task. */
function assertClosed(file: string, history: History): void {
  const last = history.events?.at(-1);
  if (!last?.workflowExecutionContinuedAsNewEventAttributes && !last?.workflowExecutionCompletedEventAttributes) {
    throw new Error(`${file}: the execution is not closed (last event ${String(last?.eventType)})`);
  }
}

function forbiddenStrings(h: Harness): string[] {
  const { QONTO_API_SECRET, MICROSOFT_CLIENT_SECRET, ENCRYPTION_KEY, ADMIN_TOKEN } = h.env;
  return ['Bearer', 'access_token', 'refresh_token', 'accessToken', 'refreshToken', QONTO_API_SECRET!, MICROSOFT_CLIENT_SECRET!, ENCRYPTION_KEY!, ADMIN_TOKEN!];
}

/** Payload data is base64 in the JSON form: the decoded text is searched too. */
function assertNoSecrets(file: string, history: History, forbidden: string[]): void {
  const leaked = leaks(historyToJSON(history), forbidden);
  if (leaked.length > 0) throw new Error(`${file}: the history contains ${leaked.map((s) => JSON.stringify(s)).join(', ')}`);
}

await main();
