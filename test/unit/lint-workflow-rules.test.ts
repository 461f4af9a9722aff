import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ESLint } from 'eslint';
import { beforeAll, describe, expect, it } from 'vitest';

// The project's own eslint.config.js, run through ESLint's Node API on snippets placed (virtually)
// in workflows/: the determinism rules must catch what the sandbox cannot run or replay.
const root = fileURLToPath(new URL('../..', import.meta.url));
const probes = ['workflows/lint-probe.ts', 'src/lint-probe.ts'];

let eslint: ESLint;
beforeAll(() => {
  eslint = new ESLint({
    cwd: root,
    // The probes exist only in memory, so tsconfig.json's program does not hold them: type them
    // with its compiler options instead.
    overrideConfig: {
      languageOptions: {
        parserOptions: { projectService: { allowDefaultProject: probes, defaultProject: 'tsconfig.json' } },
      },
    },
  });
});

async function lint(code: string, path: string): Promise<{ rule: string | null; message: string }[]> {
  const [result] = await eslint.lintText(code, { filePath: join(root, path) });
  return result!.messages.map((m) => ({ rule: m.ruleId, message: m.message }));
}

const violating = `
import { readFileSync } from 'node:fs';
import { createHash } from 'crypto';
import { exportActivities } from '../activities/export.js';
import { loadConfig } from '../src/config.js';
import { sleep } from '@temporalio/workflow';

export async function probe(): Promise<void> {
  setTimeout(() => undefined, 10);
  console.log(process.env.HOME, readFileSync, createHash, exportActivities, loadConfig);
  sleep(1000);
  await fetch('https://example.org');
}
`;

const clean = `
import { log, proxyActivities, sleep } from '@temporalio/workflow';
import type { SyncActivities } from '../activities/index.js';
import { nextLocalTime } from '../src/sync/schedule.js';

const { loadOrganization } = proxyActivities<SyncActivities>({ startToCloseTimeout: '1 minute' });

export async function probe(id: string): Promise<number> {
  await sleep(1000);
  await loadOrganization(id);
  log.info('woke', { at: new Date(Date.now()).toISOString(), jitter: Math.random() });
  return nextLocalTime(Date.now(), 'Europe/Paris', 23, 30);
}
`;

describe('workflow lint rules', () => {
  it('reports Node built-ins, value imports of activities, timers, I/O, Node globals and unawaited workflow calls', async () => {
    const messages = await lint(violating, 'workflows/lint-probe.ts');
    const count = (rule: string) => messages.filter((m) => m.rule === rule).length;
    // node:fs, crypto, a value import of an activity module, a project module outside the workflow bundle.
    expect(count('@typescript-eslint/no-restricted-imports')).toBe(4);
    expect(messages.filter((m) => m.rule === 'no-restricted-globals').map((m) => m.message)).toEqual([
      expect.stringMatching(/^Unexpected use of 'setTimeout'\. Use sleep\(\)/),
      expect.stringMatching(/^Unexpected use of 'console'/),
      expect.stringMatching(/^Unexpected use of 'process'/),
      expect.stringMatching(/^Unexpected use of 'fetch'/),
    ]);
    expect(count('@typescript-eslint/no-floating-promises')).toBe(1);
  }, 120_000);

  it('passes deterministic workflow code that imports activities as types only', async () => {
    expect(await lint(clean, 'workflows/lint-probe.ts')).toEqual([]);
  }, 120_000);

  it('applies the sandbox rules to workflow code only', async () => {
    const rules = new Set((await lint(violating, 'src/lint-probe.ts')).map((m) => m.rule));
    expect(rules.has('@typescript-eslint/no-restricted-imports')).toBe(false);
    expect(rules.has('no-restricted-globals')).toBe(false);
    // Unawaited promises are errors everywhere.
    expect(rules.has('@typescript-eslint/no-floating-promises')).toBe(true);
  }, 120_000);
});
