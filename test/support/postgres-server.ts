import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import pg from 'pg';

const run = promisify(execFile);
const script = fileURLToPath(new URL('../../scripts/throwaway-postgres.sh', import.meta.url));

export interface PostgresServer {
  url: string;
  /** Name prefix of the databases this run creates (freshDatabaseUrl), dropped by `stop`. */
  prefix: string;
  stop(): Promise<void>;
}

/** The test run's Postgres: TEST_DATABASE_URL when set, else a throwaway cluster started here.
 * Never skipped: when neither works the run fails with the reason. */
export async function startPostgresServer(env = process.env): Promise<PostgresServer> {
  const prefix = `test_${process.pid}_${Date.now().toString(36)}_`;
  const given = env.TEST_DATABASE_URL?.trim();
  if (given) {
    await check(given, 'TEST_DATABASE_URL');
    return { url: given, prefix, stop: () => dropDatabases(given, prefix) };
  }
  try {
    return { ...(await startThrowawayPostgres()), prefix };
  } catch (error) {
    throw new Error(`The Postgres store tests need a server: set TEST_DATABASE_URL, or make initdb available. ${(error as Error).message}`);
  }
}

/** A throwaway cluster of its own (scripts/throwaway-postgres.sh), with TLS on when `tls` names the
 * server's certificate and key (PEM files). */
export async function startThrowawayPostgres(tls?: { cert: string; key: string }): Promise<{ url: string; stop(): Promise<void> }> {
  let stdout: string;
  try {
    ({ stdout } = await run(script, ['start', ...(tls ? ['--tls', tls.cert, tls.key] : [])], { timeout: 120_000 }));
  } catch (error) {
    const detail = (error as { stderr?: string }).stderr?.trim() || (error as Error).message;
    throw new Error(`Starting a throwaway Postgres cluster failed (it needs initdb; Debian: apt-get install postgresql-15): ${detail}`);
  }
  const [dir, url] = stdout.trim().split(' ') as [string, string];
  await check(url, 'the throwaway cluster');
  return { url, stop: async () => void (await run(script, ['stop', dir])) };
}

async function check(url: string, what: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  try {
    await client.connect();
    await client.query('SELECT 1');
  } catch (error) {
    throw new Error(`Cannot reach the test Postgres (${what}): ${(error as Error).message}`);
  } finally {
    await client.end().catch(() => {});
  }
}

async function dropDatabases(url: string, prefix: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query<{ datname: string }>('SELECT datname FROM pg_database WHERE starts_with(datname, $1)', [prefix]);
    for (const { datname } of rows) await client.query(`DROP DATABASE IF EXISTS "${datname}" WITH (FORCE)`);
  } finally {
    await client.end();
  }
}
