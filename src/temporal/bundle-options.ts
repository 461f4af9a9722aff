import type { BundleOptions } from '@temporalio/worker';
import { FAILURE_CONVERTER_PATH } from './data-converter.js';

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
