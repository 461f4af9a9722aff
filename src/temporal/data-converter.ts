import { fileURLToPath } from 'node:url';
import type { DataConverter, PayloadCodec } from '@temporalio/common';

/** Encodes failure messages and stack traces as payloads (so the codec encrypts them). */
export const FAILURE_CONVERTER_PATH = fileURLToPath(new URL('./failure-converter.cjs', import.meta.url));

/** For clients, workers and the replayer alike: payloads through the codec, failure messages with them.
 * The workflow bundle is built with the same failure converter (bundle-workflows.ts). */
export function dataConverterFor(codec: PayloadCodec): DataConverter {
  return { payloadCodecs: [codec], failureConverterPath: FAILURE_CONVERTER_PATH };
}
