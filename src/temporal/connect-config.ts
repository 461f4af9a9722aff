import { existsSync } from 'node:fs';
import { loadClientConfigProfile, toClientOptions } from '@temporalio/envconfig';
import type { TLSConfig } from '@temporalio/client';
import type { NativeConnectionOptions } from '@temporalio/worker';

/** How to reach an existing Temporal server: the same options for the client's Connection and the
 * worker's NativeConnection. */
export interface TemporalTarget {
  /** Unset when neither the environment nor a chosen profile names a server (ROLE=all then starts
   * the embedded dev server). */
  address: string | undefined;
  namespace: string;
  /** `true`: TLS with the system's roots (an API key alone turns it on, as Temporal Cloud needs). */
  tls?: TLSConfig | boolean;
  apiKey?: string;
  /** gRPC headers (`TEMPORAL_GRPC_META_*`, or the profile's `grpc_meta`). */
  metadata?: NativeConnectionOptions['metadata'];
}

/**
 * The Temporal SDK's own variables, loaded by `@temporalio/envconfig` (the names the Temporal CLI
 * and the other SDKs read too), plus `TEMPORAL_GRPC_META_*`. Listed so the configuration check knows
 * them. The codec entries belong to the CLI's profile format: this service runs its own codec server.
 */
export const TEMPORAL_SDK_SETTINGS = [
  'TEMPORAL_ADDRESS',
  'TEMPORAL_NAMESPACE',
  'TEMPORAL_API_KEY',
  'TEMPORAL_TLS',
  'TEMPORAL_TLS_CLIENT_CERT_PATH',
  'TEMPORAL_TLS_CLIENT_CERT_DATA',
  'TEMPORAL_TLS_CLIENT_KEY_PATH',
  'TEMPORAL_TLS_CLIENT_KEY_DATA',
  'TEMPORAL_TLS_SERVER_CA_CERT_PATH',
  'TEMPORAL_TLS_SERVER_CA_CERT_DATA',
  'TEMPORAL_TLS_SERVER_NAME',
  'TEMPORAL_TLS_DISABLE_HOST_VERIFICATION',
  'TEMPORAL_CODEC_ENDPOINT',
  'TEMPORAL_CODEC_AUTH',
  'TEMPORAL_PROFILE',
  'TEMPORAL_CONFIG_FILE',
] as const;
export const TEMPORAL_GRPC_META_PREFIX = 'TEMPORAL_GRPC_META_';

/**
 * Resolves the connection through `@temporalio/envconfig`: a profile of a TOML file, overridden by
 * the environment. The file is read only when TEMPORAL_CONFIG_FILE or TEMPORAL_PROFILE asks for it:
 * a profile the Temporal CLI left in the home directory must not turn `npm start` away from its
 * embedded dev server. Reads the certificate files; throws an Error that names what is wrong.
 */
export function temporalTarget(env: Record<string, string | undefined>): TemporalTarget {
  // Empty values count as unset, as for every other setting.
  const vars = Object.fromEntries(Object.entries(env).filter((entry): entry is [string, string] => Boolean(entry[1]?.trim())));
  const file = vars.TEMPORAL_CONFIG_FILE;
  // The SDK takes a missing file for an empty one; a path someone wrote down should exist.
  if (file && !existsSync(file)) throw new Error(`TEMPORAL_CONFIG_FILE: no file at ${file}`);
  if (vars.TEMPORAL_TLS_DISABLE_HOST_VERIFICATION && ['1', 'true'].includes(vars.TEMPORAL_TLS_DISABLE_HOST_VERIFICATION)) {
    // The TypeScript SDK has no such switch: refuse rather than verify while the operator thinks not.
    throw new Error('TEMPORAL_TLS_DISABLE_HOST_VERIFICATION is not supported by the TypeScript SDK: give the server CA (TEMPORAL_TLS_SERVER_CA_CERT_PATH) and TEMPORAL_TLS_SERVER_NAME instead');
  }
  const profile = loadClientConfigProfile({ overrideEnvVars: vars, disableFile: !(file || vars.TEMPORAL_PROFILE) });
  const { namespace, connectionOptions } = toClientOptions(profile);
  const { address, tls, apiKey, metadata } = connectionOptions;
  return {
    address: address || undefined,
    namespace: namespace || 'default',
    ...(tls != null ? { tls } : {}),
    ...(apiKey ? { apiKey } : {}),
    ...(metadata && Object.keys(metadata).length > 0 ? { metadata } : {}),
  };
}
