import { readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { DefaultLogger, Runtime, Worker, bundleWorkflowCode, type WorkflowBundle } from '@temporalio/worker';
import { DeterminismViolationError } from '@temporalio/workflow';
import { beforeAll, expect, it } from 'vitest';
import { bundleWorkflows } from '../../src/temporal/worker.js';
import { dataConverter } from '../support/harness.js';

/**
 * Determinism: every recorded history in test/fixtures/histories/ must replay on the current workflow
 * code. A change that makes an existing execution issue different commands (another activity, another
 * order, a timer more or less) without `patched()` fails here instead of breaking running integrations
 * after a deploy.
 *
 * Re-record with `npx tsx scripts/record-histories.ts` (dev server + simulators, ~15 s) after an
 * intentional workflow change guarded by `patched()`, once the old fixtures pass with it: the new files
 * then cover the new code path. Never re-record to turn a failure here green; that hides the very
 * breakage this test exists to catch. To keep covering the old path, keep a copy of an old fixture
 * under another name: every *.json in the folder is replayed.
 *
 * The recordings' payloads are encrypted with the tests' fixed PAYLOAD_KEY (test/support/harness.ts),
 * as production histories are with theirs; `unencrypted-*` are recordings from before payloads were
 * encrypted, which a worker must still replay (the codec lets unencrypted payloads through).
 */

interface JsonHistory {
  events: Array<{ eventType: string }>;
}

const HISTORIES = new URL('../fixtures/histories/', import.meta.url);
const fixtures = readdirSync(HISTORIES)
  .filter((f) => f.endsWith('.json'))
  .sort()
  .map((file) => ({ file, history: JSON.parse(readFileSync(new URL(file, HISTORIES), 'utf8')) as JsonHistory }));

let bundle: WorkflowBundle;
beforeAll(async () => {
  // Replay workers log every start/stop, and the negative test's expected nondeterminism as warnings;
  // a real failure is reported by the error runReplayHistory throws.
  Runtime.install({ logger: new DefaultLogger('ERROR'), telemetryOptions: { logging: { filter: { core: 'ERROR', other: 'ERROR' } } } });
  bundle = await bundleWorkflows();
});

it('has fixtures for every recorded scenario', () => {
  const scenarios = new Set(fixtures.map((f) => f.file.replace(/-\d+\.json$/, '')));
  expect([...scenarios].sort()).toEqual(expect.arrayContaining(['backfill-then-sync-now', 'failed-reconfigure', 'reconfigure', 'reconnect', 'revoke-while-sleeping', 'transactions-changed-before-webhooks', 'webhook-incremental']));
});

it('has the current recordings encrypted: no payload in plaintext', () => {
  const recorded = fixtures.filter((f) => !f.file.startsWith('unencrypted-'));
  expect(recorded.length).toBeGreaterThanOrEqual(6);
  for (const { file, history } of recorded) {
    const encodings = new Set<string>();
    JSON.stringify(history, (key, value: unknown) => {
      // Left as they are by the SDK (not payload data): patch markers and search attributes.
      if (key === 'markerRecordedEventAttributes' || key === 'searchAttributes') return undefined;
      if (key === 'metadata' && value && typeof value === 'object' && 'encoding' in value) encodings.add(Buffer.from(String(value.encoding), 'base64').toString());
      return value;
    });
    expect([...encodings], file).toEqual(['binary/encrypted']);
  }
});

it.each(fixtures)('replays $file on the current workflow code', async ({ file, history }) => {
  // Replay does not fail on a broken last workflow task when that task is incomplete: the fixtures are
  // closed executions, so every task was completed and is checked.
  const types = history.events.map((e) => e.eventType);
  expect(types).toContain('EVENT_TYPE_WORKFLOW_TASK_COMPLETED');
  expect(['EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW', 'EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED']).toContain(types.at(-1));
  await expect(Worker.runReplayHistory({ workflowBundle: bundle, dataConverter }, history, file)).resolves.toBeUndefined();
});

it('fails on a workflow changed without patching', async () => {
  const changed = await bundleWorkflowCode({
    workflowsPath: fileURLToPath(new URL('../fixtures/changed-workflow.ts', import.meta.url)),
    logger: { trace() {}, debug() {}, info() {}, warn() {}, error: console.error, log() {} },
  });
  const errors: Record<string, unknown> = {};
  for (const { file, history } of fixtures) {
    errors[file] = await Worker.runReplayHistory({ workflowBundle: changed, dataConverter }, history, file).then(
      () => null,
      (error: unknown) => error,
    );
  }
  for (const [file, error] of Object.entries(errors)) {
    expect(error, file).toBeInstanceOf(DeterminismViolationError);
  }
});
