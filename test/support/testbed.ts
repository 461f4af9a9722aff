import { randomUUID } from 'node:crypto';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import type { WorkflowBundle } from '@temporalio/worker';
import { serverExecutable } from '../../src/temporal/binaries.js';
import { settingsFrom, startIntegration } from '../../src/temporal/integrations.js';
import { bundleWorkflows, createWorker } from '../../src/temporal/worker.js';
import type { IntegrationSettings, IntegrationView } from '../../workflows/state.js';
import { dataConverter, startHarness, type Harness, type HarnessOptions } from './harness.js';
import { waitForStatus } from './workflow.js';

export const ZONE = 'Europe/Paris';
export const SYNC_FROM = '2020-01-01';

export interface StartedIntegration {
  id: string;
  user: ReturnType<Harness['newUser']>;
  handle: Awaited<ReturnType<typeof startIntegration>>;
  /** Runs the test body while this integration's worker polls its own task queue. */
  run<T>(fn: () => Promise<T>): Promise<T>;
  status(done: (v: IntegrationView) => boolean, what: string): Promise<IntegrationView>;
}

/** A time-skipping Temporal test server, the simulators and a workflow bundle, shared by one file. */
export class Testbed {
  private readonly started: string[] = [];
  /** Activities the workers of this file's integrations get in place of the real ones. */
  activities: Record<string, (...args: never[]) => Promise<unknown>> = {};

  private constructor(
    readonly env: TestWorkflowEnvironment,
    readonly h: Harness,
    private readonly bundle: WorkflowBundle,
  ) {}

  /** `time-skipping`: a Java test server of its own. `dev`: the run's shared dev server (a real
   * Temporal server), for behaviour where the test server departs from it. */
  static async create(server: 'time-skipping' | { devServerAddress: string } = 'time-skipping', harness: HarnessOptions = {}): Promise<Testbed> {
    const env =
      server === 'time-skipping'
        ? await TestWorkflowEnvironment.createTimeSkipping({ server: { executable: serverExecutable('test-server') }, client: { dataConverter } })
        : await TestWorkflowEnvironment.createFromExistingServer({ address: server.devServerAddress, client: { dataConverter } });
    const h = await startHarness({ demo: { seed: 11, accounts: 2, months: 3, receipts: 24 }, ...harness });
    return new Testbed(env, h, await bundleWorkflows());
  }

  async start(
    name: string,
    settings: Partial<IntegrationSettings> = {},
    before?: (s: { id: string; user: StartedIntegration['user'] }) => void | Promise<void>,
    syncFrom = SYNC_FROM,
  ): Promise<StartedIntegration> {
    const { env, h } = this;
    const id = `${name}-${randomUUID().slice(0, 8)}`;
    const user = h.newUser(id);
    await h.connect(id, user);
    await before?.({ id, user });
    const taskQueue = `tq-${id}`;
    const worker = await createWorker({
      connection: env.nativeConnection,
      namespace: 'default',
      taskQueue,
      deps: h.services.deps,
      workflowBundle: this.bundle,
      dataConverter,
      activities: this.activities,
    });
    const handle = await startIntegration(env.client, taskQueue, {
      integrationId: id,
      syncFrom,
      timeZone: ZONE,
      // No spread: these tests check the daily run at SYNC_TIME itself (test/workflow/fleet-wave.test.ts checks the spread).
      settings: { ...settingsFrom(h.config), batchSize: 10, syncSpreadMinutes: 0, ...settings },
    });
    this.started.push(handle.workflowId);
    // On the time-skipping server, status is read between workflow tasks only (see WaitOptions).
    const betweenTasks = env.supportsTimeSkipping;
    return { id, user, handle, run: (fn) => worker.runUntil(fn), status: (done, what) => waitForStatus(env.client, id, done, what, undefined, { betweenTasks }) };
  }

  /** Skips time to just after the next daily run is due. */
  async skipToNextRun(view: IntegrationView): Promise<void> {
    const now = await this.env.currentTimeMs();
    await this.env.sleep(Date.parse(view.nextRunAt!) - now + 1_000);
  }

  /** A test's workflow must not keep running into the next test's skipped time. */
  async terminateStarted(): Promise<void> {
    // By id alone: a handle bound to the first run makes the test server wait when that run has
    // continued as new.
    for (const workflowId of this.started.splice(0)) {
      await this.env.client.workflow.getHandle(workflowId).terminate('test over').catch(() => {});
    }
  }

  async close(): Promise<void> {
    await this.h?.close();
    await this.env?.teardown();
  }
}

export const sleepingAfter = (runNumber: number) => (v: IntegrationView) => v.runNumber >= runNumber && v.phase.startsWith('sleeping');

/** The run starts at the timer's task, a few milliseconds after the due time. */
export const toMinute = (iso: string) => iso.slice(0, 16);
