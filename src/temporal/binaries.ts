import { execFileSync } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { homedir } from 'node:os';
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
function pythonScriptsDir(env: Record<string, string | undefined>): string | undefined {
  try {
    const out = execFileSync('python3', ['-c', 'import sysconfig; print(sysconfig.get_path("scripts"))'], {
      env,
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
 * Where Debian 12 and Ubuntu 24.04 users get the binaries, since their system Python refuses `pip
 * install` (PEP 668): pipx's folder (not on PATH until `pipx ensurepath` and a new login) and the
 * active virtual environment.
 */
function pipxAndVenvDirs(env: Record<string, string | undefined>): string[] {
  return [
    env.PIPX_BIN_DIR || join(env.HOME || homedir(), '.local', 'bin'),
    ...(env.VIRTUAL_ENV ? [join(env.VIRTUAL_ENV, process.platform === 'win32' ? 'Scripts' : 'bin')] : []),
  ];
}

/**
 * Absolute path of a Temporal server binary: the env variable, then PATH, then Python's scripts
 * folder, then pipx's and the virtual environment's. `undefined` means "let the SDK download it"
 * (needs internet).
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
  const scripts = pythonScriptsDir(env);
  if (scripts) dirs.push(scripts);
  dirs.push(...pipxAndVenvDirs(env));
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
