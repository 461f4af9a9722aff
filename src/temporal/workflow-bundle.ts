/**
 * The workflow bundle, built once and kept on disk. Bundling runs webpack: seconds of CPU and some
 * 150 MB that a process never gives back. It runs in a short-lived child process, so a worker never
 * holds webpack's memory, and its result is reused for as long as every file it was built from is
 * unchanged (their hashes are recorded with it). A clean checkout builds it on first start.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const PROJECT_ROOT = fileURLToPath(new URL('../../', import.meta.url));
const BUILDER = fileURLToPath(new URL('./bundle-workflows.ts', import.meta.url));

/** What a bundle was built from: the hash of each input file (absolute path) and of the bundle itself. */
export interface BundleManifest {
  inputs: Record<string, string>;
  codeSha256: string;
}

export const sha256 = (data: string | Buffer): string => createHash('sha256').update(data).digest('hex');

/** Where the bundle of `workflowsPath` is kept: node_modules/.cache (per checkout), else the temp dir. */
export async function bundleCacheFiles(workflowsPath: string): Promise<{ codePath: string; manifestPath: string }> {
  const name = `workflows-${sha256(resolve(workflowsPath)).slice(0, 12)}`;
  for (const dir of [join(PROJECT_ROOT, 'node_modules', '.cache', 'qonto-onedrive-sync'), join(tmpdir(), 'qonto-onedrive-sync')]) {
    try {
      await mkdir(dir, { recursive: true });
      return { codePath: join(dir, `${name}.js`), manifestPath: join(dir, `${name}.json`) };
    } catch {
      // not writable: try the next place
    }
  }
  throw new Error('no writable directory for the workflow bundle');
}

/** The bundle's code when it is still what bundling the current sources would give, else null. */
async function freshCode(codePath: string, manifestPath: string): Promise<string | null> {
  try {
    const manifest = JSON.parse(await readFile(manifestPath, 'utf8')) as BundleManifest;
    const code = await readFile(codePath, 'utf8');
    if (sha256(code) !== manifest.codeSha256 || Object.keys(manifest.inputs).length === 0) return null;
    for (const [path, hash] of Object.entries(manifest.inputs)) {
      if (sha256(await readFile(path)) !== hash) return null;
    }
    return code;
  } catch {
    return null;
  }
}

/** Workflow code for `Worker.create({ workflowBundle })`: from the cache, or bundled in a child process. */
export async function loadWorkflowBundle(workflowsPath: string): Promise<{ code: string }> {
  const { codePath, manifestPath } = await bundleCacheFiles(workflowsPath);
  const cached = await freshCode(codePath, manifestPath);
  if (cached !== null) return { code: cached };
  await buildInChild(workflowsPath, codePath, manifestPath);
  const built = await freshCode(codePath, manifestPath);
  if (built === null) throw new Error(`the workflow bundle in ${codePath} does not match its sources`);
  return { code: built };
}

function buildInChild(workflowsPath: string, codePath: string, manifestPath: string): Promise<void> {
  return new Promise((done, fail) => {
    // cwd = the project root: webpack names modules relative to it, which is how inputs are found.
    const child = spawn(process.execPath, ['--import', 'tsx', BUILDER, workflowsPath, codePath, manifestPath], {
      cwd: PROJECT_ROOT,
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let errors = '';
    child.stderr.on('data', (chunk: Buffer) => (errors += chunk.toString()));
    child.once('error', fail);
    child.once('exit', (code) => (code === 0 ? done() : fail(new Error(`bundling the workflows failed (exit ${code}):\n${errors}`))));
  });
}

/** Writes through a temporary file and a rename, so a concurrent reader never sees half a file. */
export async function writeAtomically(path: string, data: string): Promise<void> {
  const temporary = `${path}.${process.pid}.tmp`;
  await writeFile(temporary, data);
  await rename(temporary, path);
}
