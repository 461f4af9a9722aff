import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { openCodecInSandbox } from '../../src/sandbox-codec.js';

const key = 'ab'.repeat(32);

describe('openCodecInSandbox', () => {
  it('opens the codec for the sandbox of `npm start` with no settings', () => {
    expect(openCodecInSandbox(loadConfig({}))).toBe(true);
    expect(openCodecInSandbox(loadConfig({ SANDBOX: 'true', PORT: '3100', ADMIN_TOKEN: 'a'.repeat(32) }))).toBe(true);
  });

  it('keeps it closed outside the sandbox', () => {
    expect(openCodecInSandbox(loadConfig({ SANDBOX: 'false' }))).toBe(false);
    expect(openCodecInSandbox(loadConfig({ QONTO_CLIENT_ID: 'id', QONTO_CLIENT_SECRET: 's' }))).toBe(false);
  });

  it('keeps it closed when SANDBOX=true meets anything that may be real', () => {
    for (const env of [
      { QONTO_CLIENT_ID: 'id', QONTO_CLIENT_SECRET: 's' },
      { QONTO_API_LOGIN: 'acme-1', QONTO_API_SECRET: 's', ADMIN_TOKEN: 'a'.repeat(32) },
      { MICROSOFT_CLIENT_ID: 'id', MICROSOFT_CLIENT_SECRET: 's' },
      { QONTO_STAGING_TOKEN: 'staging' },
      { QONTO_API_URL: 'https://thirdparty-sandbox.staging.qonto.co' },
      { GRAPH_URL: 'http://127.0.0.1:9999/v1.0' },
      { TEMPORAL_ADDRESS: 'temporal.internal:7233' },
      { ENCRYPTION_KEY: key },
      { PAYLOAD_KEY: key },
    ]) {
      const config = loadConfig({ ...env, SANDBOX: 'true' });
      expect(config.sandbox).toBe(true);
      expect(openCodecInSandbox(config), JSON.stringify(env)).toBe(false);
    }
  });
});
