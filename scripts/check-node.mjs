// `.ci/run`: says which Node runs the checks and fails when package.json's engines do not admit it.
// `node scripts/check-node.mjs [version]` (default: this Node's).
import { readFileSync } from 'node:fs';
import semver from 'semver';

// eslint-disable-next-line @typescript-eslint/no-unsafe-assignment, @typescript-eslint/no-unsafe-member-access -- our own package.json
const range = /** @type {string} */ (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')).engines.node);
const version = process.argv[2] ?? process.version;
if (!semver.satisfies(version, range)) {
  console.error(`Node ${version} is not supported: package.json engines.node is ${range}`);
  process.exit(1);
}
console.log(`Node ${version} (engines.node: ${range})`);
