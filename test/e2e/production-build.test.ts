import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdir, mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from '@temporalio/worker';
import { afterAll, expect, inject, it } from 'vitest';
import { freePortBlock } from '../support/browser.js';
import { dataConverter } from '../support/harness.js';

/**
 * What the image runs: `npm run build`, then the compiled entry point with plain `node` (no tsx
 * loader), in the sandbox. The build goes to a folder inside the checkout, so that the compiled code
 * finds node_modules as dist/ does.
 */
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const cleanup: Array<() => Promise<unknown>> = [];
afterAll(async () => {
  for (const step of cleanup.reverse()) await step();
});

function run(command: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.once('error', reject);
    child.once('exit', (code) => (code === 0 ? resolve(output) : reject(new Error(`${command} ${args.join(' ')} exited ${code}:\n${output}`))));
  });
}

/** Resolves with everything printed so far once `text` appears; rejects when the process exits first. */
function waitForOutput(child: ChildProcess, text: string, output: () => string): Promise<string> {
  return new Promise((resolve, reject) => {
    const check = () => {
      if (output().includes(text)) resolve(output());
    };
    child.stdout!.on('data', check);
    child.once('exit', (code) => reject(new Error(`exited ${code} before "${text}":\n${output()}`)));
  });
}

it('builds dist and runs the compiled entry point with plain node, on the prebuilt workflow bundle', async () => {
  await mkdir(join(ROOT, 'tmp'), { recursive: true });
  const outDir = await mkdtemp(join(ROOT, 'tmp', 'build-'));
  cleanup.push(() => rm(outDir, { recursive: true, force: true }));
  await run('npm', ['run', 'build', '--', '--out-dir', outDir]);

  const dataDir = await mkdtemp(join(tmpdir(), 'production-build-'));
  cleanup.push(() => rm(dataDir, { recursive: true, force: true }));
  const [port, sandboxBase] = [await freePortBlock(), await freePortBlock([0, 10, 20, 21])];
  // Only the machine's environment: none of the operator's settings (credentials, DATABASE_URL) leak in.
  const env = Object.fromEntries(
    Object.entries(process.env).filter(([name]) => !/^(QONTO|MICROSOFT|GRAPH|ADMIN|ENCRYPTION|PAYLOAD|DATABASE|SANDBOX|TEMPORAL|NODE_OPTIONS)/.test(name)),
  );
  const app = spawn(process.execPath, [join(outDir, 'src', 'main.js')], {
    cwd: ROOT,
    env: {
      ...env,
      SANDBOX: 'true',
      SANDBOX_PORT_BASE: String(sandboxBase),
      PORT: String(port),
      PUBLIC_URL: `http://localhost:${port}`,
      DATA_DIR: dataDir,
      TEMPORAL_ADDRESS: inject('temporalAddress'),
      TEMPORAL_TASK_QUEUE: `production-build-${randomUUID()}`,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  app.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  app.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => app.once('exit', (code) => resolve(code)));
  cleanup.push(async () => {
    if (app.exitCode === null && app.signalCode === null) app.kill('SIGKILL');
    await exited;
  });

  const started = await waitForOutput(app, 'Worker polling', () => output);
  const health = await fetch(`http://localhost:${port}/healthz`);
  expect(health.status).toBe(200);
  // The worker read dist's bundle: it did not run webpack, for which it would need the sources and tsx.
  expect(started).toContain('Workflow bundle: prebuilt, not bundling');
  expect(started).toContain(join(outDir, 'workflow-bundle.js'));
  // The pages' assets were copied beside the compiled code.
  const css = await fetch(`http://localhost:${port}/assets/app.css`);
  expect(css.status).toBe(200);
  expect(await css.text()).not.toBe('');

  app.kill('SIGTERM');
  expect(await exited).toBe(0);

  // And that bundle is the workflow code: every recorded history replays on it.
  const code = await readFile(join(outDir, 'workflow-bundle.js'), 'utf8');
  const histories = new URL('../fixtures/histories/', import.meta.url);
  for (const file of (await readdir(histories)).filter((name) => name.endsWith('.json'))) {
    const history: unknown = JSON.parse(await readFile(new URL(file, histories), 'utf8'));
    await expect(Worker.runReplayHistory({ workflowBundle: { code }, dataConverter }, history, file)).resolves.toBeUndefined();
  }
});
