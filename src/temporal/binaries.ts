import { execFileSync } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, isAbsolute, join, resolve } from 'node:path';

export type ServerKind = 'cli' | 'test-server';

const NAMES: Record<ServerKind, { env: string; bin: string }> = {
  cli: { env: 'TEMPORAL_CLI_PATH', bin: 'temporal' },
  'test-server': { env: 'TEMPORAL_TEST_SERVER_PATH', bin: 'temporal-test-server' },
};

function executable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** pip may install into Python's scripts folder, which is not always on PATH (pyenv shims). */
function pythonScriptsDir(): string | undefined {
  try {
    const out = execFileSync('python3', ['-c', 'import sysconfig; print(sysconfig.get_path("scripts"))'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
      timeout: 5_000,
    });
    return out.trim() || undefined;
  } catch {
    return undefined;
  }
}

/**
 * Absolute path of a Temporal server binary: the env variable, then PATH, then Python's scripts
 * folder. `undefined` means "let the SDK download it" (needs internet).
 */
export function findTemporalBinary(kind: ServerKind, env: Record<string, string | undefined> = process.env): string | undefined {
  const { env: variable, bin } = NAMES[kind];
  const configured = env[variable];
  if (configured) {
    const path = isAbsolute(configured) ? configured : resolve(configured);
    if (!executable(path)) throw new Error(`${variable}=${configured} is not an executable file`);
    return path;
  }
  const dirs = (env.PATH ?? '').split(delimiter).filter(Boolean);
  const scripts = pythonScriptsDir();
  if (scripts) dirs.push(scripts);
  for (const dir of dirs) {
    const candidate = resolve(join(dir, bin));
    if (executable(candidate)) return candidate;
  }
  return undefined;
}

export function serverExecutable(kind: ServerKind, env: Record<string, string | undefined> = process.env) {
  const path = findTemporalBinary(kind, env);
  return path ? ({ type: 'existing-path', path } as const) : ({ type: 'cached-download' } as const);
}
