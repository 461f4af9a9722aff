import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { temporalTarget } from '../../src/temporal/connect-config.js';
import { connectionOptions } from '../../src/temporal/connect.js';

const dir = mkdtempSync(join(tmpdir(), 'temporal-tls-'));
const file = (name: string, content: string) => {
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
};
const bytes = (text: string) => new Uint8Array(Buffer.from(text));

describe('temporalTarget (the options of every Temporal connection)', () => {
  it('is the embedded dev server (no address) and plain text without settings', () => {
    expect(temporalTarget({})).toEqual({ address: undefined, namespace: 'default' });
    // A stray profile in the home directory is not read unless asked for.
    expect(temporalTarget({ HOME: dir, XDG_CONFIG_HOME: dir })).toEqual({ address: undefined, namespace: 'default' });
  });

  it('turns TLS on with an API key (Temporal Cloud)', () => {
    expect(temporalTarget({ TEMPORAL_ADDRESS: 'acme.a1b2c.tmprl.cloud:7233', TEMPORAL_NAMESPACE: 'acme.a1b2c', TEMPORAL_API_KEY: 'secret-key' })).toEqual({
      address: 'acme.a1b2c.tmprl.cloud:7233',
      namespace: 'acme.a1b2c',
      apiKey: 'secret-key',
      tls: true,
    });
  });

  it('reads the client certificate, key and server CA files and the server name (mTLS)', () => {
    const target = temporalTarget({
      TEMPORAL_ADDRESS: 'temporal.internal:7233',
      TEMPORAL_TLS_CLIENT_CERT_PATH: file('client.pem', 'CERT'),
      TEMPORAL_TLS_CLIENT_KEY_PATH: file('client.key', 'KEY'),
      TEMPORAL_TLS_SERVER_CA_CERT_PATH: file('ca.pem', 'CA'),
      TEMPORAL_TLS_SERVER_NAME: 'frontend.temporal.internal',
    });
    expect(target.address).toBe('temporal.internal:7233');
    expect(target.tls).toEqual({ serverNameOverride: 'frontend.temporal.internal', serverRootCACertificate: bytes('CA'), clientCertPair: { crt: bytes('CERT'), key: bytes('KEY') } });
    expect(target.apiKey).toBeUndefined();
  });

  it('lets TEMPORAL_TLS=false turn TLS off, even with an API key', () => {
    expect(temporalTarget({ TEMPORAL_ADDRESS: 'h:7233', TEMPORAL_API_KEY: 'k', TEMPORAL_TLS: 'false' }).tls).toBe(false);
  });

  it('takes a profile of TEMPORAL_CONFIG_FILE, the environment overriding it, and gRPC metadata', () => {
    const toml = file('temporal.toml', ['[profile.cloud]', 'address = "acme.tmprl.cloud:7233"', 'namespace = "acme"', 'api_key = "from-file"', '[profile.cloud.grpc_meta]', 'x-team = "ops"'].join('\n'));
    expect(temporalTarget({ TEMPORAL_CONFIG_FILE: toml, TEMPORAL_PROFILE: 'cloud', TEMPORAL_API_KEY: 'from-env' })).toEqual({
      address: 'acme.tmprl.cloud:7233',
      namespace: 'acme',
      apiKey: 'from-env',
      tls: true,
      metadata: { 'x-team': 'ops' },
    });
  });

  it('names a missing file rather than connecting without it', () => {
    expect(() => temporalTarget({ TEMPORAL_CONFIG_FILE: join(dir, 'nope.toml') })).toThrow(/TEMPORAL_CONFIG_FILE: no file at/);
    expect(() => temporalTarget({ TEMPORAL_ADDRESS: 'h:7233', TEMPORAL_TLS_CLIENT_CERT_PATH: join(dir, 'nope.pem'), TEMPORAL_TLS_CLIENT_KEY_PATH: join(dir, 'nope.key') })).toThrow(/ENOENT.*nope/);
    expect(() => temporalTarget({ TEMPORAL_TLS_DISABLE_HOST_VERIFICATION: 'true' })).toThrow(/not supported by the TypeScript SDK/);
  });

  it('hands TLS, the API key and the metadata to the connections, at the address they connect to', () => {
    const target = temporalTarget({ TEMPORAL_ADDRESS: 'acme.tmprl.cloud:7233', TEMPORAL_API_KEY: 'secret-key', TEMPORAL_GRPC_META_X_TEAM: 'ops' });
    expect(connectionOptions(target, target.address!)).toEqual({ address: 'acme.tmprl.cloud:7233', tls: true, apiKey: 'secret-key', metadata: { 'x-team': 'ops' } });
    // The embedded dev server: plain text at its own address.
    expect(connectionOptions(temporalTarget({}), '127.0.0.1:7233')).toEqual({ address: '127.0.0.1:7233' });
  });
});
