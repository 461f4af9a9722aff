/**
 * Child process of workflow-bundle.ts: `node --import tsx bundle-workflows.ts <workflowsPath>
 * <codePath> <manifestPath>`, run with the project root as working directory. Bundles the workflows
 * and records the hash of every file that went into the bundle, so the parent can tell when it is stale.
 */
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { bundleWorkflowCode } from '@temporalio/worker';
import pino from 'pino';
import { createLogger } from '../logger.js';
import { quietBundlerLogger, workflowBundleOptions } from './bundle-options.js';
import { sha256, writeAtomically, type BundleManifest } from './workflow-bundle.js';

const [workflowsPath, codePath, manifestPath] = process.argv.slice(2);
if (!workflowsPath || !codePath || !manifestPath) throw new Error('usage: bundle-workflows.ts <workflowsPath> <codePath> <manifestPath>');

// stderr: the parent reports it when bundling fails.
const log = createLogger({ destination: pino.destination(2) });
const { code } = await bundleWorkflowCode(
  workflowBundleOptions(
    workflowsPath,
    quietBundlerLogger(
      (m) => log.warn(m),
      (m) => log.error(m),
    ),
  ),
);

// webpack (development mode) keys each module by its path relative to the working directory:
// `/***/ "./workflows/integration.ts":`. Those files, and nothing else, make up the bundle.
const inputs: Record<string, string> = {};
for (const [, relative] of code.matchAll(/^\/\*\*\*\/ "(\.\/[^"]+)":?$/gm)) {
  const path = join(process.cwd(), relative!);
  inputs[path] = sha256(await readFile(path));
}
if (Object.keys(inputs).length === 0) throw new Error('no module found in the workflow bundle');
// The bundler's own version decides the code it wraps around the modules.
const bundler = createRequire(import.meta.url).resolve('@temporalio/worker/package.json');
inputs[bundler] = sha256(await readFile(bundler));

await writeAtomically(codePath, code);
await writeAtomically(manifestPath, JSON.stringify({ inputs, codeSha256: sha256(code) } satisfies BundleManifest));
