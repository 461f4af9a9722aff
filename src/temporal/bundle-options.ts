import type { BundleOptions } from '@temporalio/worker';
import { FAILURE_CONVERTER_PATH } from './data-converter.js';

/** webpack's chatter stays quiet; only its warnings and errors are told, to `warn` and `error`. */
export function quietBundlerLogger(warn: (message: string) => void, error: (message: string) => void): NonNullable<BundleOptions['logger']> {
  const quiet = () => {};
  return { trace: quiet, debug: quiet, info: quiet, log: quiet, warn, error };
}

/** How the workflows are bundled: the same for a bundle built on demand from the sources
 * (bundle-workflows.ts) and for the one `npm run build` prebuilds (scripts/build.ts). */
export function workflowBundleOptions(workflowsPath: string, logger: NonNullable<BundleOptions['logger']>): BundleOptions {
  return {
    workflowsPath,
    // Failures raised in workflow code are encoded as the worker and the client encode them.
    failureConverterPath: FAILURE_CONVERTER_PATH,
    logger,
  };
}
