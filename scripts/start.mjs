#!/usr/bin/env node
/**
 * `npm start` (src/main.ts through tsx) and `npm run start:prod` (the compiled dist/src/main.js):
 * runs the entry point given as argument in a child process with the runtime settings the README's
 * benchmark measures memory with. A child, because glibc reads MALLOC_* once when a process starts;
 * a script, because `VAR=… cmd` in package.json needs a POSIX shell (npm runs cmd.exe on Windows).
 * The image sets the same values with ENV (Dockerfile). SIGINT and SIGTERM are passed on; the
 * launcher exits with the child's code.
 */
import { spawn } from 'node:child_process';

/** glibc: one malloc arena, and blocks over 128 KiB mmapped, so that freed buffers go back to the system. */
const RUNTIME_ENV = { MALLOC_ARENA_MAX: '1', MALLOC_MMAP_THRESHOLD_: '131072' };
/**
 * V8, both measured by the benchmarks (README, Benchmark):
 * - an 8 MiB semi-space (young generation): with 1 MiB, more of the objects of requests in flight
 *   outlive two scavenges and are promoted, filling the old generation with garbage (under tsx the
 *   worker also spent more CPU; the compiled worker's runs did not separate the two);
 * - a 1 GiB old-generation ceiling: V8 sizes its heap-growing factor from that ceiling, and on a
 *   host with much memory the default ceiling gives factor 4, so a worker with 80 MB live let its
 *   heap reach 300 MB between two full collections. At 1 GiB the factor is 1.6. The ceiling is far
 *   above what a worker keeps alive at the default cache (README, Fleet: 0.3–0.5 MB per cached
 *   workflow, all in one workflow thread); a much larger cache needs a higher one.
 */
const NODE_FLAGS = '--max-semi-space-size=8 --max-old-space-size=1024';

/**
 * The child's environment: our settings unless the operator set them; their NODE_OPTIONS last, so they win.
 * @param {NodeJS.ProcessEnv} env
 */
function runtimeEnv(env) {
  const nodeOptions = [NODE_FLAGS, env.NODE_OPTIONS].filter(Boolean).join(' ');
  return { ...RUNTIME_ENV, ...env, NODE_OPTIONS: nodeOptions };
}

/**
 * Node's arguments for an entry point: TypeScript sources go through tsx's loader.
 * @param {string} entry
 * @param {string[]} args
 */
function nodeArgs(entry, args) {
  return [...(entry.endsWith('.ts') ? ['--import', 'tsx'] : []), entry, ...args];
}

const [entry, ...args] = process.argv.slice(2);
if (!entry) {
  console.error('usage: node scripts/start.mjs <entry point> [arguments]');
  process.exit(2);
}
const child = spawn(process.execPath, nodeArgs(entry, args), { env: runtimeEnv(process.env), stdio: 'inherit' });
/** @param {NodeJS.Signals} signal */
const forward = (signal) => child.kill(signal);
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, forward);
child.once('error', (error) => {
  console.error(`cannot start ${entry}: ${error.message}`);
  process.exit(1);
});
child.once('exit', (code, signal) => {
  for (const name of ['SIGINT', 'SIGTERM']) process.off(name, forward);
  // Killed by a signal: end the same way, so whoever started us sees it.
  if (signal) process.kill(process.pid, signal);
  else process.exit(code ?? 1);
});
