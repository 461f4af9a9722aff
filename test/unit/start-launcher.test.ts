import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';

/** scripts/start.mjs, what `npm start` and `npm run start:prod` run, started as they start it. */
const LAUNCHER = fileURLToPath(new URL('../../scripts/start.mjs', import.meta.url));
const CHILD = fileURLToPath(new URL('../fixtures/launcher-child.mjs', import.meta.url));

const started: ChildProcess[] = [];
// A launcher that failed to pass a signal on leaves its child running: end its whole process group.
afterEach(() => {
  for (const { pid } of started.splice(0)) {
    try {
      process.kill(-pid!, 'SIGKILL');
    } catch {
      // already gone
    }
  }
});

function launch(args: string[], env: Record<string, string | undefined> = {}) {
  const child = spawn(process.execPath, [LAUNCHER, CHILD, ...args], {
    env: { ...process.env, MALLOC_ARENA_MAX: undefined, MALLOC_MMAP_THRESHOLD_: undefined, NODE_OPTIONS: undefined, ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
    // Its own process group, so that the clean-up above reaches the entry point too.
    detached: true,
  });
  started.push(child);
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const printed = (text: string) =>
    new Promise<void>((resolve) => {
      const check = () => output.includes(text) && resolve();
      check();
      child.stdout.on('data', check);
    });
  return { child, exited, printed, output: () => output, started: () => JSON.parse(output.split('\n')[0]!) };
}

describe('scripts/start.mjs', () => {
  it('starts the entry point with the runtime memory settings and its arguments, and exits with its code', async () => {
    const run = launch(['3']);
    expect(await run.exited).toBe(3);
    expect(run.started()).toMatchObject({
      MALLOC_ARENA_MAX: '1',
      MALLOC_MMAP_THRESHOLD_: '131072',
      NODE_OPTIONS: '--max-semi-space-size=8 --max-old-space-size=1024',
      heapLimitMiB: 1024 + 3 * 8,
      args: ['3'],
    });
  });

  it('gives the entry point the same runtime settings as the image and the benchmarks', async () => {
    const run = launch(['0']);
    expect(await run.exited).toBe(0);
    const dockerfile = readFileSync(new URL('../../Dockerfile', import.meta.url), 'utf8');
    const image = (name: string) => [...dockerfile.matchAll(/\s(\w+)=("[^"]*"|\S+)/g)].find((m) => m[1] === name)?.[2]?.replace(/^"|"$/g, '');
    const { args: _args, heapLimitMiB: _heap, ...settings } = run.started() as Record<string, unknown>;
    for (const [name, value] of Object.entries(settings)) expect({ name, value: image(name) }).toEqual({ name, value });
    // The benchmarks measure the worker with the same settings (bench/archive.ts, WORKER_RUNTIME).
    const bench = readFileSync(new URL('../../bench/archive.ts', import.meta.url), 'utf8');
    const benched = (name: string) => new RegExp(`${name}: '([^']*)'`).exec(bench)?.[1];
    for (const [name, value] of Object.entries(settings)) expect({ name, value: benched(name) }).toEqual({ name, value });
  });

  it("keeps the operator's own values, their NODE_OPTIONS after ours", async () => {
    const run = launch(['0'], { MALLOC_ARENA_MAX: '2', NODE_OPTIONS: '--max-old-space-size=512' });
    expect(await run.exited).toBe(0);
    expect(run.started()).toMatchObject({ MALLOC_ARENA_MAX: '2', NODE_OPTIONS: '--max-semi-space-size=8 --max-old-space-size=1024 --max-old-space-size=512' });
    // V8 takes the last of the two ceilings: the operator's (plus the young generation, 3 × 8 MiB).
    expect((run.started() as { heapLimitMiB: number }).heapLimitMiB).toBe(512 + 3 * 8);
  });

  it('passes SIGTERM on to the entry point and exits as it does', async () => {
    const run = launch(['wait']);
    await run.printed('"args":["wait"]');
    run.child.kill('SIGTERM');
    expect(await run.exited).toBe(0);
    expect(run.output()).toContain('stopping on SIGTERM');
  });
});
