// Certificate sets for the interop and verification matrices, made with the
// openssl CLI once per test process. `openssl ca` signs everything, because it
// alone (in OpenSSL 3.0) sets arbitrary validity dates and digests.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const dir = mkdtempSync(join(tmpdir(), 'wasm-tls-matrix-'));
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));

const openssl = (...args) => execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
const read = (name) => readFileSync(join(dir, name), 'utf8');
const write = (name, text) => writeFileSync(join(dir, name), text);

const KEYS = {
  p256: ['-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256'],
  p384: ['-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-384'],
  ed25519: ['-algorithm', 'ED25519'],
  rsa: ['-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048'],
  rsaPss: ['-algorithm', 'RSA-PSS', '-pkeyopt', 'rsa_keygen_bits:2048'],
};

write('ca.cnf', [
  '[ca]', 'default_ca = any',
  '[any]', 'database = index.txt', 'new_certs_dir = .', 'policy = anything', 'unique_subject = no',
  'default_md = sha256', 'email_in_dn = no', 'serial = serial',
  '[anything]', 'commonName = optional', '',
].join('\n'));
write('index.txt', '');

const DAY = 24 * 3600 * 1000;
/** openssl ca's date form, GeneralizedTime: YYYYMMDDHHMMSSZ. */
const stamp = (ms) => new Date(ms).toISOString().replace(/[-:T]/g, '').slice(0, 14) + 'Z';
const NOW = Date.now();

/**
 * Makes `<name>.key` and `<name>.crt`: signed by `issuer` (made before), or
 * self-signed when null. `from`/`to` are offsets in days from now.
 */
function make(name, { subject, issuer = null, kind = 'p256', ext, from = -1, to = 30, md = 'sha256' }) {
  openssl('genpkey', ...KEYS[kind], '-out', `${name}.key`);
  openssl('req', '-new', '-key', `${name}.key`, '-out', `${name}.csr`, '-subj', subject);
  write(`${name}.ext`, `${ext.join('\n')}\n`);
  const signer = issuer ? ['-cert', `${issuer}.crt`, '-keyfile', `${issuer}.key`] : ['-selfsign', '-keyfile', `${name}.key`];
  openssl('ca', '-batch', '-config', 'ca.cnf', '-notext', '-preserveDN', '-rand_serial', ...signer,
    '-in', `${name}.csr`, '-out', `${name}.crt`, '-md', md, '-extfile', `${name}.ext`,
    '-startdate', stamp(NOW + from * DAY), '-enddate', stamp(NOW + to * DAY));
}

const CA = ['basicConstraints=critical,CA:TRUE', 'keyUsage=critical,keyCertSign,cRLSign',
  'subjectKeyIdentifier=hash', 'authorityKeyIdentifier=keyid'];
const leaf = (san, eku = 'serverAuth', ku = 'digitalSignature,keyEncipherment') => [
  'basicConstraints=critical,CA:FALSE', `keyUsage=critical,${ku}`,
  ...(eku ? [`extendedKeyUsage=${eku}`] : []), ...(san ? [`subjectAltName=${san}`] : []),
  'subjectKeyIdentifier=hash', 'authorityKeyIdentifier=keyid'];
// Key usage a key type can have: no key encipherment with EC/EdDSA keys.
const KU = { p256: 'digitalSignature', p384: 'digitalSignature', ed25519: 'digitalSignature',
  rsa: 'digitalSignature,keyEncipherment', rsaPss: 'digitalSignature' };
const LOCAL = 'DNS:localhost,IP:127.0.0.1';

// --- Interop: one root, a server and a client certificate per key type. -----
make('root', { subject: '/O=wasm-tls matrix/CN=Matrix Root', ext: CA });
export const KEY_TYPES = ['p256', 'p384', 'ed25519', 'rsa', 'rsaPss'];
for (const kind of KEY_TYPES) {
  make(`server-${kind}`, { subject: '/CN=localhost', issuer: 'root', kind, ext: leaf(LOCAL, 'serverAuth', KU[kind]) });
  make(`client-${kind}`, { subject: `/CN=client ${kind}`, issuer: 'root', kind, ext: leaf(null, 'clientAuth', KU[kind]) });
}

// --- Verification: one certificate per rule, under the same root. ---------
const V = {};
/** A leaf (and the chain to send after it) for the verification matrix. */
function vLeaf(name, { chain = [], ...options }) {
  make(name, { issuer: 'root', subject: '/CN=localhost', ext: leaf(LOCAL), ...options });
  V[name] = { chain };
}
vLeaf('good', {});
// Name constraints in an intermediate.
make('ncPermit', { subject: '/CN=NC permitted good.example', issuer: 'root', ext: [...CA, 'nameConstraints=critical,permitted;DNS:good.example'] });
make('ncExclude', { subject: '/CN=NC excluded bad.example', issuer: 'root', ext: [...CA, 'nameConstraints=critical,excluded;DNS:bad.example'] });
vLeaf('ncPermitOk', { issuer: 'ncPermit', subject: '/CN=www.good.example', ext: leaf('DNS:www.good.example'), chain: ['ncPermit'] });
vLeaf('ncPermitBad', { issuer: 'ncPermit', subject: '/CN=www.evil.example', ext: leaf('DNS:www.evil.example'), chain: ['ncPermit'] });
vLeaf('ncExcludeOk', { issuer: 'ncExclude', subject: '/CN=www.fine.example', ext: leaf('DNS:www.fine.example'), chain: ['ncExclude'] });
vLeaf('ncExcludeBad', { issuer: 'ncExclude', subject: '/CN=www.bad.example', ext: leaf('DNS:www.bad.example'), chain: ['ncExclude'] });
// pathlen:0 intermediate that issued another CA.
make('path0', { subject: '/CN=pathlen 0', issuer: 'root', ext: ['basicConstraints=critical,CA:TRUE,pathlen:0', ...CA.slice(1)] });
make('path0Sub', { subject: '/CN=under pathlen 0', issuer: 'path0', ext: CA });
vLeaf('pathTooLong', { issuer: 'path0Sub', chain: ['path0Sub', 'path0'] });
vLeaf('path0Ok', { issuer: 'path0', chain: ['path0'] });
// Extended key usage.
vLeaf('ekuClientOnly', { ext: leaf(LOCAL, 'clientAuth') });
vLeaf('ekuCodeSigning', { ext: leaf(LOCAL, 'codeSigning') });
vLeaf('ekuNone', { ext: leaf(LOCAL, null) });
vLeaf('ekuAny', { ext: leaf(LOCAL, 'anyExtendedKeyUsage') });
make('interClientEku', { subject: '/CN=clientAuth-only CA', issuer: 'root', ext: [...CA, 'extendedKeyUsage=clientAuth'] });
vLeaf('ekuInterClientOnly', { issuer: 'interClientEku', chain: ['interClientEku'] });
// Validity.
vLeaf('expired', { from: -400, to: -30 });
vLeaf('notYetValid', { from: 30, to: 400 });
make('interExpired', { subject: '/CN=expired CA', issuer: 'root', ext: CA, from: -400, to: -30 });
vLeaf('underExpiredInter', { issuer: 'interExpired', chain: ['interExpired'] });
make('rootExpired', { subject: '/CN=Expired Root', ext: CA, from: -400, to: -30 });
vLeaf('underExpiredRoot', { issuer: 'rootExpired' });
make('rootFuture', { subject: '/CN=Future Root', ext: CA, from: 30, to: 400 });
vLeaf('underFutureRoot', { issuer: 'rootFuture' });
// A CA:FALSE certificate (and one without basicConstraints) used as an issuer.
make('notCa', { subject: '/CN=not a CA', issuer: 'root', ext: ['basicConstraints=critical,CA:FALSE', 'keyUsage=critical,keyCertSign,digitalSignature'] });
vLeaf('underNotCa', { issuer: 'notCa', chain: ['notCa'] });
make('noBc', { subject: '/CN=no basicConstraints', issuer: 'root', ext: ['keyUsage=critical,keyCertSign,digitalSignature'] });
vLeaf('underNoBc', { issuer: 'noBc', chain: ['noBc'] });
// Unknown critical extensions.
vLeaf('criticalExt', { ext: [...leaf(LOCAL), '1.3.6.1.4.1.55555.1=critical,DER:05:00'] });
vLeaf('nonCriticalExt', { ext: [...leaf(LOCAL), '1.3.6.1.4.1.55555.1=DER:05:00'] });
make('interCriticalExt', { subject: '/CN=CA with unknown critical ext', issuer: 'root', ext: [...CA, '1.3.6.1.4.1.55555.1=critical,DER:05:00'] });
vLeaf('underCriticalExt', { issuer: 'interCriticalExt', chain: ['interCriticalExt'] });
// Key usage.
vLeaf('kuCertSignOnly', { ext: leaf(LOCAL, 'serverAuth', 'keyCertSign') });
vLeaf('kuEnciphermentOnly', { ext: leaf(LOCAL, 'serverAuth', 'keyEncipherment') });
vLeaf('kuAgreement', { ext: leaf(LOCAL, 'serverAuth', 'keyAgreement') });
make('interNoCertSign', { subject: '/CN=CA without keyCertSign', issuer: 'root', ext: ['basicConstraints=critical,CA:TRUE', 'keyUsage=critical,cRLSign,digitalSignature'] });
vLeaf('underNoCertSign', { issuer: 'interNoCertSign', chain: ['interNoCertSign'] });
// Digests.
vLeaf('sha1', { md: 'sha1' });
vLeaf('sha384', { md: 'sha384' });
make('interSha1', { subject: '/CN=SHA-1 signed CA', issuer: 'root', ext: CA, md: 'sha1' });
vLeaf('underSha1Inter', { issuer: 'interSha1', chain: ['interSha1'] });
// Host names.
vLeaf('wildcard', { subject: '/CN=wild', ext: leaf('DNS:*.wild.example') });
vLeaf('ipOnly', { subject: '/CN=localhost', ext: leaf('IP:127.0.0.1,IP:::1') });
vLeaf('noSanCn', { subject: '/CN=localhost', ext: leaf(null) });
vLeaf('sanOtherCn', { subject: '/CN=localhost', ext: leaf('DNS:other.example') });
vLeaf('uriOnlyCn', { subject: '/CN=localhost', ext: leaf('URI:https://localhost/') });
// Client certificates, for the server side.
vLeaf('clientGood', { subject: '/CN=client', ext: leaf(null, 'clientAuth', 'digitalSignature') });
vLeaf('clientServerEku', { subject: '/CN=client', ext: leaf(null, 'serverAuth', 'digitalSignature') });
vLeaf('clientExpired', { subject: '/CN=client', ext: leaf(null, 'clientAuth', 'digitalSignature'), from: -400, to: -30 });
vLeaf('clientKuEncipherOnly', { subject: '/CN=client', ext: leaf(null, 'clientAuth', 'keyEncipherment') });
vLeaf('clientUnderExpiredInter', { subject: '/CN=client', issuer: 'interExpired', ext: leaf(null, 'clientAuth', 'digitalSignature'), chain: ['interExpired'] });
vLeaf('clientCriticalExt', { subject: '/CN=client', ext: [...leaf(null, 'clientAuth', 'digitalSignature'), '1.3.6.1.4.1.55555.1=critical,DER:05:00'] });
make('clientSelf', { subject: '/CN=self client', ext: leaf(null, 'clientAuth', 'digitalSignature') });
V.clientSelf = { chain: [] };

const pem = (name) => read(`${name}.crt`);

/** PEM strings and file paths. */
export const matrix = {
  dir,
  path: (name) => join(dir, name),
  pem,
  root: pem('root'),
  /** `{ key, cert }` per key type, CN=localhost (server) or CN=client <type> (client). */
  server: Object.fromEntries(KEY_TYPES.map((k) => [k, { key: read(`server-${k}.key`), cert: pem(`server-${k}`) }])),
  client: Object.fromEntries(KEY_TYPES.map((k) => [k, { key: read(`client-${k}.key`), cert: pem(`client-${k}`) }])),
  /** `{ key, cert }` (leaf then chain) per verification case. */
  verify: Object.fromEntries(Object.entries(V).map(([name, { chain }]) =>
    [name, { key: read(`${name}.key`), cert: pem(name) + chain.map(pem).join('') }])),
};
