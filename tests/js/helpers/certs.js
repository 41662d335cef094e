// Test certificates, made with the openssl CLI once per test process.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const dir = mkdtempSync(join(tmpdir(), 'wasm-tls-certs-'));
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));

const openssl = (...args) => execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
const read = (name) => readFileSync(join(dir, name), 'utf8');

function key(name, kind) {
  if (kind === 'rsa') openssl('genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048', '-out', name);
  else openssl('genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', name);
}

/** A self-signed CA (or a self-signed leaf, with `ext`). */
function selfSigned(name, subject, kind, ext = ['basicConstraints=critical,CA:TRUE', 'keyUsage=critical,keyCertSign,cRLSign']) {
  key(`${name}.key`, kind);
  openssl('req', '-x509', '-new', '-key', `${name}.key`, '-out', `${name}.crt`, '-days', '30', '-subj', subject,
    ...ext.flatMap((e) => ['-addext', e]));
}

/** A certificate for `subject` signed by `issuer`. */
function signed(name, subject, issuer, kind, ext) {
  key(`${name}.key`, kind);
  openssl('req', '-new', '-key', `${name}.key`, '-out', `${name}.csr`, '-subj', subject);
  writeFileSync(join(dir, `${name}.ext`), ext.join('\n') + '\n');
  openssl('x509', '-req', '-in', `${name}.csr`, '-CA', `${issuer}.crt`, '-CAkey', `${issuer}.key`,
    '-CAcreateserial', '-out', `${name}.crt`, '-days', '30', '-extfile', `${name}.ext`);
}

const leafExt = (san) => [
  'basicConstraints=critical,CA:FALSE',
  'keyUsage=critical,digitalSignature,keyEncipherment',
  'extendedKeyUsage=serverAuth',
  `subjectAltName=${san}`,
];
const caExt = ['basicConstraints=critical,CA:TRUE', 'keyUsage=critical,keyCertSign,cRLSign'];

selfSigned('ca', '/O=wasm-tls tests/CN=Test Root CA', 'ec');
signed('ec', '/CN=localhost', 'ca', 'ec', leafExt('DNS:localhost,IP:127.0.0.1'));
signed('rsa', '/CN=localhost', 'ca', 'rsa', leafExt('DNS:localhost,IP:127.0.0.1'));
signed('other', '/CN=other.example', 'ca', 'ec', leafExt('DNS:other.example,DNS:*.other.example'));
signed('inter', '/O=wasm-tls tests/CN=Test Intermediate CA', 'ca', 'ec', caExt);
signed('chained', '/CN=localhost', 'inter', 'ec', leafExt('DNS:localhost'));
selfSigned('self', '/CN=localhost', 'ec', ['subjectAltName=DNS:localhost']);
// X.509 v1 (no extensions at all), signed by the CA.
key('v1.key', 'ec');
openssl('req', '-new', '-key', 'v1.key', '-out', 'v1.csr', '-subj', '/CN=localhost');
openssl('x509', '-req', '-in', 'v1.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'v1.crt', '-days', '30');
signed('client', '/CN=wasm-tls client', 'ca', 'ec', [
  'basicConstraints=critical,CA:FALSE', 'keyUsage=critical,digitalSignature', 'extendedKeyUsage=clientAuth',
]);
signed('rsaclient', '/CN=wasm-tls rsa client', 'ca', 'rsa', [
  'basicConstraints=critical,CA:FALSE', 'keyUsage=critical,digitalSignature,keyEncipherment', 'extendedKeyUsage=clientAuth',
]);

/** PEM strings. */
export const certs = {
  dir,
  ca: read('ca.crt'),
  ec: { key: read('ec.key'), cert: read('ec.crt') },
  rsa: { key: read('rsa.key'), cert: read('rsa.crt') },
  other: { key: read('other.key'), cert: read('other.crt') },
  inter: { key: read('inter.key'), cert: read('inter.crt') },
  /** Leaf signed by the intermediate; `cert` holds leaf + intermediate. */
  chained: { key: read('chained.key'), cert: read('chained.crt') + read('inter.crt'), leaf: read('chained.crt') },
  self: { key: read('self.key'), cert: read('self.crt') },
  /** X.509 v1, CN=localhost, issued by the CA. */
  v1: { key: read('v1.key'), cert: read('v1.crt') },
  /** Client certificates (EKU clientAuth). */
  client: { key: read('client.key'), cert: read('client.crt') },
  rsaclient: { key: read('rsaclient.key'), cert: read('rsaclient.crt') },
  path: (name) => join(dir, name),
};
