import { loadConfig, type Config } from './config.js';

/**
 * Whether the codec server may answer without credentials, so that the embedded Temporal UI of
 * `npm start` decodes the sandbox's histories out of the box (the UI sends no credentials unless
 * its user turns on "Include cross-origin credentials", and the dev server has no flag for that).
 *
 * An open codec is a decryption oracle for every key it holds, so it is opened only when nothing it
 * can decrypt is real: the sandbox, as the operator configured it (before the simulators' settings
 * replace theirs), with no Qonto or Microsoft credential and no Qonto/Microsoft address of its own,
 * its histories on the embedded dev server in DATA_DIR (not a TEMPORAL_ADDRESS that other
 * deployments may share) and its payload key generated in DATA_DIR (not an ENCRYPTION_KEY or
 * PAYLOAD_KEY that may be a real deployment's). Anything else keeps the codec behind ADMIN_TOKEN.
 */
export function openCodecInSandbox(operator: Config): boolean {
  const defaults = loadConfig({});
  const untouched = (['QONTO_API_URL', 'QONTO_OAUTH_URL', 'MICROSOFT_LOGIN_URL', 'GRAPH_URL'] as const).every((name) => operator[name] === defaults[name]);
  const credentials = [operator.QONTO_API_LOGIN, operator.QONTO_CLIENT_ID, operator.QONTO_STAGING_TOKEN, operator.MICROSOFT_CLIENT_ID];
  return (
    operator.sandbox &&
    operator.qontoMode === 'none' &&
    credentials.every((v) => v === undefined) &&
    untouched &&
    operator.TEMPORAL_ADDRESS === undefined &&
    operator.ENCRYPTION_KEY === undefined &&
    operator.PAYLOAD_KEY === undefined
  );
}
