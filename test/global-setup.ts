import { TestWorkflowEnvironment } from '@temporalio/testing';
import type { TestProject } from 'vitest/node';
import { findTemporalBinary, serverExecutable } from '../src/temporal/binaries.js';
import { startPostgresServer } from './support/postgres-server.js';

declare module 'vitest' {
  export interface ProvidedContext {
    temporalAddress: string;
    /** The run's Postgres server and the name prefix of the databases tests create on it. */
    postgres: { url: string; prefix: string };
  }
}

/**
 * One Temporal CLI dev server for the whole run (suites connect with createFromExistingServer and use
 * their own task queues and workflow ids). The time-skipping server cannot be shared that way, so the
 * workflow suite starts its own, once. Binary paths go to the environment for child processes.
 * One Postgres server too (TEST_DATABASE_URL, else a throwaway cluster): tests create databases on it.
 */
export default async function setup(project: TestProject) {
  for (const [kind, variable] of [
    ['cli', 'TEMPORAL_CLI_PATH'],
    ['test-server', 'TEMPORAL_TEST_SERVER_PATH'],
  ] as const) {
    const path = findTemporalBinary(kind);
    if (path) process.env[variable] = path;
  }
  // Both at once; if one fails to start, the other is stopped before the run fails.
  const [started, temporal] = await Promise.allSettled([
    startPostgresServer(),
    TestWorkflowEnvironment.createLocal({
      server: {
        executable: serverExecutable('cli'),
        extraArgs: ['--dynamic-config-value', 'limit.historyCount.suggestContinueAsNew=200'],
      },
    }),
  ]);
  if (started.status === 'rejected' || temporal.status === 'rejected') {
    if (started.status === 'fulfilled') await started.value.stop();
    if (temporal.status === 'fulfilled') await temporal.value.teardown();
    throw started.status === 'rejected' ? started.reason : (temporal as PromiseRejectedResult).reason;
  }
  const postgres = started.value;
  const env = temporal.value;
  project.provide('postgres', { url: postgres.url, prefix: postgres.prefix });
  project.provide('temporalAddress', env.address);
  return async () => {
    await env.teardown();
    await postgres.stop();
  };
}
