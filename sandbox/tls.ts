// A throwaway certificate authority and a server certificate for the sandbox's github.com layout:
// `{hostname}` serves git and the web, `api.{hostname}` the REST API, both over https
// as on github.com. Made with the openssl CLI in the sandbox root; clients trust the CA through
// NODE_EXTRA_CA_CERTS (worker processes) or an explicit `ca`.
import { execFile } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface SandboxTls {
  /** PEM of the CA that signed the server certificate. */
  caPem: string;
  caFile: string;
  key: string;
  cert: string;
}

export async function createSandboxTls(dir: string, hostname: string): Promise<SandboxTls> {
  if (!/^[a-z0-9.-]+$/.test(hostname)) throw new Error(`invalid sandbox hostname ${hostname}`);
  const f = (name: string) => path.join(dir, name);
  const openssl = (args: string[]) => run('openssl', args, { cwd: dir });
  await openssl([
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-days',
    '2',
    '-subj',
    '/CN=relyloop-pr sandbox CA',
    '-addext',
    'basicConstraints=critical,CA:TRUE',
    '-addext',
    'keyUsage=critical,keyCertSign,cRLSign',
    '-keyout',
    f('ca.key'),
    '-out',
    f('ca.pem'),
  ]);
  await openssl([
    'req',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-subj',
    `/CN=${hostname}`,
    '-keyout',
    f('server.key'),
    '-out',
    f('server.csr'),
  ]);
  await writeFile(f('server.ext'), `subjectAltName=DNS:${hostname},DNS:api.${hostname}\nextendedKeyUsage=serverAuth\n`);
  await openssl([
    'x509',
    '-req',
    '-in',
    f('server.csr'),
    '-CA',
    f('ca.pem'),
    '-CAkey',
    f('ca.key'),
    '-CAcreateserial',
    '-days',
    '2',
    '-extfile',
    f('server.ext'),
    '-out',
    f('server.pem'),
  ]);
  const [caPem, key, cert] = await Promise.all([
    readFile(f('ca.pem'), 'utf8'),
    readFile(f('server.key'), 'utf8'),
    readFile(f('server.pem'), 'utf8'),
  ]);
  return { caPem, caFile: f('ca.pem'), key, cert };
}
