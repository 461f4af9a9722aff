import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { workerHttp } from '../../src/roles/worker-http.js';

const read = (file: string) => readFileSync(fileURLToPath(new URL(`../../${file}`, import.meta.url)), 'utf8');

/** The rows of README's configuration table: the names of each row (`A`, `B` in its first cell) and its default cell. */
function configurationTable(): { names: string[]; defaultCell: string; meaning: string }[] {
  const readme = read('README.md');
  const start = readme.indexOf('| variable | default | meaning |');
  expect(start).toBeGreaterThan(-1);
  const rows = readme.slice(start).split('\n').slice(2);
  return rows
    .slice(0, rows.findIndex((line) => !line.startsWith('|')))
    .map((line) => {
      const [names = '', defaultCell = '', ...meaning] = line.slice(1, -1).split(' | ');
      return { names: [...names.matchAll(/`([A-Z][A-Z0-9_]*\*?)`/g)].map((m) => m[1]!), defaultCell: defaultCell.trim(), meaning: meaning.join(' | ') };
    });
}

/** `NAME=value` lines of .env.example, set or commented out (`commented`: the line keeps the default). */
function envExample(): Map<string, { value: string; commented: boolean }> {
  return new Map([...read('.env.example').matchAll(/^(# ?)?([A-Z][A-Z0-9_]*)=(\S*)/gm)].map((m) => [m[2]!, { value: m[3]!, commented: m[1] !== undefined }]));
}

/** Settings an operator of the compose does not set in .env: the compose sets them for each service,
 * or only `npm start` on one machine, or the tests, use them. */
const NOT_FOR_COMPOSE = new Set([
  'PORT',
  'DATA_DIR',
  'DATABASE_URL',
  'ROLE',
  'TEMPORAL_PORT',
  'TEMPORAL_UI_PORT',
  'TEMPORAL_CLI_PATH',
  'TEMPORAL_TEST_SERVER_PATH',
  'SANDBOX_PORT_BASE',
]);

describe('the configuration documents agree', () => {
  it('.env.example lists every setting of README\'s configuration table that an operator of the compose sets', () => {
    const listed = envExample();
    const missing = configurationTable()
      .flatMap((row) => row.names)
      .filter((name) => !NOT_FOR_COMPOSE.has(name))
      // A family of names (`TEMPORAL_GRPC_META_*`): one example of it.
      .filter((name) => (name.endsWith('*') ? ![...listed.keys()].some((k) => k.startsWith(name.slice(0, -1))) : !listed.has(name)));
    expect(missing).toEqual([]);
  });

  it('.env.example shows README\'s default on each commented-out line whose default is one value', () => {
    const listed = envExample();
    const differing = configurationTable().flatMap(({ names: [name, ...more], defaultCell }) => {
      const single = /^`([^`]+)`$/.exec(defaultCell)?.[1];
      const line = listed.get(name!);
      if (single === undefined || more.length > 0 || !line?.commented || line.value === single) return [];
      return [`${name}: README ${single}, .env.example ${line.value}`];
    });
    expect(differing).toEqual([]);
  });

  it('README\'s ROLE row names every route a worker serves on PORT', () => {
    const check = () => Promise.resolve();
    const routes = new Set(workerHttp({ store: check, temporal: check, worker: check }).routes.map((r) => r.path));
    const role = configurationTable().find((row) => row.names.includes('ROLE'))!;
    const named = role.meaning.slice(role.meaning.indexOf('`worker`'));
    expect([...routes].filter((path) => path !== '/*' && !named.includes(`\`${path}\``))).toEqual([]);
    expect(routes.size).toBeGreaterThanOrEqual(3);
  });
});
