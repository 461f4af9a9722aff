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
 * Folders where the installs the README suggests put the binaries, ahead of Python's own scripts
 * folder: the active virtual environment, the project's `.venv`, then pipx's (stock Debian and
 * Ubuntu refuse a system-wide `pip install`, PEP 668, so pipx or a venv is the way there).
 */
export function installDirs(env: Record<string, string | undefined>, cwd: string): string[] {
  const home = env.HOME ?? env.USERPROFILE;
  return [
    ...(env.VIRTUAL_ENV ? [join(env.VIRTUAL_ENV, 'bin')] : []),
    join(cwd, '.venv', 'bin'),
    ...(env.PIPX_BIN_DIR ? [env.PIPX_BIN_DIR] : home ? [join(home, '.local', 'bin')] : []),
  ];
}

/**
 * Absolute path of a Temporal server binary: the env variable, then PATH, then a venv's or pipx's
 * scripts (installDirs), then Python's scripts folder. `undefined` means "let the SDK download it"
 * (needs internet).
 */
export function findTemporalBinary(kind: ServerKind, env: Record<string, string | undefined> = process.env, cwd = process.cwd()): string | undefined {
  const { env: variable, bin } = NAMES[kind];
  const configured = env[variable];
  if (configured) {
    const path = isAbsolute(configured) ? configured : resolve(cwd, configured);
    if (!executable(path)) throw new Error(`${variable}=${configured} is not an executable file`);
    return path;
  }
  const dirs = [...(env.PATH ?? '').split(delimiter).filter(Boolean), ...installDirs(env, cwd)];
  const scripts = pythonScriptsDir();
  if (scripts) dirs.push(scripts);
  for (const dir of dirs) {
    const candidate = resolve(cwd, join(dir, bin));
    if (executable(candidate)) return candidate;
  }
  return undefined;
}

export function serverExecutable(kind: ServerKind, env: Record<string, string | undefined> = process.env) {
  const path = findTemporalBinary(kind, env);
  return path ? ({ type: 'existing-path', path } as const) : ({ type: 'cached-download' } as const);
}
