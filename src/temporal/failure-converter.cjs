// Failure messages and stack traces go into an encoded payload, so the payload codec encrypts them
// too (an upload's error names the receipt's file). CommonJS because the SDK loads it with require()
// (client and worker) and webpack bundles it into the workflow code.
const { DefaultFailureConverter } = require('@temporalio/common');

exports.failureConverter = new DefaultFailureConverter({ encodeCommonAttributes: true });
