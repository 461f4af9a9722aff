import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface TestCertificates {
  /** The CA that signed the server's certificate. */
  ca: string;
  /** Another CA, which signed nothing the server shows. */
  otherCa: string;
  /** The server's certificate (for 127.0.0.1 and localhost) and its key. */
  cert: string;
  key: string;
}

/** A private CA and a server certificate it signed, made with `openssl` in `dir` (PEM files), plus an
 * unrelated CA: what an operator of a self-hosted server with its own CA has, and a wrong one. */
export async function makeTestCertificates(dir: string): Promise<TestCertificates> {
  const file = (name: string) => join(dir, name);
  const ecKey = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  const selfSignedCa = (name: string, subject: string) =>
    run('openssl', ['req', '-x509', ...ecKey, '-keyout', file(`${name}.key`), '-out', file(`${name}.pem`), '-days', '2', '-subj', subject]);
  await Promise.all([selfSignedCa('ca', '/CN=receipts test CA'), selfSignedCa('other-ca', '/CN=some other CA')]);
  await run('openssl', ['req', ...ecKey, '-keyout', file('server.key'), '-out', file('server.csr'), '-subj', '/CN=127.0.0.1']);
  writeFileSync(file('server.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\n');
  await run('openssl', [
    'x509', '-req', '-in', file('server.csr'), '-CA', file('ca.pem'), '-CAkey', file('ca.key'), '-CAcreateserial',
    '-out', file('server.crt'), '-days', '2', '-extfile', file('server.ext'),
  ]);
  return { ca: file('ca.pem'), otherCa: file('other-ca.pem'), cert: file('server.crt'), key: file('server.key') };
}
