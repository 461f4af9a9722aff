/** Node's codes for a server certificate that no trusted CA signed (a private CA, a self-signed one). */
const UNTRUSTED_CERTIFICATE = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'UNABLE_TO_GET_ISSUER_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
]);
const OTHER_CERTIFICATE_PROBLEMS = new Set(['ERR_TLS_CERT_ALTNAME_INVALID', 'CERT_HAS_EXPIRED']);
/** node-postgres' error (without a code) for sslmode=require against a server without TLS. */
const SERVER_WITHOUT_TLS = 'The server does not support SSL connections';
/** Postgres' SQLSTATE class of authentication failures (28P01 a wrong password, 28000 no such role or
 * no pg_hba.conf entry). */
const AUTHENTICATION_CLASS = '28';

/** The store could not open its first connection to the Postgres server at start-up. `operatorMustFix`:
 * a failure that waiting will not cure (TLS, authentication, a malformed DATABASE_URL); otherwise the
 * server may just not be reachable yet (down, starting, a network failure), worth a restart later. */
export class StoreConnectError extends Error {
  readonly operatorMustFix: boolean;
  constructor(message: string, options: { cause: unknown; operatorMustFix: boolean }) {
    super(message, { cause: options.cause });
    this.name = 'StoreConnectError';
    this.operatorMustFix = options.operatorMustFix;
  }
}

/**
 * A DATABASE_URL whose password holds a character that ends the URL's authority ('/', '?', '#')
 * unescaped: the parser then takes part of the password for the host, port or database, and the '@'
 * that should end the password lands after the authority. Such a URL names no server to show.
 */
function authorityCutShort(u: URL): boolean {
  return `${u.pathname}${u.search}${u.hash}`.includes('@');
}

/** The URL parsed, or undefined when it cannot be, or when its password spilled out of its authority. */
function parsed(url: string): URL | undefined {
  try {
    const u = new URL(url);
    return authorityCutShort(u) ? undefined : u;
  } catch {
    return undefined;
  }
}

/** Whether the first connection's failure needs the operator (see StoreConnectError). */
export function connectFailureNeedsOperator(url: string, error: unknown): boolean {
  if (parsed(url) === undefined) return true;
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && (UNTRUSTED_CERTIFICATE.has(code) || OTHER_CERTIFICATE_PROBLEMS.has(code) || code.startsWith(AUTHENTICATION_CLASS)))
    return true;
  return error instanceof Error && error.message === SERVER_WITHOUT_TLS;
}

/**
 * Why the first connection to DATABASE_URL failed, with what to change when it is the server's TLS
 * certificate. Names the server by host, port and database only: the URL may carry a password. A URL
 * that does not parse soundly (see authorityCutShort) is named by nothing of it, and the driver's
 * reason is left out too: it would be about a host or database made of pieces of the password.
 */
export function connectFailureMessage(url: string, error: unknown): string {
  const u = parsed(url);
  if (u === undefined)
    return "Cannot connect to the Postgres store: DATABASE_URL is not a valid URL (a '/', '?', '#' or '@' in the user name or password must be percent-encoded, e.g. '/' as %2F)";
  const where = ` at ${u.host}${u.pathname}`;
  const code = (error as { code?: unknown } | null)?.code;
  const reason = error instanceof Error ? error.message : String(error);
  const hint =
    typeof code !== 'string'
      ? ''
      : UNTRUSTED_CERTIFICATE.has(code)
        ? ": the server's TLS certificate is not signed by a CA this process trusts. Name the CA that signed it with sslrootcert=<file> in DATABASE_URL (sslmode=no-verify encrypts without verifying)"
        : code === 'ERR_TLS_CERT_ALTNAME_INVALID'
          ? ": the server's TLS certificate is for another host name than DATABASE_URL's"
          : code === 'CERT_HAS_EXPIRED'
            ? ": the server's TLS certificate has expired"
            : '';
  return `Cannot connect to the Postgres store${where} (DATABASE_URL): ${reason}${hint}`;
}
