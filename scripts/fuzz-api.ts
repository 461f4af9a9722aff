/**
 * `npm run fuzz:api`: fuzzes the running API from its own OpenAPI document with schemathesis.
 *
 * For each mode, API-key then OAuth: starts the Qonto and Microsoft simulators in this process and the
 * product (`src/main.ts`, as `npm start` runs it, with its embedded Temporal dev server) as a child
 * process on free ports; runs `st run …/api/openapi.json --checks all` with the mode's credentials (the
 * admin token; in OAuth mode also the session cookie of an owner signed in through the Qonto
 * simulator); stops everything. Fails when either run fails: any 5xx, undocumented status or response
 * not matching its schema. FUZZ_MODES (default `apiKey,oauth`) picks the modes.
 *
 * Needs schemathesis (`python3 -m pip install schemathesis`) and the Temporal CLI (see the README).
 * FUZZ_MAX_EXAMPLES (default 30) and FUZZ_MAX_TIME (seconds, default 120) bound the run.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startSimulators } from '../src/simulators/index.js';
import { freePort } from '../test/support/harness.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

async function waitForHealth(url: string, app: ChildProcess, deadlineMs: number): Promise<void> {
  const deadline = Date.now() + deadlineMs;
  while (Date.now() < deadline) {
    if (app.exitCode !== null) throw new Error(`the app exited with code ${app.exitCode} before answering`);
    const ok = await fetch(url).then((r) => r.ok, () => false);
    if (ok) return;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`${url} did not answer within ${deadlineMs / 1000} s`);
}

const exited = (child: ChildProcess) =>
  new Promise<number>((resolve) => (child.exitCode !== null ? resolve(child.exitCode) : child.once('exit', (code) => resolve(code ?? 1))));

type Mode = 'apiKey' | 'oauth';

/** Signs in with Qonto as the demo organization's owner, as a browser would; returns the session cookie. */
async function ownerSession(base: string, ownerMembershipId: string): Promise<string> {
  const cookieOf = (res: Response, name: string) =>
    res.headers
      .getSetCookie()
      .map((c) => c.split(';')[0]!)
      .find((c) => c.startsWith(`${name}=`));
  const login = await fetch(`${base}/auth/qonto/login`, { redirect: 'manual' });
  const authorize = new URL(login.headers.get('location')!);
  authorize.searchParams.set('login_hint', ownerMembershipId);
  const back = (await fetch(authorize, { redirect: 'manual' })).headers.get('location')!;
  const callback = await fetch(back, { redirect: 'manual', headers: { cookie: cookieOf(login, 'qonto_oauth_state')! } });
  const session = cookieOf(callback, 'session');
  if (!session) throw new Error(`signing in with Qonto gave no session (${callback.status})`);
  return session;
}

async function main(): Promise<number> {
  const modes = (process.env.FUZZ_MODES ?? 'apiKey,oauth').split(',').map((m) => m.trim()) as Mode[];
  for (const mode of modes) {
    console.log(`\n=== API fuzz, ${mode} mode`);
    const code = await fuzz(mode);
    if (code !== 0) return code;
  }
  return 0;
}

async function fuzz(mode: Mode): Promise<number> {
  const dataDir = mkdtempSync(join(tmpdir(), 'receipts-fuzz-'));
  const sims = await startSimulators({ storageDir: join(dataDir, 'drive'), demo: { seed: 11, accounts: 1, months: 1, receipts: 4 } });
  const port = await freePort();
  const adminToken = randomBytes(24).toString('hex');
  const base = `http://127.0.0.1:${port}`;
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    ...(mode === 'apiKey' ? sims.env : sims.oauthEnv),
    PORT: String(port),
    PUBLIC_URL: base,
    DATA_DIR: dataDir,
    ADMIN_TOKEN: adminToken,
    SANDBOX: 'false',
    // The fuzz's own negative authentication cases would trip the per-address limits, after which
    // nearly every answer is a 429 and the API behind it goes untested; the limits have tests of their own.
    AUTH_FAILURE_LIMIT: '1000000',
    SIGN_IN_CALLBACK_LIMIT: '1000000',
    TEMPORAL_PORT: String(await freePort()),
    TEMPORAL_UI_PORT: String(await freePort()),
  };
  // The app's own log goes to a file, shown only when the fuzz fails.
  const log = openSync(join(dataDir, 'app.log'), 'w');
  const app = spawn(process.execPath, ['--import', 'tsx', join(root, 'src/main.ts')], { env, stdio: ['ignore', log, log] });
  let code = 1;
  try {
    await waitForHealth(`${base}/healthz`, app, 120_000);
    // Credentials by security scheme, so that schemathesis knows what to leave out when it checks that
    // a request without them is refused: `credentials` (the bearer token, or in OAuth mode the session
    // cookie) and `adminToken` (the codec server).
    const credentials =
      mode === 'apiKey'
        ? `[auth.openapi.credentials]\nbearer = "${adminToken}"\n`
        : `[auth.openapi.credentials]\napi_key = "${(await ownerSession(base, sims.demo!.membershipIds.owner)).replace(/^session=/, '')}"\n`;
    const configFile = join(dataDir, 'schemathesis.toml');
    writeFileSync(configFile, `${readFileSync(join(root, 'scripts/fuzz/schemathesis.toml'), 'utf8')}\n${credentials}\n[auth.openapi.adminToken]\nbearer = "${adminToken}"\n`);
    const st = spawn(
      process.env.SCHEMATHESIS_PYTHON ?? 'python3',
      [
        '-m',
        'schemathesis.cli',
        '--config-file',
        configFile,
        'run',
        `${base}/api/openapi.json`,
        '--checks',
        'all',
        '--max-examples',
        process.env.FUZZ_MAX_EXAMPLES ?? '30',
        '--max-time',
        process.env.FUZZ_MAX_TIME ?? '120',
        '--max-redirects',
        '0',
        '--seed',
        process.env.FUZZ_SEED ?? '11',
        '--generation-database',
        'none',
        '--report-dir',
        join(dataDir, 'schemathesis-report'),
      ],
      // Run in the scratch directory: schemathesis keeps a cache of failures in its working directory.
      { cwd: dataDir, env: { ...process.env, PYTHONPATH: join(root, 'scripts/fuzz'), SCHEMATHESIS_HOOKS: 'hooks' }, stdio: 'inherit' },
    );
    code = await exited(st);
    return code;
  } finally {
    app.kill('SIGTERM');
    const stopped = await Promise.race([exited(app), new Promise<null>((r) => setTimeout(() => r(null), 20_000).unref())]);
    if (stopped === null) app.kill('SIGKILL');
    await sims.close();
    if (code !== 0) console.error(`\n--- the app's log (last lines) ---\n${readFileSync(join(dataDir, 'app.log'), 'utf8').split('\n').slice(-60).join('\n')}`);
    rmSync(dataDir, { recursive: true, force: true });
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
