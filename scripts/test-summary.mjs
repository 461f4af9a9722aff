// Prints one closing line for CI, "tests: N passed, N failed, N skipped", from vitest JSON reports:
// CI tooling recognises that plain line, not vitest's own coloured summary.
import { readFileSync } from 'node:fs';

/** @param {unknown} report @param {string} field */
const count = (report, field) => Number(/** @type {Record<string, unknown>} */ (report)[field] ?? 0);

let passed = 0;
let failed = 0;
let skipped = 0;
for (const file of process.argv.slice(2)) {
  const report = /** @type {unknown} */ (JSON.parse(readFileSync(file, 'utf8')));
  passed += count(report, 'numPassedTests');
  failed += count(report, 'numFailedTests');
  skipped += count(report, 'numPendingTests') + count(report, 'numTodoTests');
}
console.log(`tests: ${passed} passed, ${failed} failed, ${skipped} skipped`);
if (passed === 0 || failed > 0) process.exitCode = 1;
