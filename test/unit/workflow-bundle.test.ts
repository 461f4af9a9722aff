import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { PROJECT_ROOT, bundleCacheFiles, loadWorkflowBundle } from '../../src/temporal/workflow-bundle.js';

// Inside the project, so the workflow resolves @temporalio/workflow like the real ones do.
const dir = mkdtempSync(join(PROJECT_ROOT, 'test', '.bundle-test-'));
const workflowsPath = join(dir, 'workflows.ts');
const helperPath = join(dir, 'helper.ts');

afterAll(async () => {
  rmSync(dir, { recursive: true, force: true });
  for (const file of Object.values(await bundleCacheFiles(workflowsPath))) rmSync(file, { force: true });
});

const writeWorkflow = (marker: string) =>
  writeFileSync(
    workflowsPath,
    `import { sleep } from '@temporalio/workflow';\nimport { label } from './helper.js';\nexport async function probe(): Promise<string> { await sleep(1); return label + '${marker}'; }\n`,
  );

describe('loadWorkflowBundle', () => {
  it('bundles in a child process once, reuses the bundle while its sources are unchanged, rebuilds when one changes', async () => {
    writeFileSync(helperPath, `export const label = 'helper-one:';\n`);
    writeWorkflow('first-version');
    const first = await loadWorkflowBundle(workflowsPath);
    expect(first.code).toContain('first-version');
    expect(first.code).toContain('helper-one:');

    // Unchanged sources: the same code, without running webpack again (fast).
    const started = performance.now();
    const again = await loadWorkflowBundle(workflowsPath);
    expect(again.code).toBe(first.code);
    expect(performance.now() - started).toBeLessThan(500);

    // A change in a file the workflow imports is noticed, not only in the entry file.
    writeFileSync(helperPath, `export const label = 'helper-two:';\n`);
    const rebuilt = await loadWorkflowBundle(workflowsPath);
    expect(rebuilt.code).toContain('helper-two:');
    expect(rebuilt.code).not.toContain('helper-one:');

    writeWorkflow('second-version');
    const entryChanged = await loadWorkflowBundle(workflowsPath);
    expect(entryChanged.code).toContain('second-version');
  });
});
