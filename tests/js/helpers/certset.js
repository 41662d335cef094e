// Certificates with every field getPeerCertificate() reports, made with the
// openssl CLI once per test process, for comparing wasm-tls with node:tls.
import { execFileSync } from 'node:child_process';
import { generateKeyPairSync, sign } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const dir = mkdtempSync(join(tmpdir(), 'wasm-tls-certset-'));
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));

const openssl = (...args) => execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
const read = (name) => readFileSync(join(dir, name), 'utf8');
const write = (name, text) => writeFileSync(join(dir, name), text);

const KEYS = {
  rsa: ['-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048'],
  rsa1024: ['-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:1024'],
  rsa1028: ['-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:1028'],
  rsa3072e3: ['-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:3072', '-pkeyopt', 'rsa_keygen_pubexp:3'],
  p256: ['-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256'],
  p384: ['-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-384'],
  p521: ['-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-521'],
  secp256k1: ['-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:secp256k1'],
  ed25519: ['-algorithm', 'ED25519'],
  ed448: ['-algorithm', 'ED448'],
  rsaPss: ['-algorithm', 'RSA-PSS', '-pkeyopt', 'rsa_keygen_bits:2048'],
};

function key(name, kind) {
  if (kind === 'dsa') {
    openssl('genpkey', '-genparam', '-algorithm', 'DSA', '-pkeyopt', 'dsa_paramgen_bits:1024', '-out', `${name}.params`);
    openssl('genpkey', '-paramfile', `${name}.params`, '-out', `${name}.key`);
  } else {
    openssl('genpkey', ...KEYS[kind], '-out', `${name}.key`);
  }
}


/** An extensions file with a `[ext]` section (plus any extra sections). */
function extFile(name, lines, extra = '') {
  write(`${name}.ext`, `[ext]\n${lines.join('\n')}\n${extra}`);
  return ['-extfile', `${name}.ext`, '-extensions', 'ext'];
}

/**
 * A certificate for `subject`: signed by `issuer` (a name made here before),
 * or self-signed when `issuer` is null. No `ext` at all gives an X.509 v1 cert.
 */
function make(name, { subject, issuer = null, kind = 'p256', ext, extra, serial, reqArgs = [], config }) {
  key(name, kind);
  const cfg = config ? (write(`${name}.cnf`, config), ['-config', `${name}.cnf`]) : [];
  openssl('req', '-new', '-key', `${name}.key`, '-out', `${name}.csr`, '-subj', subject, ...cfg, ...reqArgs);
  const signer = issuer
    ? ['-CA', `${issuer}.crt`, '-CAkey', `${issuer}.key`]
    : ['-signkey', `${name}.key`];
  openssl('x509', '-req', '-in', `${name}.csr`, ...signer, '-out', `${name}.crt`, '-days', '30',
    '-set_serial', serial ?? `0x${(nextSerial++).toString(16)}`,
    ...(ext ? extFile(name, ext, extra) : []));
}
let nextSerial = 0x1001;

const CA = ['basicConstraints=critical,CA:TRUE', 'keyUsage=critical,keyCertSign,cRLSign',
  'subjectKeyIdentifier=hash', 'authorityKeyIdentifier=keyid'];
const LEAF = ['basicConstraints=critical,CA:FALSE', 'keyUsage=critical,digitalSignature,keyEncipherment',
  'subjectKeyIdentifier=hash', 'authorityKeyIdentifier=keyid,issuer'];
const san = (value) => [...LEAF, `subjectAltName=${value}`];

// Roots and intermediates.
make('rootRsa', { subject: '/C=US/ST=California/L=San Francisco/O=wasm-tls tests/OU=Roots/CN=RSA Root', kind: 'rsa', ext: CA });
make('interRsa', { subject: '/C=US/O=wasm-tls tests/CN=RSA Intermediate', issuer: 'rootRsa', kind: 'rsa', ext: CA });
make('rootEc', { subject: '/O=wasm-tls tests/CN=EC Root', ext: CA });
make('interEc', { subject: '/O=wasm-tls tests/CN=EC Intermediate', issuer: 'rootEc', ext: CA });

// Leaves served in handshakes.
make('rsaLeaf', { subject: '/CN=localhost', issuer: 'interRsa', kind: 'rsa', ext: [...san('DNS:localhost,IP:127.0.0.1'), 'extendedKeyUsage=serverAuth'] });
make('ecLeaf', { subject: '/CN=localhost', issuer: 'interEc', ext: san('DNS:localhost') });
make('p384', { subject: '/CN=p384.example', issuer: 'rootEc', kind: 'p384', ext: san('DNS:p384.example') });
make('selfSigned', { subject: '/CN=self.example', kind: 'rsa', ext: ['basicConstraints=critical,CA:TRUE', 'subjectKeyIdentifier=hash', 'authorityKeyIdentifier=keyid', 'subjectAltName=DNS:self.example'] });
make('selfLeaf', { subject: '/CN=self-leaf.example', ext: [...LEAF.slice(0, 3), 'subjectAltName=DNS:self-leaf.example'] });
// customAttr is an OID the openssl CLI is told about and Node's OpenSSL is not.
make('names', {
  subject: '/C=DE/ST=Berlin/L=Berlin/O=Ünïcødé GmbH/OU=First Unit/OU=Second Unit/CN=Zoë Ünïcødé 日本/emailAddress=zoe@example.com'
    + '/DC=example/DC=com/serialNumber=12345/street=Main St 1/postalCode=10115/title=Dr/GN=Zoë/SN=Ünïcødé/UID=zoe'
    + '/customAttr=custom/businessCategory=Private Organization/jurisdictionC=DE/organizationIdentifier=VATDE-123',
  issuer: 'rootRsa', reqArgs: ['-utf8'], ext: san('DNS:names.example'),
  config: 'oid_section=oids\n[oids]\ncustomAttr=1.2.3.4.5\n[req]\ndistinguished_name=dn\n[dn]\n',
});
make('multiRdn', { subject: '/O=Multi/OU=a+CN=multi.example+UID=m1/OU=b', issuer: 'rootRsa', reqArgs: ['-multivalue-rdn', '-utf8'], ext: san('DNS:multi.example') });
// string_mask=default picks T61String for Latin-1 text and BMPString beyond it.
make('legacyStrings', {
  subject: '/CN=Zoë Ünïcødé/O=日本語の会社/OU=Plain', issuer: 'rootEc', reqArgs: ['-utf8'],
  config: '[req]\ndistinguished_name=dn\nstring_mask=default\n[dn]\n', ext: san('DNS:legacy.example'),
});
make('sans', {
  subject: '/CN=sans.example', issuer: 'rootEc', ext: [...LEAF, 'subjectAltName=@alt'], extra: [
    '[alt]',
    'DNS.1 = sans.example', 'DNS.2 = *.wild.example', 'DNS.3 = "comma,in.example"', 'DNS.4 = quote\\"in.example',
    'DNS.5 = space in.example',
    'IP.1 = 10.1.2.3', 'IP.2 = ::1', 'IP.3 = 2001:db8:0:0:1:0:0:1', 'IP.4 = fe80::abcd:ef01', 'IP.5 = ::ffff:192.0.2.1',
    'email.1 = someone@sans.example', 'email.2 = "a,b"@sans.example',
    'URI.1 = https://sans.example/path?q=1#frag', 'URI.2 = http://comma.example/a,b', 'URI.3 = urn:uuid:1234',
    'dirName.1 = dir', 'RID.1 = 1.2.3.4.5',
    'otherName.1 = 1.3.6.1.4.1.311.20.2.3;UTF8:upn@sans.example',
    'otherName.2 = 1.3.6.1.5.5.7.8.9;UTF8:mailbox@sans.example',
    'otherName.3 = 1.2.3.4;UTF8:unsupported',
    'otherName.4 = 1.3.6.1.5.5.7.8.5;UTF8:xmpp@sans.example, with comma',
    'otherName.5 = 1.3.6.1.5.5.7.8.7;IA5:_imap.sans.example',
    'otherName.6 = 1.3.6.1.5.5.7.8.8;UTF8:realm.example',
    'otherName.7 = 1.3.6.1.5.5.7.8.7;UTF8:_wrong.type',
    // The CLI passes bytes through: UTF-8 in an IA5String, a tab.
    'DNS.6 = ü.example', 'DNS.7 = tab\there.example', 'URI.4 = http://sans.example/ü',
    '[dir]', 'C = US', 'O = Dir, Inc.', 'CN = Dir "Name" + More', 'OU = "#hash, <a>;b=c+d"', '+CN = multi',
    'OU = \\ lead and trail \\ ', '1.CN = "#"', '2.CN = Zoë', '',
  ].join('\n'),
});
make('aia', {
  subject: '/CN=aia.example', issuer: 'rootEc', ext: [...san('DNS:aia.example'), 'authorityInfoAccess=@aia'],
  extra: ['[aia]', 'OCSP;URI.0 = http://ocsp.example/', 'caIssuers;URI.1 = http://ca.example/root.crt',
    'OCSP;URI.2 = http://ocsp2.example/', 'caIssuers;URI.3 = "http://ca.example/a,b.crt"', 'caIssuers;DNS.4 = ca.example',
    '1.3.6.1.5.5.7.48.3;URI.5 = http://tsa.example/', '1.3.6.1.5.5.7.48.5;URI.6 = http://repository.example/',
    '1.2.3.4;URI.7 = http://unknown-method.example/', 'caIssuers;IP.8 = 192.0.2.7', 'OCSP;dirName.9 = aiadir',
    '[aiadir]', 'CN = x, y', 'O = AIA', ''].join('\n'),
});
make('noSan', { subject: '/CN=nosan.example', issuer: 'rootEc', ext: LEAF });
make('eku', {
  subject: '/CN=eku.example', issuer: 'rootEc',
  ext: [...san('DNS:eku.example'), 'extendedKeyUsage=clientAuth,serverAuth,codeSigning,emailProtection,timeStamping,OCSPSigning,1.2.3.4.5.6'],
});
make('leadingZeroSerial', { subject: '/CN=serial.example', issuer: 'rootEc', ext: san('DNS:serial.example'), serial: '0x00ff0102030405060708090a0b0c0d0e0f1011' });
make('smallSerial', { subject: '/CN=small-serial.example', issuer: 'rootEc', ext: san('DNS:small-serial.example'), serial: '0x0f' });
make('zeroSerial', { subject: '/CN=zero-serial.example', issuer: 'rootEc', ext: san('DNS:zero-serial.example'), serial: '0' });
make('negativeSerial', { subject: '/CN=negative-serial.example', issuer: 'rootEc', ext: san('DNS:negative-serial.example'), serial: '-5' });
make('rsa3072e3', { subject: '/CN=e3.example', issuer: 'rootRsa', kind: 'rsa3072e3', ext: san('DNS:e3.example') });
make('ed25519', { subject: '/CN=ed25519.example', issuer: 'rootEc', kind: 'ed25519', ext: san('DNS:ed25519.example') });
make('caLeaf', { subject: '/CN=ca-leaf.example', issuer: 'rootEc', ext: ['basicConstraints=CA:TRUE', 'subjectAltName=DNS:ca-leaf.example'] });
make('caNoCertSign', { subject: '/CN=ca-nosign.example', issuer: 'rootEc', ext: ['basicConstraints=CA:TRUE', 'keyUsage=digitalSignature', 'subjectAltName=DNS:ca-nosign.example'] });
make('v1', { subject: '/CN=v1.example/O=Version One', issuer: 'rootRsa', kind: 'rsa' });
make('rsa1024', { subject: '/CN=rsa1024.example', kind: 'rsa1024', ext: ['subjectAltName=DNS:rsa1024.example'] });
// Only described, not served (rustls cannot sign or verify with these keys).
make('p521', { subject: '/CN=p521.example', issuer: 'rootEc', kind: 'p521', ext: san('DNS:p521.example') });
make('secp256k1', { subject: '/CN=k1.example', issuer: 'rootEc', kind: 'secp256k1', ext: san('DNS:k1.example') });
make('rsa1028', { subject: '/CN=rsa1028.example', kind: 'rsa1028', ext: ['subjectAltName=DNS:rsa1028.example'] });
make('v1Self', { subject: '/CN=v1-self.example' });
make('rsaPss', { subject: '/CN=pss.example', kind: 'rsaPss', ext: ['subjectAltName=DNS:pss.example'] });
make('ed448', { subject: '/CN=ed448.example', issuer: 'rootEc', kind: 'ed448', ext: san('DNS:ed448.example') });
make('dsa', { subject: '/CN=dsa.example', issuer: 'rootEc', kind: 'dsa', ext: san('DNS:dsa.example') });

const pem = (name) => read(`${name}.crt`);

/** `{ key, cert }` to serve (cert may be a chain) and `ca`, the root that issued it. */
function served(name, { chain = [], ca = null } = {}) {
  return { key: read(`${name}.key`), cert: pem(name) + chain.map(pem).join(''), ca: ca && pem(ca) };
}

export const certset = {
  dir,
  served: {
    rsaChain: served('rsaLeaf', { chain: ['interRsa'], ca: 'rootRsa' }),
    ecChain: served('ecLeaf', { chain: ['interEc'], ca: 'rootEc' }),
    ecChainWithRoot: served('ecLeaf', { chain: ['interEc', 'rootEc'], ca: 'rootEc' }),
    ecChainOutOfOrder: served('ecLeaf', { chain: ['rootEc', 'interEc'], ca: 'rootEc' }),
    p384: served('p384', { ca: 'rootEc' }),
    selfSigned: served('selfSigned', { ca: 'selfSigned' }),
    selfLeaf: served('selfLeaf', { ca: 'selfLeaf' }),
    names: served('names', { ca: 'rootRsa' }),
    multiRdn: served('multiRdn', { ca: 'rootRsa' }),
    legacyStrings: served('legacyStrings', { ca: 'rootEc' }),
    sans: served('sans', { ca: 'rootEc' }),
    aia: served('aia', { ca: 'rootEc' }),
    noSan: served('noSan', { ca: 'rootEc' }),
    eku: served('eku', { ca: 'rootEc' }),
    leadingZeroSerial: served('leadingZeroSerial', { ca: 'rootEc' }),
    smallSerial: served('smallSerial', { ca: 'rootEc' }),
    zeroSerial: served('zeroSerial', { ca: 'rootEc' }),
    negativeSerial: served('negativeSerial', { ca: 'rootEc' }),
    rsa3072e3: served('rsa3072e3', { ca: 'rootRsa' }),
    ed25519: served('ed25519', { ca: 'rootEc' }),
    caLeaf: served('caLeaf', { ca: 'rootEc' }),
    caNoCertSign: served('caNoCertSign', { ca: 'rootEc' }),
    v1: served('v1', { ca: 'rootRsa' }),
    rsa1024: served('rsa1024', { ca: 'rsa1024' }),
    /** Leaf only; the client's ca holds the intermediate and the root. */
    caBundle: { ...served('ecLeaf'), ca: pem('interEc') + pem('rootEc') },
  },
  /** PEM certificates to describe without a handshake. */
  pem: Object.fromEntries(['rootRsa', 'interRsa', 'rootEc', 'interEc', 'p521', 'secp256k1', 'rsa1028', 'v1Self', 'v1',
    'rsa1024', 'rsaPss', 'ed448', 'dsa', 'zeroSerial', 'negativeSerial', 'names', 'multiRdn', 'legacyStrings', 'sans', 'aia']
    .map((n) => [n, pem(n)])),
};

// Certificates built byte by byte, for encodings the openssl CLI will not
// produce (BMPString surrogates, raw bytes in IA5Strings, odd IP lengths, ...).
// Signed with a P-256 key; only described, never served.

/** DER: one element from its tag byte and contents. */
export function tlv(tag, ...content) {
  const body = Buffer.concat(content.map((c) => (typeof c === 'string' ? Buffer.from(c, 'latin1') : Buffer.from(c))));
  const n = body.length;
  const len = n < 0x80 ? [n] : n < 0x100 ? [0x81, n] : [0x82, n >> 8, n & 0xff];
  return Buffer.concat([Buffer.from([tag, ...len]), body]);
}

/** DER: an OBJECT IDENTIFIER from dotted text. */
export function oid(dotted) {
  const arcs = dotted.split('.').map(BigInt);
  const bytes = [];
  for (let arc of [arcs[0] * 40n + arcs[1], ...arcs.slice(2)]) {
    const groups = [];
    do { groups.unshift(Number(arc % 128n)); arc /= 128n; } while (arc > 0n);
    bytes.push(...groups.map((g, j) => (j < groups.length - 1 ? g | 0x80 : g)));
  }
  return tlv(0x06, Buffer.from(bytes));
}

/** DER: a Name from RDNs, each a list of [oid, tag, value]. */
export function name(...rdns) {
  return tlv(0x30, ...rdns.map((rdn) => tlv(0x31, ...rdn.map(([type, tag, value]) =>
    tlv(0x30, oid(type), Buffer.isBuffer(value) ? tlv(tag, value) : tlv(tag, Buffer.from(value, tag === 0x0c ? 'utf8' : 'latin1')))))));
}

export const bmp = (s) => Buffer.from(s, 'utf16le').swap16();
export const ucs4 = (s) => Buffer.concat([...s].map((c) => { const b = Buffer.alloc(4); b.writeUInt32BE(c.codePointAt(0)); return b; }));

/** DER: an extension. */
export const extension = (type, value, critical = false) =>
  tlv(0x30, oid(type), ...(critical ? [tlv(0x01, [0xff])] : []), tlv(0x04, value));

const craftKey = generateKeyPairSync('ec', { namedCurve: 'P-256' });

/** A certificate (PEM) with the given DER pieces, signed by a throwaway P-256 key. */
export function crafted({ subject, issuer = subject, extensions = [], serial = [0x01], validity }) {
  const alg = tlv(0x30, oid('1.2.840.10045.4.3.2'));
  const time = (s) => tlv(0x17, s);
  const tbs = tlv(0x30,
    tlv(0xa0, tlv(0x02, [0x02])),
    tlv(0x02, serial),
    alg,
    issuer,
    validity ?? tlv(0x30, time('240101000000Z'), time('340101000000Z')),
    subject,
    craftKey.publicKey.export({ type: 'spki', format: 'der' }),
    ...(extensions.length ? [tlv(0xa3, tlv(0x30, ...extensions))] : []));
  const signature = sign('sha256', tbs, craftKey.privateKey);
  const der = tlv(0x30, tbs, alg, tlv(0x03, [0], signature));
  return `-----BEGIN CERTIFICATE-----\n${der.toString('base64').match(/.{1,64}/g).join('\n')}\n-----END CERTIFICATE-----\n`;
}
