import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const MAIN = fileURLToPath(new URL('../../src/main.ts', import.meta.url));

export interface WorkerProcess {
  child: ChildProcess;
  output(): string;
  /** Resolves with the exit code (null when a signal ended it). */
  exited: Promise<number | null>;
  /** SIGKILL: no shutdown, no cleanup, in-flight activities simply vanish. */
  kill(): Promise<void>;
  stop(): Promise<void>;
}

/** How a product process ended. */
export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** One OS process of the real entry point (`src/main.ts`, what `npm start` runs), started at once. */
export interface ProductProcess {
  child: ChildProcess;
  /** Its stdout and stderr so far (JSON log lines). */
  output(): string;
  /** Settles when the process has exited, however. */
  exited: Promise<Exit>;
  /** Resolves once `GET /healthz` on `port` answers 200; rejects when the process exits first or at the deadline. */
  healthy(port: number, timeoutMs?: number): Promise<void>;
  /** SIGKILL: no shutdown, no cleanup, in-flight activities simply vanish. */
  kill(): Promise<Exit>;
  /** SIGTERM, then the exit (no deadline here: the caller judges the time it took). */
  terminate(): Promise<Exit>;
}

export function spawnProduct(env: Record<string, string>): ProductProcess {
  const child = spawn(process.execPath, productArgs(env), {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<Exit>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  const gone = () => child.exitCode !== null || child.signalCode !== null;
  return {
    child,
    output: () => output,
    exited,
    async healthy(port, timeoutMs = 180_000) {
      const deadline = Date.now() + timeoutMs;
      let ended = false;
      void exited.then(() => (ended = true));
      for (;;) {
        if (ended) throw new Error(`process exited before it was healthy:\n${output}`);
        const ok = await fetch(`http://127.0.0.1:${port}/healthz`, { signal: AbortSignal.timeout(5_000) }).then(
          (res) => res.ok,
          () => false,
        );
        if (ok) return;
        if (Date.now() > deadline) throw new Error(`GET /healthz on ${port} did not answer within ${timeoutMs} ms:\n${output}`);
        await new Promise((r) => setTimeout(r, 200));
      }
    },
    async kill() {
      if (!gone()) child.kill('SIGKILL');
      return exited;
    },
    async terminate() {
      if (!gone()) child.kill('SIGTERM');
      return exited;
    },
  };
}

/** Node's arguments for the product: `src/main.ts` through tsx, or with BENCH_WORKER_DIST=1 the compiled
 * `dist/src/main.js` (`npm run build`, what `npm run start:prod` and the image run); flags Node refuses
 * in NODE_OPTIONS (--cpu-prof) first, from BENCH_WORKER_EXEC_ARGV. */
function productArgs(env: Record<string, string>): string[] {
  const execArgv = (env.BENCH_WORKER_EXEC_ARGV ?? '').split(' ').filter(Boolean);
  const entry = env.BENCH_WORKER_DIST === '1' ? [fileURLToPath(new URL('../../dist/src/main.js', import.meta.url))] : ['--import', 'tsx', MAIN];
  return [...execArgv, ...entry];
}

/** Runs the product's worker (`src/main.ts`, what `npm start` runs) as a separate OS process and waits
 * until it polls its task queue. */
export function startWorkerProcess(env: Record<string, string>, timeoutMs = 60_000): Promise<WorkerProcess> {
  return startProductProcess(env, 'Worker polling', timeoutMs);
}

/** Runs `src/main.ts` as a separate OS process and waits until its output shows `readyLine`. */
export async function startProductProcess(env: Record<string, string>, readyLine: string, timeoutMs = 60_000): Promise<WorkerProcess> {
  const child = spawn(process.execPath, productArgs(env), {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the process did not start:\n${output}`)), timeoutMs);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes(readyLine)) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the process exited with ${code}:\n${output}`));
    });
  });
  return {
    child,
    output: () => output,
    exited,
    async kill() {
      child.kill('SIGKILL');
      await exited;
    },
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      await exited;
    },
  };
}
