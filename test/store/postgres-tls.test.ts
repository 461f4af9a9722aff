import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { exitCodeFor } from '../../src/roles/exit-code.js';
import { StartupError } from '../../src/roles/startup-error.js';
import { openStore } from '../../src/services.js';
import type { Store } from '../../src/store/types.js';
import { ENCRYPTION_KEY } from '../support/harness.js';
import { startThrowawayPostgres } from '../support/postgres-server.js';
import { makeTestCertificates, type TestCertificates } from '../support/tls-certs.js';

/**
 * DATABASE_URL's TLS settings against a server with `ssl=on` and a certificate of a private CA (a
 * cluster of its own: the suite's shares no certificate), as README's configuration table says them.
 * Whether a store's connections are encrypted is read on the server (pg_stat_ssl), by the
 * application_name each store's URL carries.
 */
let dir: string;
let certs: TestCertificates;
let server: { url: string; stop(): Promise<void> };
let observer: pg.Client;
const opened: Store[] = [];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'receipts-pg-tls-'));
  certs = await makeTestCertificates(dir);
  server = await startThrowawayPostgres({ cert: certs.cert, key: certs.key });
  observer = new pg.Client({ connectionString: server.url });
  await observer.connect();
});

afterEach(async () => {
  await Promise.all(opened.splice(0).map((store) => store.close()));
});

afterAll(async () => {
  await observer?.end();
  await server?.stop();
  rmSync(dir, { recursive: true, force: true });
});

let stores = 0;
/** The server's URL with these parameters and an application_name of its own. */
function url(params: Record<string, string>): { url: string; name: string } {
  const name = `tls-test-${(stores += 1)}`;
  const u = new URL(server.url);
  for (const [key, value] of Object.entries({ ...params, application_name: name })) u.searchParams.set(key, value);
  return { url: u.toString(), name };
}

/** The store `npm start` would open with this DATABASE_URL. */
async function open(databaseUrl: string): Promise<Store> {
  const store = await openStore(loadConfig({ DATABASE_URL: databaseUrl, ENCRYPTION_KEY, DATA_DIR: dir }));
  opened.push(store);
  return store;
}

/** `ssl` of every connection the server has for `name`, with the protocol version. */
async function connections(name: string): Promise<{ ssl: boolean; version: string | null }[]> {
  const { rows } = await observer.query<{ ssl: boolean; version: string | null }>(
    'SELECT s.ssl, s.version FROM pg_stat_ssl s JOIN pg_stat_activity a USING (pid) WHERE a.application_name = $1',
    [name],
  );
  return rows;
}

/** Some store work, so that both pools have connections (opening ran the migrations under the lock pool). */
async function use(store: Store): Promise<void> {
  await store.createIntegration({ id: 'i1' });
  expect((await store.getIntegration('i1'))?.status).toBe('connecting');
  await store.withTokenLock('i1', 'qonto', () => store.getTokenCache('i1', 'qonto'));
}

describe('a Postgres store over TLS', () => {
  it('without sslmode, connects in plain text (the server allows both)', async () => {
    const { url: plain, name } = url({});
    await use(await open(plain));
    const seen = await connections(name);
    expect(seen.length).toBeGreaterThan(0);
    expect(seen.every((c) => !c.ssl)).toBe(true);
  });

  it('with sslmode=require and sslrootcert=<the private CA>, every connection is encrypted and verified', async () => {
    const { url: secure, name } = url({ sslmode: 'require', sslrootcert: certs.ca });
    const store = await open(secure);
    await use(store);
    const seen = await connections(name);
    expect(seen.length).toBeGreaterThan(0);
    expect(seen).toEqual(seen.map(() => ({ ssl: true, version: expect.stringMatching(/^TLSv1\.[23]$/) as unknown })));
  });

  it('with sslmode=verify-full and sslrootcert, the same without node-postgres\' warning', async () => {
    const { url: secure, name } = url({ sslmode: 'verify-full', sslrootcert: certs.ca });
    await use(await open(secure));
    const seen = await connections(name);
    expect(seen.length).toBeGreaterThan(0);
    expect(seen.every((c) => c.ssl)).toBe(true);
  });

  it('with sslmode=no-verify, or libpq\'s meaning of require, encrypts without verifying the certificate', async () => {
    for (const params of [{ sslmode: 'no-verify' }, { uselibpqcompat: 'true', sslmode: 'require' }] as Record<string, string>[]) {
      const { url: unverified, name } = url(params);
      await use(await open(unverified));
      const seen = await connections(name);
      expect(seen.length, JSON.stringify(params)).toBeGreaterThan(0);
      expect(seen.every((c) => c.ssl), JSON.stringify(params)).toBe(true);
      await Promise.all(opened.splice(0).map((store) => store.close()));
    }
  });

  it('with sslmode=require alone, refuses a certificate of a private CA: node-postgres verifies for require too', async () => {
    const { url: unknownCa, name } = url({ sslmode: 'require' });
    await expect(open(unknownCa)).rejects.toThrow(/^Cannot connect to the Postgres store at 127\.0\.0\.1:\d+\/postgres \(DATABASE_URL\): .*certificate.*sslrootcert=<file>/s);
    expect(await connections(name)).toEqual([]);
  });

  it('with sslrootcert naming another CA than the server\'s, refuses to connect and says why', async () => {
    const { url: wrongCa, name } = url({ sslmode: 'verify-full', sslrootcert: certs.otherCa });
    const refused = await open(wrongCa).then(
      () => null,
      (error: unknown) => error,
    );
    // A start-up error (said without a stack trace), naming the server and what to change.
    expect(refused).toBeInstanceOf(StartupError);
    expect((refused as Error).message).toMatch(/^Cannot connect to the Postgres store at 127\.0\.0\.1:\d+\/postgres \(DATABASE_URL\): .*certificate.*not signed by a CA this process trusts.*sslrootcert=<file>/s);
    expect(await connections(name)).toEqual([]);
  });
});

describe('the exit code of a Postgres store that cannot be opened at start-up', () => {
  /** What opening the store with this URL threw, and the exit code `npm start` gives for it. */
  async function refusal(databaseUrl: string): Promise<{ error: unknown; exitCode: 1 | 2 }> {
    const error = await open(databaseUrl).then(
      () => null,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(Error);
    return { error, exitCode: exitCodeFor(error) };
  }

  it('is 1 for a server that is not listening (yet): something to wait for, its cause in the message', async () => {
    const closed = new URL(server.url);
    closed.port = String(await closedPort());
    const { error, exitCode } = await refusal(closed.toString());
    expect(exitCode).toBe(1);
    expect(error).not.toBeInstanceOf(StartupError);
    expect((error as Error).message).toMatch(/^Cannot connect to the Postgres store at 127\.0\.0\.1:\d+\/postgres \(DATABASE_URL\): .*ECONNREFUSED/);
  });

  it('is 2 for a role the server does not know (authentication), said in one line', async () => {
    const stranger = new URL(server.url);
    stranger.username = 'no_such_role';
    const { error, exitCode } = await refusal(stranger.toString());
    expect(exitCode).toBe(2);
    expect(error).toBeInstanceOf(StartupError);
    expect((error as Error).message).toMatch(/^Cannot connect to the Postgres store at 127\.0\.0\.1:\d+\/postgres \(DATABASE_URL\): .*no_such_role[^\n]*$/);
  });

  it('is 2 for a server certificate of an untrusted CA', async () => {
    const { exitCode } = await refusal(url({ sslmode: 'verify-full', sslrootcert: certs.otherCa }).url);
    expect(exitCode).toBe(2);
  });
});

/** A loopback port nothing listens on (taken from the system, then closed). */
async function closedPort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise((resolve) => probe.close(resolve));
  return port;
}
