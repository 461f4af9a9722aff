import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const CHECK = fileURLToPath(new URL('../../scripts/check-node.mjs', import.meta.url));
const check = (...args: string[]) => spawnSync(process.execPath, [CHECK, ...args], { encoding: 'utf8' });

describe('scripts/check-node.mjs (.ci/run)', () => {
  it('admits the Node running the tests and the LTS lines', () => {
    for (const version of [[], ['20.6.0'], ['22.12.0'], ['24.11.1'], ['26.1.0']]) expect(check(...version).status).toBe(0);
  });

  it('refuses a Node outside engines, saying which', () => {
    for (const version of ['18.20.4', '20.5.1', '21.7.3', '23.11.0', '25.2.0', '27.0.0']) {
      const result = check(version);
      expect(result.status).toBe(1);
      expect(result.stderr).toContain(`Node ${version} is not supported`);
    }
  });
});
