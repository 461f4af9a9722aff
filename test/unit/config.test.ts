import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.js';


/** What the processes of a split deployment share: one Postgres store, one key. */
const SHARED_STORE = { DATABASE_URL: 'postgres://receipts@db:5432/receipts', ENCRYPTION_KEY: Buffer.alloc(32, 3).toString('base64') };

describe('loadConfig', () => {
  it('applies the documented defaults and turns the sandbox on without credentials', () => {
    const c = loadConfig({});
    expect(c.PORT).toBe(3000);
    expect(c.PUBLIC_URL).toBe('http://localhost:3000');
    expect(c.SYNC_TIME).toBe('23:30');
    expect(c.DEFAULT_TIME_ZONE).toBe('Europe/Paris');
    expect(c.TEMPORAL_NAMESPACE).toBe('default');
    expect(c.GRAPH_URL).toBe('https://graph.microsoft.com/v1.0');
    expect(c.sandbox).toBe(true);
    expect(c.qontoMode).toBe('none');
  });

  it('lists every problem at once', () => {
    let error: unknown;
    try {
      loadConfig({ PORT: 'eighty', SYNC_TIME: '25:00', DEFAULT_TIME_ZONE: 'Mars/Olympus', GRAPH_URL: 'ftp://x' });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const problems = (error as ConfigError).problems.join('\n');
    for (const name of ['PORT', 'SYNC_TIME', 'DEFAULT_TIME_ZONE', 'GRAPH_URL']) expect(problems).toContain(name);
  });

  it('requires credentials in pairs and an admin token in API-key mode', () => {
    expect(() => loadConfig({ QONTO_API_LOGIN: 'acme-1' })).toThrow(/QONTO_API_LOGIN and QONTO_API_SECRET/);
    expect(() => loadConfig({ QONTO_API_LOGIN: 'acme-1', QONTO_API_SECRET: 's' })).toThrow(/ADMIN_TOKEN/);
    const c = loadConfig({
      QONTO_API_LOGIN: 'acme-1',
      QONTO_API_SECRET: 's',
      ADMIN_TOKEN: 'a'.repeat(32),
      MICROSOFT_CLIENT_ID: 'id',
      MICROSOFT_CLIENT_SECRET: 'secret',
      GRAPH_URL: 'http://127.0.0.1:9999/v1.0/',
    });
    expect(c.qontoMode).toBe('apiKey');
    expect(c.sandbox).toBe(false);
    expect(c.GRAPH_URL).toBe('http://127.0.0.1:9999/v1.0');
  });

  it('reads QONTO_WEBHOOK_SECRET in API-key mode as a list (the first current, all verify), each 32 to 128 characters, never echoed', () => {
    const apiKey = { QONTO_API_LOGIN: 'acme-1', QONTO_API_SECRET: 's', ADMIN_TOKEN: 'a'.repeat(32) };
    expect(loadConfig(apiKey).webhookSecrets).toEqual([]);
    const current = 'c'.repeat(32);
    const previous = 'p'.repeat(128);
    expect(loadConfig({ ...apiKey, QONTO_WEBHOOK_SECRET: ` ${current} , ${previous}` }).webhookSecrets).toEqual([current, previous]);
    const short = 'tooshort-secret-value';
    expect(() => loadConfig({ ...apiKey, QONTO_WEBHOOK_SECRET: `${current},${short}` })).toThrow(/QONTO_WEBHOOK_SECRET: secret 2 has 21 characters; each must have 32 to 128/);
    expect(() => loadConfig({ ...apiKey, QONTO_WEBHOOK_SECRET: `${current},${short}` })).not.toThrow(new RegExp(short));
    expect(() => loadConfig({ ...apiKey, QONTO_WEBHOOK_SECRET: 'x'.repeat(129) })).toThrow(/secret 1 has 129 characters/);
    expect(() => loadConfig({ ...apiKey, QONTO_WEBHOOK_SECRET: `${current},` })).toThrow(/secret 2 has 0 characters/);
    expect(() => loadConfig({ QONTO_CLIENT_ID: 'id', QONTO_CLIENT_SECRET: 's', QONTO_WEBHOOK_SECRET: current })).toThrow(
      /QONTO_WEBHOOK_SECRET is for API-key mode[^\n]*OAuth mode/,
    );
    expect(() => loadConfig({ ...apiKey, QONTO_WEBHOOK_SECRETS: current })).toThrow(/QONTO_WEBHOOK_SECRETS: unknown setting \(did you mean QONTO_WEBHOOK_SECRET\?\)/);
  });

  it('reads the alert mail settings: smtp:// or smtps:// with a sender, e-mail addresses, typos named', () => {
    const c = loadConfig({ SMTP_URL: 'smtp://user:pass@mail.example.com:587', ALERT_FROM: 'alerts@example.com', ALERT_TO: 'ops@example.com' });
    expect([c.SMTP_URL, c.ALERT_FROM, c.ALERT_TO]).toEqual(['smtp://user:pass@mail.example.com:587', 'alerts@example.com', 'ops@example.com']);
    expect(loadConfig({ SMTP_URL: 'smtps://mail.example.com', ALERT_FROM: 'a@example.com' }).SMTP_URL).toBe('smtps://mail.example.com');
    expect(loadConfig({}).SMTP_URL).toBeUndefined();
    expect(() => loadConfig({ SMTP_URL: 'http://mail.example.com', ALERT_FROM: 'a@example.com' })).toThrow(/SMTP_URL: must be smtp:/);
    expect(() => loadConfig({ SMTP_URL: 'smtp://mail.example.com' })).toThrow(/ALERT_FROM is required with SMTP_URL/);
    expect(() => loadConfig({ ALERT_TO: 'not an address' })).toThrow(/ALERT_TO: must be an e-mail address/);
    expect(() => loadConfig({ ALERT_T: 'ops@example.com' })).toThrow(/ALERT_T: unknown setting \(did you mean ALERT_TO\?\)/);
  });

  it('reads TRUST_PROXY and the per-address limits, with their defaults, and refuses nonsense', () => {
    expect(loadConfig({})).toMatchObject({ TRUST_PROXY: 0, AUTH_FAILURE_LIMIT: 10, SIGN_IN_CALLBACK_LIMIT: 30 });
    expect(loadConfig({ TRUST_PROXY: '2', AUTH_FAILURE_LIMIT: '5' })).toMatchObject({ TRUST_PROXY: 2, AUTH_FAILURE_LIMIT: 5 });
    expect(() => loadConfig({ TRUST_PROXY: '-1' })).toThrow(/TRUST_PROXY/);
    expect(() => loadConfig({ AUTH_FAILURE_LIMIT: '0' })).toThrow(/AUTH_FAILURE_LIMIT/);
    expect(() => loadConfig({ SIGN_IN_CALLBACK_LIMIT: 'many' })).toThrow(/SIGN_IN_CALLBACK_LIMIT/);
  });

  it('reads LOG_LEVEL, default info, any case, and refuses an unknown level', () => {
    expect(loadConfig({}).LOG_LEVEL).toBe('info');
    expect(loadConfig({ LOG_LEVEL: 'DEBUG' }).LOG_LEVEL).toBe('debug');
    expect(() => loadConfig({ LOG_LEVEL: 'loud' })).toThrow(/LOG_LEVEL/);
  });

  it('refuses an admin token shorter than 32 characters, and says why', () => {
    const env = { QONTO_API_LOGIN: 'acme-1', QONTO_API_SECRET: 's', ADMIN_TOKEN: 'a'.repeat(31) };
    expect(() => loadConfig(env)).toThrow(/ADMIN_TOKEN: must be at least 32 characters: it guards bank data/);
    expect(loadConfig({ ...env, ADMIN_TOKEN: 'a'.repeat(32) }).ADMIN_TOKEN).toBe('a'.repeat(32));
  });

  it('reads the metrics settings: per-integration series off by default, the SDK exporter port', () => {
    expect(loadConfig({}).METRICS_PER_INTEGRATION).toBe(false);
    expect(loadConfig({}).TEMPORAL_METRICS_PORT).toBeUndefined();
    expect(loadConfig({ METRICS_PER_INTEGRATION: 'true', TEMPORAL_METRICS_PORT: '9464' })).toMatchObject({ METRICS_PER_INTEGRATION: true, TEMPORAL_METRICS_PORT: 9464 });
    expect(loadConfig({ TEMPORAL_METRICS_PORT: '' }).TEMPORAL_METRICS_PORT).toBeUndefined();
    expect(() => loadConfig({ METRICS_PER_INTEGRATION: 'maybe' })).toThrow(/METRICS_PER_INTEGRATION/);
    expect(() => loadConfig({ TEMPORAL_METRICS_PORT: '70000' })).toThrow(/TEMPORAL_METRICS_PORT/);
    // A misspelt one is reported, like any of our prefixes.
    expect(() => loadConfig({ METRICS_PER_INTEGRATIONS: 'true' })).toThrow(/METRICS_PER_INTEGRATIONS/);
  });

  it('reads the period folder report switches, both off by default', () => {
    expect(loadConfig({})).toMatchObject({ EXPORT_LOG_CSV: false, MISSING_RECEIPTS_CSV: false });
    expect(loadConfig({ EXPORT_LOG_CSV: 'true', MISSING_RECEIPTS_CSV: 'on' })).toMatchObject({ EXPORT_LOG_CSV: true, MISSING_RECEIPTS_CSV: true });
    expect(() => loadConfig({ EXPORT_LOG_CSV: 'maybe' })).toThrow(/EXPORT_LOG_CSV/);
    expect(() => loadConfig({ MISSING_RECEIPTS_CSVS: 'true' })).toThrow(/MISSING_RECEIPTS_CSVS/);
  });

  it('reads the rate budgets: Qonto 800/10s,8000/10min and Graph 100000/10s by default, shortest window first', () => {
    const c = loadConfig({});
    expect(c.QONTO_RATE_LIMIT).toEqual({ windows: [{ windowMs: 10_000, limit: 800 }, { windowMs: 600_000, limit: 8_000 }] });
    expect(c.GRAPH_RATE_LIMIT).toEqual({ windows: [{ windowMs: 10_000, limit: 100_000 }] });
    expect(c.warnings).toEqual([]);
    expect(loadConfig({ QONTO_RATE_LIMIT: '' }).QONTO_RATE_LIMIT).toEqual(c.QONTO_RATE_LIMIT);
    expect(loadConfig({ QONTO_RATE_LIMIT: ' 2000/10min, 20/10s ' }).QONTO_RATE_LIMIT.windows).toEqual([
      { windowMs: 10_000, limit: 20 },
      { windowMs: 600_000, limit: 2_000 },
    ]);
  });

  it('needs both of Qonto\'s windows and names the one missing; refuses a malformed budget', () => {
    expect(() => loadConfig({ QONTO_RATE_LIMIT: '800/10s' })).toThrow(/QONTO_RATE_LIMIT: the 10min window is missing/);
    expect(() => loadConfig({ QONTO_RATE_LIMIT: '8000/10min' })).toThrow(/QONTO_RATE_LIMIT: the 10s window is missing/);
    for (const bad of ['800 per 10s,8000/10min', '800/10s,8000/10h', '1/10s,8000/10min', '800/10s,900/10s', '800/10s,8000/10min,9/1s']) {
      expect(() => loadConfig({ QONTO_RATE_LIMIT: bad }), bad).toThrow(/QONTO_RATE_LIMIT/);
    }
    expect(() => loadConfig({ GRAPH_RATE_LIMIT: 'lots' })).toThrow(/GRAPH_RATE_LIMIT: "lots" is not/);
  });

  it('accepts a budget above the documented limits (they can be negotiated), with a start-up warning', () => {
    const c = loadConfig({ QONTO_RATE_LIMIT: '1500/10s,8000/10min', GRAPH_RATE_LIMIT: '200000/10s' });
    expect(c.QONTO_RATE_LIMIT.windows[0]).toEqual({ windowMs: 10_000, limit: 1_500 });
    expect(c.warnings).toEqual([
      expect.stringMatching(/^QONTO_RATE_LIMIT: 1500\/10s is above the documented limit of 1000\/10s/),
      expect.stringMatching(/^GRAPH_RATE_LIMIT: 200000\/10s is above the documented limit of 130000\/10s/),
    ]);
  });

  it('lets SANDBOX be forced either way', () => {
    expect(loadConfig({ SANDBOX: 'false' }).sandbox).toBe(false);
    expect(() => loadConfig({ SANDBOX: 'maybe' })).toThrow(/SANDBOX/);
  });

  it('lists type errors and missing partners together', () => {
    expect(() => loadConfig({ PORT: 'x', QONTO_API_LOGIN: 'acme-1' })).toThrow(/PORT[\s\S]*QONTO_API_LOGIN and QONTO_API_SECRET/);
  });

  it('names an unknown setting of ours, with the likely intended one', () => {
    expect(() => loadConfig({ QONTO_API_LOGN: 'x', PATH: '/usr/bin' })).toThrow(/QONTO_API_LOGN: unknown setting \(did you mean QONTO_API_LOGIN\?\)/);
  });

  it('with a Postgres DATABASE_URL, refuses to start without ENCRYPTION_KEY (every host must open what the others sealed)', () => {
    const key = 'ab'.repeat(32);
    for (const url of ['postgres://u:p@db:5432/receipts', 'postgresql://db/receipts?sslmode=require']) {
      expect(() => loadConfig({ DATABASE_URL: url })).toThrow(ConfigError);
      expect(() => loadConfig({ DATABASE_URL: url })).toThrow(/ENCRYPTION_KEY is required with a Postgres DATABASE_URL/);
      expect(loadConfig({ DATABASE_URL: url, ENCRYPTION_KEY: key }).DATABASE_URL).toBe(url);
    }
    // The embedded SQLite store serves one host: the key generated into DATA_DIR is enough.
    expect(() => loadConfig({ DATABASE_URL: 'sqlite:./data/x.sqlite' })).not.toThrow();
    expect(() => loadConfig({})).not.toThrow();
  });

  it('takes the Postgres pool size and statement timeout, with defaults', () => {
    const c = loadConfig({});
    expect([c.DATABASE_POOL_SIZE, c.DATABASE_STATEMENT_TIMEOUT_MS]).toEqual([10, 30_000]);
    const d = loadConfig({ DATABASE_POOL_SIZE: '3', DATABASE_STATEMENT_TIMEOUT_MS: '5000' });
    expect([d.DATABASE_POOL_SIZE, d.DATABASE_STATEMENT_TIMEOUT_MS]).toEqual([3, 5_000]);
    expect(() => loadConfig({ DATABASE_POOL_SIZE: '0' })).toThrow(/DATABASE_POOL_SIZE/);
    expect(() => loadConfig({ DATABASE_STATEMENT_TIMEOUT_MS: 'soon' })).toThrow(/DATABASE_STATEMENT_TIMEOUT_MS/);
    expect(() => loadConfig({ DATABASE_URL: 'mysql://db/x' })).toThrow(/DATABASE_URL/);
    expect(() => loadConfig({ DATABASE_URL: 'postgres:db', ENCRYPTION_KEY: 'ab'.repeat(32) })).toThrow(/DATABASE_URL/);
  });

  it('takes ENCRYPTION_KEY and PAYLOAD_KEY as one key or an id:key list, and says what is wrong with a bad one without echoing it', () => {
    const key = Buffer.alloc(32, 3).toString('base64');
    expect(loadConfig({ PAYLOAD_KEY: key }).PAYLOAD_KEY).toBe(key);
    expect(loadConfig({ PAYLOAD_KEY: `new:${key},old:${Buffer.alloc(32, 4).toString('hex')}` }).PAYLOAD_KEY).toContain('new:');
    const short = Buffer.alloc(16, 5).toString('hex');
    const error = (() => {
      try {
        loadConfig({ PAYLOAD_KEY: `k1:${short}` });
      } catch (e) {
        return e as ConfigError;
      }
    })();
    expect(error).toBeInstanceOf(ConfigError);
    expect(error!.problems.join('\n')).toMatch(/PAYLOAD_KEY.*must encode exactly 32 bytes/);
    expect(error!.problems.join('\n')).not.toContain(short);
    expect(() => loadConfig({ PAYLOAD_KEYS: key })).toThrow(/PAYLOAD_KEYS: unknown setting/);
    expect(() => loadConfig({ ENCRYPTION_KEY: `a:${key},a:${key}` })).toThrow(/ENCRYPTION_KEY.*"a" appears twice/);
  });

  it('reads ROLE (default all) and SHUTDOWN_GRACE_SECONDS (default 30), and refuses nonsense', () => {
    expect(loadConfig({})).toMatchObject({ ROLE: 'all', SHUTDOWN_GRACE_SECONDS: 30 });
    expect(loadConfig({ ROLE: 'API', ...SHARED_STORE, TEMPORAL_ADDRESS: 'temporal:7233', SANDBOX: 'false', SHUTDOWN_GRACE_SECONDS: '5' })).toMatchObject({ ROLE: 'api', SHUTDOWN_GRACE_SECONDS: 5 });
    expect(() => loadConfig({ ROLE: 'scheduler' })).toThrow(/ROLE/);
    expect(() => loadConfig({ SHUTDOWN_GRACE_SECONDS: '-1' })).toThrow(/SHUTDOWN_GRACE_SECONDS/);
  });

  it('requires an existing Temporal server for the api and worker roles', () => {
    for (const role of ['api', 'worker']) {
      expect(() => loadConfig({ ROLE: role, SANDBOX: 'false' })).toThrow(new RegExp(`TEMPORAL_ADDRESS is required with ROLE=${role}`));
      expect(loadConfig({ ROLE: role, ...SHARED_STORE, SANDBOX: 'false', TEMPORAL_ADDRESS: 'temporal:7233' }).TEMPORAL_ADDRESS).toBe('temporal:7233');
    }
    expect(loadConfig({}).TEMPORAL_ADDRESS).toBeUndefined();
  });

  it('requires a Postgres store for the api and worker roles (SQLite serves one process)', () => {
    for (const role of ['api', 'worker']) {
      const split = { ROLE: role, SANDBOX: 'false', TEMPORAL_ADDRESS: 'temporal:7233', ENCRYPTION_KEY: SHARED_STORE.ENCRYPTION_KEY };
      expect(() => loadConfig(split)).toThrow(new RegExp(`DATABASE_URL=postgres://… is required with ROLE=${role}`));
      expect(() => loadConfig({ ...split, DATABASE_URL: 'sqlite:/srv/receipts.sqlite' })).toThrow(/DATABASE_URL=postgres/);
      expect(loadConfig({ ...split, ...SHARED_STORE }).ROLE).toBe(role);
    }
    expect(loadConfig({ DATABASE_URL: 'sqlite:/srv/receipts.sqlite' }).ROLE).toBe('all');
  });

  it("does not take Kubernetes' service-link variables for typos of ours", () => {
    const links = {
      TEMPORAL_FRONTEND_SERVICE_HOST: '10.0.0.9',
      TEMPORAL_FRONTEND_SERVICE_PORT: '7233',
      TEMPORAL_FRONTEND_SERVICE_PORT_GRPC_RPC: '7233',
      TEMPORAL_FRONTEND_PORT: 'tcp://10.0.0.9:7233',
      TEMPORAL_FRONTEND_PORT_7233_TCP: 'tcp://10.0.0.9:7233',
      TEMPORAL_FRONTEND_PORT_7233_TCP_ADDR: '10.0.0.9',
      TEMPORAL_FRONTEND_PORT_7233_TCP_PORT: '7233',
      TEMPORAL_FRONTEND_PORT_7233_TCP_PROTO: 'tcp',
    };
    expect(loadConfig(links).ROLE).toBe('all');
    expect(() => loadConfig({ ...links, TEMPORAL_ADRESS: 'x:7233' })).toThrow(/TEMPORAL_ADRESS: unknown setting/);
  });

  it('runs the sandbox only with ROLE=all, and says so', () => {
    const split = { ROLE: 'worker', TEMPORAL_ADDRESS: 'temporal:7233', ...SHARED_STORE };
    expect(() => loadConfig({ ...split, SANDBOX: 'true' })).toThrow(/SANDBOX runs only with ROLE=all.*unset SANDBOX/);
    // On by default without credentials: the message says why it is on.
    expect(() => loadConfig(split)).toThrow(/SANDBOX runs only with ROLE=all.*no Qonto or Microsoft credentials are set/);
    expect(loadConfig({ SANDBOX: 'true' }).sandbox).toBe(true);
  });

  it("knows the Temporal SDK's variables, and names a typo of a TEMPORAL_ one", () => {
    const sdk = {
      TEMPORAL_ADDRESS: 'temporal.internal:7233',
      TEMPORAL_API_KEY: 'k',
      TEMPORAL_TLS: 'true',
      TEMPORAL_TLS_SERVER_NAME: 'temporal.internal',
      TEMPORAL_TLS_CLIENT_CERT_DATA: 'cert',
      TEMPORAL_TLS_CLIENT_KEY_DATA: 'key',
      TEMPORAL_GRPC_META_X_TENANT: 'acme',
      TEMPORAL_CODEC_ENDPOINT: 'https://codec.example',
    };
    expect(loadConfig(sdk).temporal).toMatchObject({ apiKey: 'k', metadata: { 'x-tenant': 'acme' } });
    expect(() => loadConfig({ TEMPORAL_ADRESS: 'x:7233' })).toThrow(/TEMPORAL_ADRESS: unknown setting \(did you mean TEMPORAL_ADDRESS\?\)/);
    expect(() => loadConfig({ TEMPORAL_TLS_CERT_PATH: '/c.pem' })).toThrow(/TEMPORAL_TLS_CERT_PATH: unknown setting/);
  });

  it('refuses an API key or TLS settings without the address of the server they are for', () => {
    expect(() => loadConfig({ TEMPORAL_API_KEY: 'k' })).toThrow(/TEMPORAL_API_KEY and TEMPORAL_TLS_\* are for an existing Temporal server: set TEMPORAL_ADDRESS/);
    expect(() => loadConfig({ TEMPORAL_TLS: 'true' })).toThrow(/set TEMPORAL_ADDRESS/);
    expect(loadConfig({ TEMPORAL_API_KEY: 'k', TEMPORAL_ADDRESS: 'acme.tmprl.cloud:7233' }).temporal).toMatchObject({ apiKey: 'k', tls: true });
  });

  it("takes the namespace from the chosen profile, the environment's first", () => {
    const dir = mkdtempSync(join(tmpdir(), 'temporal-profile-'));
    const file = join(dir, 'temporal.toml');
    writeFileSync(file, '[profile.prod]\naddress = "prod.tmprl.cloud:7233"\nnamespace = "receipts.acme"\n');
    expect(loadConfig({ TEMPORAL_CONFIG_FILE: file, TEMPORAL_PROFILE: 'prod' })).toMatchObject({ TEMPORAL_ADDRESS: 'prod.tmprl.cloud:7233', TEMPORAL_NAMESPACE: 'receipts.acme' });
    expect(loadConfig({ TEMPORAL_CONFIG_FILE: file, TEMPORAL_PROFILE: 'prod', TEMPORAL_NAMESPACE: 'other' }).TEMPORAL_NAMESPACE).toBe('other');
    expect(() => loadConfig({ TEMPORAL_CONFIG_FILE: file, TEMPORAL_PROFILE: 'staging' })).toThrow(/Temporal connection.*Profile 'staging' not found/);
  });
});
