import { describe, expect, it } from 'vitest';
import { workflowCodeSource } from '../../src/temporal/workflow-code-source.js';

describe('workflowCodeSource', () => {
  it('uses the bundle that npm run build wrote next to the compiled code', () => {
    expect(workflowCodeSource('file:///srv/app/dist/src/temporal/worker.js')).toEqual({
      kind: 'prebuilt',
      bundlePath: '/srv/app/dist/workflow-bundle.js',
    });
  });

  it('bundles the workflow sources when running from source', () => {
    expect(workflowCodeSource('file:///home/me/app/src/temporal/worker.ts')).toEqual({
      kind: 'sources',
      workflowsPath: '/home/me/app/workflows/index.ts',
    });
  });
});
