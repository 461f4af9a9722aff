/**
 * `npm run build [-- --out-dir <dir>]`: the production build, in <dir> (default dist/) with the
 * repository's layout, so that `node <dir>/src/main.js` runs without tsx, TypeScript or bundling:
 * 1. tsc compiles src/, activities/ and workflows/ (tsconfig.build.json);
 * 2. the files the code reads at run time next to itself (the pages' assets, the failure converter:
 *    every file of those folders that is not TypeScript) are copied beside the compiled code;
 * 3. the workflow bundle is built once, into <dir>/workflow-bundle.js, where compiled workers read it.
 */
import { execFileSync } from 'node:child_process';
import { cp, mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { bundleWorkflowCode } from '@temporalio/worker';
import { quietBundlerLogger, workflowBundleOptions } from '../src/temporal/bundle-options.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const COMPILED_FOLDERS = ['src', 'activities', 'workflows'];
const { values } = parseArgs({ options: { 'out-dir': { type: 'string', default: 'dist' } } });
const outDir = resolve(values['out-dir']);
// The folder is emptied first: never the checkout itself or a folder around it.
if (!relative(outDir, ROOT).startsWith('..')) throw new Error(`--out-dir ${outDir} contains the project; choose a folder of its own`);

async function* filesUnder(dir: string): AsyncGenerator<string> {
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* filesUnder(path);
    else if (entry.isFile()) yield path;
  }
}

await rm(outDir, { recursive: true, force: true });

const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
execFileSync(process.execPath, [tsc, '-p', join(ROOT, 'tsconfig.build.json'), '--outDir', outDir], { stdio: 'inherit' });

let assets = 0;
for (const folder of COMPILED_FOLDERS) {
  for await (const path of filesUnder(join(ROOT, folder))) {
    if (/\.tsx?$/.test(path)) continue;
    const target = join(outDir, relative(ROOT, path));
    await mkdir(dirname(target), { recursive: true });
    await cp(path, target);
    assets++;
  }
}

const { code } = await bundleWorkflowCode(
  workflowBundleOptions(
    join(ROOT, 'workflows', 'index.ts'),
    quietBundlerLogger(
      (message) => console.warn(message),
      (message) => console.error(message),
    ),
  ),
);
await writeFile(join(outDir, 'workflow-bundle.js'), code);
console.log(`built ${relative(process.cwd(), outDir) || '.'}: compiled code, ${assets} assets, workflow bundle (${Math.round(code.length / 1024)} KiB)`);
