import { TestWorkflowEnvironment } from '@temporalio/testing';
import type { TestProject } from 'vitest/node';
import { findTemporalBinary, serverExecutable } from '../src/temporal/binaries.js';

declare module 'vitest' {
  export interface ProvidedContext {
    temporalAddress: string;
  }
}

/**
 * One Temporal CLI dev server for the whole run (suites connect with createFromExistingServer and use
 * their own task queues and workflow ids). The time-skipping server cannot be shared that way, so the
 * workflow suite starts its own, once. Binary paths go to the environment for child processes.
 */
export default async function setup(project: TestProject) {
  for (const [kind, variable] of [
    ['cli', 'TEMPORAL_CLI_PATH'],
    ['test-server', 'TEMPORAL_TEST_SERVER_PATH'],
  ] as const) {
    const path = findTemporalBinary(kind);
    if (path) process.env[variable] = path;
  }
  const env = await TestWorkflowEnvironment.createLocal({
    server: {
      executable: serverExecutable('cli'),
      extraArgs: ['--dynamic-config-value', 'limit.historyCount.suggestContinueAsNew=200'],
    },
  });
  project.provide('temporalAddress', env.address);
  return async () => {
    await env.teardown();
  };
}
