import { fileURLToPath } from 'node:url';

/** Where a process gets its workflow code. */
export type WorkflowCodeSource = { kind: 'prebuilt'; bundlePath: string } | { kind: 'sources'; workflowsPath: string };

/**
 * Decided by the module that asks (`import.meta.url` of src/temporal/worker.ts, or of its compiled
 * dist/src/temporal/worker.js): compiled code uses the bundle `npm run build` wrote next to it
 * (dist/workflow-bundle.js), since bundling needs the TypeScript sources and tsx, which a production
 * install has neither of; from source, the workflows are bundled (and cached) on demand.
 */
export function workflowCodeSource(moduleUrl: string): WorkflowCodeSource {
  const root = new URL('../../', moduleUrl);
  return new URL(moduleUrl).pathname.endsWith('.js')
    ? { kind: 'prebuilt', bundlePath: fileURLToPath(new URL('workflow-bundle.js', root)) }
    : { kind: 'sources', workflowsPath: fileURLToPath(new URL('workflows/index.ts', root)) };
}
