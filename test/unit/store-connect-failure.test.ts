import { describe, expect, it } from 'vitest';
import { exitCodeFor } from '../../src/roles/exit-code.js';
import { StartupError } from '../../src/roles/startup-error.js';
import { StoreConnectError, connectFailureMessage, connectFailureNeedsOperator } from '../../src/store/connect-failure.js';

const tlsError = (code: string, message: string) => Object.assign(new Error(message), { code });
const URL_WITH_PASSWORD = 'postgres://receipts:s3cret-pass@db.example.com:5432/receipts?sslmode=verify-full';

describe('connectFailureMessage', () => {
  it('names the server by host, port and database, never the password', () => {
    const message = connectFailureMessage(URL_WITH_PASSWORD, Object.assign(new Error('connect ECONNREFUSED 10.0.0.5:5432'), { code: 'ECONNREFUSED' }));
    expect(message).toBe('Cannot connect to the Postgres store at db.example.com:5432/receipts (DATABASE_URL): connect ECONNREFUSED 10.0.0.5:5432');
    expect(message).not.toContain('s3cret');
  });

  it('says what to change when the server\'s certificate is not signed by a trusted CA', () => {
    for (const code of ['UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'SELF_SIGNED_CERT_IN_CHAIN', 'DEPTH_ZERO_SELF_SIGNED_CERT', 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY']) {
      expect(connectFailureMessage(URL_WITH_PASSWORD, tlsError(code, 'unable to verify the first certificate')), code).toMatch(
        /: unable to verify the first certificate: the server's TLS certificate is not signed by a CA this process trusts\. Name the CA that signed it with sslrootcert=<file> in DATABASE_URL/,
      );
    }
  });

  it('tells a certificate for another host and an expired one apart', () => {
    expect(connectFailureMessage(URL_WITH_PASSWORD, tlsError('ERR_TLS_CERT_ALTNAME_INVALID', "Hostname/IP does not match certificate's altnames"))).toMatch(/for another host name than DATABASE_URL's$/);
    expect(connectFailureMessage(URL_WITH_PASSWORD, tlsError('CERT_HAS_EXPIRED', 'certificate has expired'))).toMatch(/: certificate has expired: the server's TLS certificate has expired$/);
  });

  it('says what is wrong when DATABASE_URL cannot be parsed', () => {
    expect(connectFailureMessage('not a url', new Error('Invalid URL'))).toMatch(/^Cannot connect to the Postgres store: DATABASE_URL is not a valid URL \(a '\/', '\?', '#' or '@' in the user name or password must be percent-encoded/);
  });

  it('shows no part of a password holding an unescaped /, ? or #, though the URL parses (with the password cut into host, port and database)', () => {
    const cases = [
      // Parsed as host "receipts", port 4711, database "s3cret@db.example.com:5432/receipts".
      'postgres://receipts:4711/s3cret@db.example.com:5432/receipts',
      'postgres://receipts:4711?s3cret@db.example.com:5432/receipts',
      'postgres://receipts:4711#s3cret@db.example.com:5432/receipts',
    ];
    for (const url of cases) {
      expect(() => new URL(url), url).not.toThrow();
      // What node-postgres says after connecting where such a URL points.
      for (const error of [
        Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:4711'), { code: 'ECONNREFUSED' }),
        Object.assign(new Error('database "s3cret@db.example.com:5432/receipts" does not exist'), { code: '3D000' }),
      ]) {
        const message = connectFailureMessage(url, error);
        expect(message, url).toMatch(/^Cannot connect to the Postgres store: DATABASE_URL is not a valid URL/);
        for (const part of ['4711', 's3cret']) expect(message, url).not.toContain(part);
        // Waiting will not cure it.
        expect(connectFailureNeedsOperator(url, error), url).toBe(true);
      }
    }
  });
});

describe('connectFailureNeedsOperator', () => {
  const failure = (code: string, message = code) => Object.assign(new Error(message), { code });

  it('is false for a server not reachable yet: down, still starting, or a network failure (exit code 1, worth a restart later)', () => {
    for (const code of ['ECONNREFUSED', 'ETIMEDOUT', 'ENOTFOUND', 'EAI_AGAIN', 'ECONNRESET', '57P03'])
      expect(connectFailureNeedsOperator(URL_WITH_PASSWORD, failure(code)), code).toBe(false);
    // node-postgres' own timeout carries no code.
    expect(connectFailureNeedsOperator(URL_WITH_PASSWORD, new Error('timeout expired'))).toBe(false);
  });

  it('is true for TLS and authentication failures, which the operator must fix (exit code 2)', () => {
    for (const code of ['SELF_SIGNED_CERT_IN_CHAIN', 'UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'ERR_TLS_CERT_ALTNAME_INVALID', 'CERT_HAS_EXPIRED', '28P01', '28000'])
      expect(connectFailureNeedsOperator(URL_WITH_PASSWORD, failure(code)), code).toBe(true);
    expect(connectFailureNeedsOperator(URL_WITH_PASSWORD, new Error('The server does not support SSL connections'))).toBe(true);
  });
});

describe('exitCodeFor', () => {
  it('exits 2 for a start-up problem the operator must fix, 1 for a store server not reachable yet', () => {
    expect(exitCodeFor(new StartupError('Cannot connect to the Postgres store at db:5432/receipts (DATABASE_URL): self-signed certificate in certificate chain'))).toBe(2);
    const unreachable = new StoreConnectError('Cannot connect to the Postgres store at db:5432/receipts (DATABASE_URL): connect ECONNREFUSED', {
      cause: Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }),
      operatorMustFix: false,
    });
    expect(exitCodeFor(unreachable)).toBe(1);
  });
});
