/** Node's codes for a server certificate that no trusted CA signed (a private CA, a self-signed one). */
const UNTRUSTED_CERTIFICATE = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'UNABLE_TO_GET_ISSUER_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
]);

/** The store could not reach its Postgres server at start-up: the operator's to fix, said in words. */
export class StoreConnectError extends Error {
  constructor(message: string, options: { cause: unknown }) {
    super(message, options);
    this.name = 'StoreConnectError';
  }
}

/**
 * Why the first connection to DATABASE_URL failed, with what to change when it is the server's TLS
 * certificate. Names the server by host, port and database only: the URL may carry a password.
 */
export function connectFailureMessage(url: string, error: unknown): string {
  const where = (() => {
    try {
      const u = new URL(url);
      return ` at ${u.host}${u.pathname}`;
    } catch {
      return '';
    }
  })();
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
