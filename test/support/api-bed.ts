import { randomUUID } from 'node:crypto';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import type { Hono } from 'hono';
import { inject } from 'vitest';
import { createApp } from '../../src/api/app.js';
import { apiDeps } from '../../src/api/deps.js';
import { loadConfig, type Config } from '../../src/config.js';
import type { SimulatorsOptions } from '../../src/simulators/index.js';
import { bundleWorkflows, createWorker } from '../../src/temporal/worker.js';
import { dataConverter, startHarness, type Harness, type HarnessOptions } from './harness.js';

export interface ApiBed {
  h: Harness;
  app: Hono;
  client: Client;
  config: Config;
  close(): Promise<void>;
}

/** The API (`app.request()`) over the simulators, with a worker running the real workflow on the run's dev server. */
export async function startApiBed(opts: SimulatorsOptions & Pick<HarnessOptions, 'qontoMode' | 'extraEnv'>): Promise<ApiBed> {
  const h = await startHarness(opts);
  const address = inject('temporalAddress');
  const client = new Client({ connection: await Connection.connect({ address }), dataConverter });
  const nativeConnection = await NativeConnection.connect({ address });
  const taskQueue = `tq-api-${randomUUID().slice(0, 8)}`;
  const worker = await createWorker({ connection: nativeConnection, namespace: 'default', taskQueue, deps: h.services.deps, workflowBundle: await bundleWorkflows(), dataConverter });
  const running = worker.run();
  const config = loadConfig({ ...h.env, TEMPORAL_TASK_QUEUE: taskQueue });
  return {
    h,
    app: createApp(apiDeps(config, h.services, client)),
    client,
    config,
    async close() {
      worker.shutdown();
      await running;
      await nativeConnection.close();
      await client.connection.close();
      await h.close();
    },
  };
}
