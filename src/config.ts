import { resolve } from 'node:path';
import { z } from 'zod';
import { GRAPH_DOCUMENTED_LIMITS, QONTO_DOCUMENTED_LIMITS, aboveDocumented, missingWindows, parseRateLimit, windowName, type RateWindow } from './budget/limits.js';
import type { BudgetParams } from './store/types.js';
import { LOG_LEVELS } from './logger.js';
import { parseKeyList } from './auth/keys.js';
import { splitWebhookSecrets, webhookSecretProblems } from './webhooks/secret.js';
import { TEMPORAL_GRPC_META_PREFIX, TEMPORAL_SDK_SETTINGS, temporalTarget, type TemporalTarget } from './temporal/connect-config.js';

/** Every setting comes from the environment; names are part of the public interface (docs/architecture.md, Public interface). */

const optionalText = z
  .string()
  .trim()
  .transform((v) => (v === '' ? undefined : v))
  .optional();

const httpUrl = (fallback: string) =>
  z
    .string()
    .trim()
    .default(fallback)
    .refine((v) => /^https?:\/\/[^\s/]+/.test(v), 'must be an http(s) URL')
    .transform((v) => v.replace(/\/+$/, ''));

const flag = z
  .string()
  .trim()
  .toLowerCase()
  .refine((v) => ['1', '0', 'true', 'false', 'yes', 'no', 'on', 'off', ''].includes(v), 'must be true or false')
  .transform((v) => (v === '' ? undefined : ['1', 'true', 'yes', 'on'].includes(v)))
  .optional();

/** One key or `id:key,…` (auth/keys.ts), checked here so that a malformed one is reported with the
 * other problems, never echoing a key. */
const keyList = (name: string) =>
  optionalText.superRefine((v, ctx) => {
    if (v === undefined) return;
    try {
      parseKeyList(v, name);
    } catch (error) {
      ctx.addIssue({ code: 'custom', message: (error as Error).message.replace(new RegExp(`^${name}:? ?`), '') });
    }
  });

function isTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

export const ADMIN_TOKEN_MIN_LENGTH = 32;
export const ROLES = ['all', 'api', 'worker'] as const;

const envSchema = z.object({
  PORT: z.coerce.number().int().min(1).max(65535).default(3000),
  PUBLIC_URL: httpUrl('http://localhost:3000'),
  DATA_DIR: z.string().trim().min(1).default('./data'),
  DATABASE_URL: optionalText.refine(
    (v) => v === undefined || /^(postgres(ql)?:\/\/|sqlite:|file:)/.test(v),
    'must start with postgres://, postgresql://, sqlite: or file:',
  ),
  /** `all`: API and worker (and the embedded dev server without TEMPORAL_ADDRESS); `api`: HTTP only;
   * `worker`: task polling, with only /healthz and /readyz on PORT. */
  ROLE: z.string().trim().toLowerCase().default('all').pipe(z.enum(ROLES)),
  /** On SIGTERM, how long running activities and requests in flight get to finish. */
  SHUTDOWN_GRACE_SECONDS: z.coerce.number().int().min(0).max(3600).default(30),
  /** Postgres: connections per pool (the store has two: queries, and token locks). */
  DATABASE_POOL_SIZE: z.coerce.number().int().min(1).max(1000).default(10),
  /** Postgres: the server cancels a statement (or a wait for a lock) after this long. */
  DATABASE_STATEMENT_TIMEOUT_MS: z.coerce.number().int().min(1).default(30_000),
  TEMPORAL_ADDRESS: optionalText,
  TEMPORAL_NAMESPACE: optionalText,
  TEMPORAL_TASK_QUEUE: z.string().trim().min(1).default('receipts-sync'),
  TEMPORAL_PORT: z.coerce.number().int().min(1).max(65535).default(7233),
  TEMPORAL_UI_PORT: z.coerce.number().int().min(1).max(65535).default(8233),
  /** The Temporal SDK's Prometheus exporter, on loopback (a worker's /metrics appends it); unset: a free port. */
  TEMPORAL_METRICS_PORT: z.preprocess((v) => (typeof v === 'string' && v.trim() === '' ? undefined : v), z.coerce.number().int().min(1).max(65535).optional()),
  TEMPORAL_UI_URL: optionalText.refine((v) => v === undefined || /^https?:\/\/[^\s/]+/.test(v), 'must be an http(s) URL').transform((v) => v?.replace(/\/+$/, '')),
  TEMPORAL_CLI_PATH: optionalText,
  TEMPORAL_TEST_SERVER_PATH: optionalText,
  QONTO_API_URL: httpUrl('https://thirdparty.qonto.com'),
  QONTO_OAUTH_URL: httpUrl('https://oauth.qonto.com'),
  QONTO_CLIENT_ID: optionalText,
  QONTO_CLIENT_SECRET: optionalText,
  QONTO_API_LOGIN: optionalText,
  QONTO_API_SECRET: optionalText,
  QONTO_STAGING_TOKEN: optionalText,
  /** API-key mode: the secret(s) of the webhook subscription the operator registered in Qonto
   * (docs/webhooks.md); checked here without echoing them. */
  QONTO_WEBHOOK_SECRET: optionalText.superRefine((v, ctx) => {
    for (const message of webhookSecretProblems(splitWebhookSecrets(v))) ctx.addIssue({ code: 'custom', message });
  }),
  // At least 32 characters: 128 bits when random hex, out of reach of online guessing even before the
  // per-address limit on failed attempts (the suggested `openssl rand -hex 32` gives 64 characters).
  ADMIN_TOKEN: optionalText.refine((v) => v === undefined || v.length >= ADMIN_TOKEN_MIN_LENGTH, {
    message: `must be at least ${ADMIN_TOKEN_MIN_LENGTH} characters: it guards bank data and is the only password of API-key mode; generate one with \`openssl rand -hex 32\``,
  }),
  MICROSOFT_CLIENT_ID: optionalText,
  MICROSOFT_CLIENT_SECRET: optionalText,
  MICROSOFT_LOGIN_URL: httpUrl('https://login.microsoftonline.com'),
  GRAPH_URL: httpUrl('https://graph.microsoft.com/v1.0'),
  /** The fleet-wide budgets of API requests (docs/rate-budget.md); every process the same value. */
  QONTO_RATE_LIMIT: rateLimit('800/10s,8000/10min', QONTO_DOCUMENTED_LIMITS),
  GRAPH_RATE_LIMIT: rateLimit('100000/10s', []),
  ENCRYPTION_KEY: keyList('ENCRYPTION_KEY'),
  PAYLOAD_KEY: keyList('PAYLOAD_KEY'),
  SYNC_TIME: z
    .string()
    .trim()
    .default('23:30')
    .refine((v) => /^([01]\d|2[0-3]):[0-5]\d$/.test(v), 'must be HH:MM (24-hour)'),
  DEFAULT_TIME_ZONE: z.string().trim().default('Europe/Paris').refine(isTimeZone, 'must be an IANA time zone'),
  /** The daily run comes at SYNC_TIME plus a fixed offset per integration inside this window (0: all at SYNC_TIME). */
  SYNC_SPREAD_MINUTES: z.coerce.number().int().min(0).max(180).default(30),
  /** Workflows a worker keeps in memory between tasks (0: none); an evicted one is replayed at its next task. */
  TEMPORAL_MAX_CACHED_WORKFLOWS: z.coerce
    .number()
    .int()
    .min(0)
    .default(100)
    .refine((v) => v !== 1, 'must be 0 (no cache) or at least 2'),
  UPLOAD_CONCURRENCY: z.coerce.number().int().min(1).max(32).default(10),
  SANDBOX: flag,
  SANDBOX_PORT_BASE: z.coerce.number().int().min(1).max(65514).default(4010),
  /** Reverse proxies in front of the service, each appending to X-Forwarded-For (0: clients connect directly). */
  TRUST_PROXY: z.coerce.number().int().min(0).max(10).default(0),
  /** Failed admin-token checks allowed per client address per 15 minutes. */
  AUTH_FAILURE_LIMIT: z.coerce.number().int().min(1).default(10),
  /** Requests to the sign-in callbacks allowed per client address per 10 minutes. */
  SIGN_IN_CALLBACK_LIMIT: z.coerce.number().int().min(1).default(30),
  /** `/metrics` also carries series labelled with integration ids (off: aggregates only). */
  METRICS_PER_INTEGRATION: flag.transform((v) => v ?? false),
  /** A `_export-log.csv` in every period folder, rewritten when the period's receipts change. */
  EXPORT_LOG_CSV: flag.transform((v) => v ?? false),
  /** A `_missing-receipts.csv` in every period folder where transactions lack a receipt. */
  MISSING_RECEIPTS_CSV: flag.transform((v) => v ?? false),
  LOG_LEVEL: z.string().trim().toLowerCase().default('info').pipe(z.enum(LOG_LEVELS)),
  /** Alert mail (docs/alerts.md): smtp:// (STARTTLS; src/alerts/mailer.ts) or smtps:// (TLS from the
   * start), credentials in the URL. Unset: alerts show on the dashboard only. */
  SMTP_URL: optionalText.refine((v) => v === undefined || smtpUrl(v), 'must be smtp://[user:pass@]host[:port] or smtps://…'),
  ALERT_FROM: optionalText.refine((v) => v === undefined || isEmail(v), 'must be an e-mail address'),
  /** The operator: gets every alert (and is the only recipient in API-key mode). */
  ALERT_TO: optionalText.refine((v) => v === undefined || isEmail(v), 'must be an e-mail address'),
  /** A reminder once a month is over (after a few days' grace) with receipts still missing
   * (docs/alerts.md, Receipts still missing when a month is over). */
  MISSING_RECEIPTS_REMINDER: flag.transform((v) => v ?? false),
});

/** A rate budget, `<n>/<int>(s|min)` comma-separated, into its windows. `required`: the windows the
 * service counts, each of which must be budgeted (an error names the one missing). */
function rateLimit(fallback: string, required: readonly RateWindow[]) {
  return z
    .string()
    .trim()
    .default(fallback)
    .transform((v, ctx): BudgetParams => {
      try {
        // Empty (`QONTO_RATE_LIMIT=` in an env file) is unset, as for the other settings.
        const windows = parseRateLimit(v === '' ? fallback : v);
        for (const w of missingWindows(windows, required)) {
          ctx.addIssue({ code: 'custom', message: `the ${windowName(w.windowMs)} window is missing: the service counts both ${required.map((r) => windowName(r.windowMs)).join(' and ')} (e.g. ${fallback})` });
        }
        return { windows };
      } catch (error) {
        ctx.addIssue({ code: 'custom', message: `${(error as Error).message} (e.g. ${fallback})` });
        return z.NEVER;
      }
    });
}

/** Settings accepted but worth a line at start-up. */
function warningsOf(e: Env): string[] {
  const above = (name: string, params: BudgetParams, documented: readonly RateWindow[]) =>
    aboveDocumented(params.windows, documented).map(
      (w) => `${name}: ${w.limit}/${windowName(w.windowMs)} is above the documented limit of ${documented.find((d) => d.windowMs === w.windowMs)!.limit}/${windowName(w.windowMs)}; keep it only if the limit was raised for you`,
    );
  return [...above('QONTO_RATE_LIMIT', e.QONTO_RATE_LIMIT, QONTO_DOCUMENTED_LIMITS), ...above('GRAPH_RATE_LIMIT', e.GRAPH_RATE_LIMIT, GRAPH_DOCUMENTED_LIMITS)];
}

function smtpUrl(v: string): boolean {
  try {
    const url = new URL(v);
    return (url.protocol === 'smtp:' || url.protocol === 'smtps:') && url.hostname !== '';
  } catch {
    return false;
  }
}

const isEmail = (v: string) => z.email().safeParse(v).success;

export type Env = z.infer<typeof envSchema>;

export function isPostgresUrl(url: string | undefined): boolean {
  return /^postgres(ql)?:\/\//.test(url?.trim() ?? '');
}

export interface Config extends Omit<Env, 'SANDBOX' | 'TEMPORAL_ADDRESS' | 'TEMPORAL_NAMESPACE'> {
  /** Resolved by @temporalio/envconfig (environment, or the chosen profile); unset: embedded dev server. */
  TEMPORAL_ADDRESS: string | undefined;
  TEMPORAL_NAMESPACE: string;
  /** TLS, API key and gRPC metadata of the existing Temporal server, for every connection. */
  temporal: TemporalTarget;
  /** Absolute DATA_DIR. */
  dataDir: string;
  /** Simulators with a demo organization instead of the real Qonto and Microsoft. */
  sandbox: boolean;
  qontoMode: 'apiKey' | 'oauth' | 'none';
  /** QONTO_WEBHOOK_SECRET as a list (API-key mode): the first is current, every one verifies; empty when unset. */
  webhookSecrets: string[];
  /** Accepted settings worth a warning at start-up (a rate budget above the documented limits). */
  warnings: string[];
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/** Our variables' prefixes: a variable with one of them that we do not know is most likely a typo. */
const OWN_PREFIXES = /^(QONTO|MICROSOFT|GRAPH|SYNC|ADMIN|ENCRYPTION|PAYLOAD|SANDBOX|DATABASE|PUBLIC|UPLOAD|SHUTDOWN|METRICS|TEMPORAL|SMTP|ALERT|EXPORT_LOG|MISSING_RECEIPTS)_/;

/** What Kubernetes puts into every pod for each service of its namespace (`<SERVICE>_SERVICE_HOST`,
 * `<SERVICE>_PORT_7233_TCP_ADDR`, …): a service named `temporal-frontend` gives TEMPORAL_FRONTEND_…
 * names that are nobody's typo. */
const SERVICE_LINK = /_SERVICE_(HOST|PORT)(_[A-Z0-9_]+)?$|_PORT(_\d+_(TCP|UDP|SCTP)(_(PROTO|PORT|ADDR))?)?$/;

function unknownSettings(env: Record<string, string | undefined>): string[] {
  // TEMPORAL_*: ours and every name the Temporal SDK's loader reads (connect-config.ts).
  const known: string[] = [...Object.keys(envSchema.shape), ...TEMPORAL_SDK_SETTINGS];
  return Object.keys(env)
    .filter((name) => OWN_PREFIXES.test(name) && !known.includes(name) && !name.startsWith(TEMPORAL_GRPC_META_PREFIX) && !SERVICE_LINK.test(name))
    .map((name) => {
      const near = known.find((k) => k.startsWith(name.split('_')[0]!) && editDistance(k, name) <= 2);
      return `${name}: unknown setting${near ? ` (did you mean ${near}?)` : ''}`;
    });
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let diagonal = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const above = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, diagonal + (a[i - 1] === b[j - 1] ? 0 : 1));
      diagonal = above;
    }
  }
  return row[b.length]!;
}

export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const parsed = envSchema.safeParse(env);
  // Every problem at once: types, unknown names and combinations.
  const set = (name: keyof Env) => Boolean(env[name]?.trim());
  const problems = [
    ...(parsed.success ? [] : parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`)),
    ...unknownSettings(env),
  ];
  const pair = (a: keyof Env, b: keyof Env) => {
    if (set(a) !== set(b)) problems.push(`${a} and ${b} must be set together`);
  };
  pair('QONTO_API_LOGIN', 'QONTO_API_SECRET');
  pair('QONTO_CLIENT_ID', 'QONTO_CLIENT_SECRET');
  pair('MICROSOFT_CLIENT_ID', 'MICROSOFT_CLIENT_SECRET');
  if (set('SMTP_URL') && !set('ALERT_FROM')) problems.push('ALERT_FROM is required with SMTP_URL (the sender of the alert mails)');
  if (set('QONTO_API_LOGIN') && !set('ADMIN_TOKEN')) problems.push('ADMIN_TOKEN is required in API-key mode (QONTO_API_LOGIN)');
  if (set('QONTO_WEBHOOK_SECRET') && set('QONTO_CLIENT_ID') && !set('QONTO_API_LOGIN')) {
    problems.push('QONTO_WEBHOOK_SECRET is for API-key mode (QONTO_API_LOGIN): in OAuth mode each integration subscribes to webhooks with a secret of its own; unset it');
  }
  let temporal: TemporalTarget | undefined;
  try {
    temporal = temporalTarget(env);
  } catch (error) {
    problems.push(`Temporal connection (TEMPORAL_*): ${(error as Error).message}`);
  }
  // The embedded dev server takes neither: they were meant for a server whose address is missing.
  if (temporal && !temporal.address && (temporal.apiKey || temporal.tls)) {
    problems.push('TEMPORAL_API_KEY and TEMPORAL_TLS_* are for an existing Temporal server: set TEMPORAL_ADDRESS (or a TEMPORAL_PROFILE with an address) too');
  }
  const hasCredentials = Boolean(set('QONTO_API_LOGIN') || set('QONTO_CLIENT_ID') || set('MICROSOFT_CLIENT_ID'));
  if (parsed.success && parsed.data.ROLE !== 'all') {
    const role = parsed.data.ROLE;
    // The embedded dev server and the simulators live in one process: a split deployment needs real ones.
    if (temporal && !temporal.address) {
      problems.push(`TEMPORAL_ADDRESS is required with ROLE=${role}: the processes of a split deployment share an existing Temporal server (the embedded dev server runs only with ROLE=all)`);
    }
    // Separate processes share the store and serialise token refreshes through it: only Postgres does
    // that (the embedded SQLite store serialises in its one process, and lives in one DATA_DIR).
    if (!isPostgresUrl(env.DATABASE_URL)) {
      problems.push(`DATABASE_URL=postgres://… is required with ROLE=${role}: the processes of a split deployment share one Postgres store (SQLite serves ROLE=all, one process)`);
    }
    if (parsed.data.SANDBOX ?? !hasCredentials) {
      problems.push(
        `SANDBOX runs only with ROLE=all (the simulators live in that one process)${parsed.data.SANDBOX === undefined ? ': it is on because no Qonto or Microsoft credentials are set; set them' : ': unset SANDBOX'}, or use ROLE=all`,
      );
    }
  }
  // Several hosts share a Postgres store: a key generated into one host's DATA_DIR would leave the
  // others unable to open the tokens and session cookies it sealed.
  if (isPostgresUrl(env.DATABASE_URL) && !set('ENCRYPTION_KEY'))
    problems.push('ENCRYPTION_KEY is required with a Postgres DATABASE_URL: every process must open the tokens and cookies the others sealed, and a key generated into one host\'s DATA_DIR exists on that host only (generate one with `openssl rand -hex 32` and give it to every process)');
  if (problems.length > 0 || !parsed.success || !temporal) throw new ConfigError(problems);
  const e = parsed.data;

  const { SANDBOX, ...rest } = e;
  return {
    ...rest,
    TEMPORAL_ADDRESS: temporal.address,
    TEMPORAL_NAMESPACE: temporal.namespace,
    temporal,
    dataDir: resolve(e.DATA_DIR),
    sandbox: SANDBOX ?? !hasCredentials,
    qontoMode: e.QONTO_API_LOGIN ? 'apiKey' : e.QONTO_CLIENT_ID ? 'oauth' : 'none',
    webhookSecrets: splitWebhookSecrets(e.QONTO_WEBHOOK_SECRET),
    warnings: warningsOf(e),
  };
}
