import { chmodSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { findTemporalBinary } from '../../src/temporal/binaries.js';

/** A folder with a `temporal` script in `sub` (executable unless said otherwise). */
function install(sub: string, opts: { executable?: boolean; bin?: string } = {}): { root: string; path: string } {
  const root = mkdtempSync(join(tmpdir(), 'temporal-bin-'));
  mkdirSync(join(root, sub), { recursive: true });
  const path = join(root, sub, opts.bin ?? 'temporal');
  writeFileSync(path, '#!/bin/sh\n');
  chmodSync(path, opts.executable === false ? 0o644 : 0o755);
  return { root, path };
}
const nowhere = mkdtempSync(join(tmpdir(), 'cwd-'));

describe('findTemporalBinary', () => {
  it("finds the active virtual environment's script (VIRTUAL_ENV)", () => {
    const venv = install('bin');
    expect(findTemporalBinary('cli', { PATH: '', VIRTUAL_ENV: venv.root }, nowhere)).toBe(venv.path);
  });

  it("finds the project's .venv", () => {
    const project = install('.venv/bin', { bin: 'temporal-test-server' });
    expect(findTemporalBinary('test-server', { PATH: '' }, project.root)).toBe(project.path);
  });

  it("finds pipx's scripts in ~/.local/bin, or in PIPX_BIN_DIR", () => {
    const home = install('.local/bin');
    expect(findTemporalBinary('cli', { PATH: '', HOME: home.root }, nowhere)).toBe(home.path);
    const pipx = install('pipx-bin');
    expect(findTemporalBinary('cli', { PATH: '', HOME: home.root, PIPX_BIN_DIR: join(pipx.root, 'pipx-bin') }, nowhere)).toBe(pipx.path);
  });

  it('prefers TEMPORAL_CLI_PATH, then PATH, and skips a file that is not executable', () => {
    const onPath = install('bin');
    const venv = install('bin');
    const configured = install('x');
    expect(findTemporalBinary('cli', { PATH: join(onPath.root, 'bin'), VIRTUAL_ENV: venv.root, TEMPORAL_CLI_PATH: configured.path }, nowhere)).toBe(configured.path);
    expect(findTemporalBinary('cli', { PATH: join(onPath.root, 'bin'), VIRTUAL_ENV: venv.root }, nowhere)).toBe(onPath.path);
    const notExecutable = install('bin', { executable: false });
    expect(findTemporalBinary('cli', { PATH: join(notExecutable.root, 'bin'), VIRTUAL_ENV: venv.root }, nowhere)).toBe(venv.path);
    expect(() => findTemporalBinary('cli', { TEMPORAL_CLI_PATH: notExecutable.path }, nowhere)).toThrow(/is not an executable file/);
  });
});
