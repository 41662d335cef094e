// getPeerCertificate(), with node:tls as the oracle: the same server, the same
// client options, and the two objects must be equal key for key, in Node's key
// order, with Node's prototypes, all the way up the detailed chain.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { X509Certificate } from 'node:crypto';
import ntls from 'node:tls';
import { connect } from 'wasm-tls';
import { certificateObject } from '../../js/certificate.js';
import { bmp, certset, crafted, extension, name, oid, tlv, ucs4 } from './helpers/certset.js';
import { nodeServer } from './helpers/peers.js';

/**
 * Asserts the two certificate objects equal, and every object in them (names,
 * infoAccess, issuers) has the same keys in the same order and the same prototype.
 */
function assertSameCertificate(actual, expected) {
  assert.deepStrictEqual(actual, expected);
  const seen = new Set();
  const walk = (a, e, path) => {
    if (typeof e !== 'object' || e === null || Buffer.isBuffer(e) || seen.has(e)) return;
    seen.add(e);
    assert.deepStrictEqual(Object.keys(a), Object.keys(e), `key order of ${path}`);
    assert.equal(Object.getPrototypeOf(a), Object.getPrototypeOf(e), `prototype of ${path}`);
    for (const k of Object.keys(e)) walk(a[k], e[k], `${path}.${k}`);
  };
  walk(actual, expected, 'cert');
}

/** Connects; reads getPeerCertificate() and getPeerCertificate(true), and again after destroy(). */
async function peerCertificates(lib, port, options) {
  const socket = lib({ host: '127.0.0.1', port, ...options });
  const error = await new Promise((resolve) => {
    socket.once('secureConnect', () => resolve(null));
    socket.once('error', resolve);
  });
  if (error) {
    socket.destroy();
    throw error;
  }
  const result = { short: socket.getPeerCertificate(), detailed: socket.getPeerCertificate(true) };
  socket.destroy();
  await once(socket, 'close');
  result.afterDestroy = socket.getPeerCertificate();
  return result;
}

/** Serves `server` with node:tls; connects with node:tls and with wasm-tls; compares. */
async function compare(server, options) {
  const srv = await nodeServer({ key: server.key, cert: server.cert });
  try {
    const expected = await peerCertificates(ntls.connect, srv.port, options);
    const actual = await peerCertificates(connect, srv.port, options);
    assertSameCertificate(actual.short, expected.short);
    assert.equal(actual.short.issuerCertificate, undefined);
    assertSameCertificate(actual.detailed, expected.detailed);
    assert.equal(expected.afterDestroy, null);
    assert.equal(actual.afterDestroy, null);
    return { actual, expected };
  } finally {
    await srv.close();
  }
}

/** Subject CNs up the detailed chain; '(self)' when the last links to itself. */
function chainNames(cert) {
  const names = [];
  for (let c = cert; c; c = c.issuerCertificate) {
    names.push(c.subject.CN);
    if (c.issuerCertificate === c) { names.push('(self)'); break; }
  }
  return names;
}

for (const [name, server] of Object.entries(certset.served)) {
  test(`${name}: same objects as node:tls (rejectUnauthorized: false)`, async () => {
    await compare(server, { rejectUnauthorized: false });
  });
  test(`${name}: same objects as node:tls (ca, rejectUnauthorized: false)`, async () => {
    await compare(server, { ca: server.ca, rejectUnauthorized: false });
  });
}

test('the detailed chain reaches the trusted root, which links to itself', async () => {
  const server = certset.served.rsaChain;
  const { actual } = await compare(server, { ca: server.ca, rejectUnauthorized: false });
  assert.deepStrictEqual(chainNames(actual.detailed), ['localhost', 'RSA Intermediate', 'RSA Root', '(self)']);
  const root = actual.detailed.issuerCertificate.issuerCertificate;
  assert.equal(root.issuerCertificate, root);
  const plain = await compare(server, { rejectUnauthorized: false });
  assert.deepStrictEqual(chainNames(plain.actual.detailed), ['localhost', 'RSA Intermediate']);
});

test('spot checks of the fields', async () => {
  const { actual: names } = await compare(certset.served.names, { rejectUnauthorized: false });
  const subject = names.short.subject;
  assert.equal(Object.getPrototypeOf(subject), null);
  assert.deepStrictEqual(subject.OU, ['First Unit', 'Second Unit']);
  assert.equal(subject.CN, 'Zoë Ünïcødé 日本');
  assert.equal(subject.emailAddress, 'zoe@example.com');
  assert.equal(subject['1.2.3.4.5'], 'custom');

  const { actual: sans } = await compare(certset.served.sans, { rejectUnauthorized: false });
  const alt = sans.short.subjectaltname;
  assert.match(alt, /DNS:"comma\\u002cin\.example"/);
  assert.match(alt, /IP Address:0:0:0:0:0:0:0:1, IP Address:2001:DB8:0:0:1:0:0:1/);
  assert.match(alt, /othername:UPN:upn@sans\.example/);

  const { actual: aia } = await compare(certset.served.aia, { rejectUnauthorized: false });
  assert.equal(Object.getPrototypeOf(aia.short.infoAccess), null);
  assert.deepStrictEqual(aia.short.infoAccess['OCSP - URI'], ['http://ocsp.example/', 'http://ocsp2.example/']);
  assert.deepStrictEqual(aia.short.infoAccess['CA Issuers - URI'], ['http://ca.example/root.crt', 'http://ca.example/a,b.crt']);

  const { actual: rsa } = await compare(certset.served.rsa3072e3, { rejectUnauthorized: false });
  assert.equal(rsa.short.exponent, '0x3');
  assert.equal(rsa.short.bits, 3072);
  assert.match(rsa.short.modulus, /^[0-9A-F]{768}$/);

  const { actual: p384 } = await compare(certset.served.p384, { rejectUnauthorized: false });
  assert.equal(p384.short.bits, 384);
  assert.equal(p384.short.nistCurve, 'P-384');
  assert.equal(p384.short.pubkey.length, 97);

  const { actual: serial } = await compare(certset.served.leadingZeroSerial, { rejectUnauthorized: false });
  assert.equal(serial.short.serialNumber, 'FF0102030405060708090A0B0C0D0E0F1011');
});

// Certificates no handshake carries here (P-521, secp256k1, RSA-PSS, Ed448,
// DSA, a 1028-bit RSA key, v1) and encodings the openssl CLI does not produce,
// compared with node:crypto's X509Certificate#toLegacyObject(): the object
// getPeerCertificate() returns, built by the same code in Node.
function assertDescribedAsNode(pem) {
  const x509 = new X509Certificate(pem);
  assertSameCertificate(certificateObject(x509.raw), x509.toLegacyObject());
}

for (const [name, pem] of Object.entries(certset.pem)) {
  test(`${name}: certificateObject() equals X509Certificate#toLegacyObject()`, () => assertDescribedAsNode(pem));
}

const CN = '2.5.4.3';
const base = name([[CN, 0x0c, 'crafted']]);
const san = (...names) => extension('2.5.29.17', tlv(0x30, ...names));
const aia = (...descriptions) => extension('1.3.6.1.5.5.7.1.1', tlv(0x30, ...descriptions.map((d) => tlv(0x30, ...d))));
const eku = (...oids) => extension('2.5.29.37', tlv(0x30, ...oids.map(oid)));
const CRAFTED = {
  'BMPString, UniversalString, T61String with high bytes, NumericString': {
    subject: name([[CN, 0x1e, bmp('Zoë 日本')]], [['2.5.4.10', 0x1c, ucs4('Zoë 𝄞')]],
      [['2.5.4.11', 0x14, Buffer.from([0x5a, 0xe9, 0xff])]], [['2.5.4.5', 0x12, '123']]),
  },
  'attribute values without a text form (subject left out)': { subject: name([[CN, 0x07, 'od']]) },
  'unknown attribute type, multi-valued RDN, empty issuer': {
    subject: name([['1.2.3.4.5', 0x0c, 'custom'], [CN, 0x0c, 'a']], [['2.5.4.11', 0x0c, 'b']]),
    issuer: tlv(0x30),
  },
  'alt names with raw bytes, odd IP lengths, otherName kinds, X400/EDI': {
    subject: base,
    extensions: [san(
      tlv(0x82, Buffer.from([0x61, 0xc3, 0xbc, 0x09, 0x7f, 0x20])), tlv(0x81, 'a"b\\c'),
      tlv(0x87, [1, 2, 3, 4, 5]), tlv(0x87, []), tlv(0x87, Buffer.alloc(16, 0xab)),
      tlv(0xa0, oid('1.3.6.1.4.1.311.20.2.3'), tlv(0xa0, tlv(0x0c, 'a,b'))),
      tlv(0xa0, oid('1.3.6.1.4.1.311.20.2.3'), tlv(0xa0, tlv(0x16, 'ia5'))),
      tlv(0xa0, oid('1.3.6.1.5.5.7.8.7'), tlv(0xa0, tlv(0x16, Buffer.from([0x5f, 0xe9])))),
      tlv(0xa0, oid('1.2.3'), tlv(0xa0, tlv(0x0c, 'x'))),
      tlv(0xa3, tlv(0x30)), tlv(0xa5, tlv(0xa1, tlv(0x0c, 'x'))), tlv(0x88, oid('2.25.123456789012345678').subarray(2)))],
  },
  'DirName escapes, string types, unknown types and attributes': {
    subject: base,
    extensions: [san(tlv(0xa4, name(
      [[CN, 0x1e, bmp('Zoë 日本')], ['2.5.4.10', 0x14, Buffer.from([0x23, 0xe9, 0x2c, 0x20])]],
      [['1.2.3.4', 0x0c, 'unknown']], [['2.5.4.11', 0x30, tlv(0x02, [1])]], [[CN, 0x07, 'od']],
      [[CN, 0x0c, Buffer.from([0x20, 0x01, 0xc3, 0xa9, 0x5c, 0x3c, 0x3e, 0x3b, 0x2b, 0x22, 0x20])]],
      [[CN, 0x1c, ucs4('x𝄞')]], [[CN, 0x0c, '#']], [[CN, 0x0c, ' ']], [[CN, 0x0c, '#a=b']])))],
  },
  'DirName OpenSSL cannot decode (subjectaltname null)': {
    subject: base, extensions: [san(tlv(0x82, 'ok.example'), tlv(0xa4, name([[CN, 0x1e, bmp('𝄞')]])))],
  },
  'malformed subjectAltName and authorityInfoAccess (null)': {
    subject: base,
    extensions: [extension('2.5.29.17', Buffer.from([0x30, 0x05, 0x82, 0x01])), aia([oid('1.2.3')])],
  },
  'empty subjectAltName and authorityInfoAccess': { subject: base, extensions: [san(), aia()] },
  'repeated subjectAltName (the first counts) and extendedKeyUsage (left out)': {
    subject: base,
    extensions: [san(tlv(0x82, 'first.example')), san(tlv(0x82, 'second.example')),
      eku('1.3.6.1.5.5.7.3.1'), eku('1.3.6.1.5.5.7.3.2')],
  },
  'authorityInfoAccess methods and locations': {
    subject: base,
    extensions: [aia(
      [oid('1.3.6.1.5.5.7.48.1.2'), tlv(0x86, 'http://a/')],
      [oid('1.3.6.1.5.5.7.48.1.11'), tlv(0x86, 'http://"q"/')],
      [oid('1.3.6.1.5.5.7.48.1.7'), tlv(0x86, Buffer.from([0x68, 0x0a, 0x3a]))],
      [oid('1.3.6.1.5.5.7.48.2'), tlv(0xa0, oid('1.3.6.1.4.1.311.20.2.3'), tlv(0xa0, tlv(0x0c, 'u"pn')))],
      [oid('1.3.6.1.5.5.7.48.1'), tlv(0x87, [10, 0, 0, 1])])],
  },
  'extendedKeyUsage in certificate order, with long arcs': {
    subject: base, extensions: [eku('1.2.3.4', '2.25.123456789012345678', '1.3.6.1.5.5.7.3.1')],
  },
  'empty extendedKeyUsage': { subject: base, extensions: [eku()] },
  'large serial number': { subject: base, serial: Buffer.from('7fffffffffffffffffffffffffffffffffffffff', 'hex') },
  'negative serial number': { subject: base, serial: Buffer.from([0x80, 0x00]) },
  'zero serial number': { subject: base, serial: Buffer.from([0x00]) },
  'CA:TRUE with a keyUsage lacking keyCertSign (ca: false)': {
    subject: base,
    extensions: [extension('2.5.29.19', tlv(0x30, tlv(0x01, [0xff])), true), extension('2.5.29.15', tlv(0x03, [7, 0x80]))],
  },
  'GeneralizedTime validity, with fractional seconds': {
    subject: base, validity: tlv(0x30, tlv(0x18, '19000101000000.123Z'), tlv(0x18, '99991231235959Z')),
  },
};

for (const [title, spec] of Object.entries(CRAFTED)) {
  test(`crafted: ${title}`, () => assertDescribedAsNode(crafted(spec)));
}

/**
 * Serves a leaf (CN=localhost, no authority key id) issued by a throwaway CA
 * named `issuerSubject` with a `curve` key, and returns the detailed chains
 * node:tls and wasm-tls report without `ca`: [CN, SHA-256 fingerprint] each.
 */
async function chainsNamingBundledRoot(t, issuerSubject, curve) {
  const { execFileSync } = await import('node:child_process');
  const { mkdtempSync, readFileSync, rmSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const dir = mkdtempSync(join(tmpdir(), 'wasm-tls-bundled-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const run = (...args) => execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  run('genpkey', '-algorithm', 'EC', '-pkeyopt', `ec_paramgen_curve:${curve}`, '-out', 'ca.key');
  run('req', '-x509', '-new', '-key', 'ca.key', '-out', 'ca.crt', '-days', '2', '-subj', issuerSubject);
  run('genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', 'leaf.key');
  run('req', '-new', '-key', 'leaf.key', '-out', 'leaf.csr', '-subj', '/CN=localhost');
  run('x509', '-req', '-in', 'leaf.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'leaf.crt', '-days', '2');
  const server = ntls.createServer({ key: readFileSync(join(dir, 'leaf.key')), cert: readFileSync(join(dir, 'leaf.crt')) }, (s) => s.end());
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.after(() => server.close());
  const names = async (lib) => {
    const socket = lib.connect({ host: '127.0.0.1', port: server.address().port, servername: 'localhost', rejectUnauthorized: false });
    await once(socket, 'secureConnect');
    const out = [];
    for (let c = socket.getPeerCertificate(true); c; c = c.issuerCertificate === c ? null : c.issuerCertificate) {
      out.push([c.subject.CN, c.fingerprint256]);
    }
    socket.destroy();
    return out;
  };
  return { theirs: await names(ntls), ours: await names({ connect }) };
}

test('without ca, a bundled root that did not sign the top is not linked, as in Node', async (t) => {
  // ISRG Root X1 (in both Node's and the Mozilla set) is RSA; an EC issuer key
  // does not match its key type, so the bundled roots searched (the path taken
  // for every public server) must not link it.
  const { theirs, ours } = await chainsNamingBundledRoot(t, '/C=US/O=Internet Security Research Group/CN=ISRG Root X1', 'P-256');
  assert.equal(theirs.length, 1);
  assert.deepEqual(ours, theirs);
});

test('without ca, the detailed chain links the bundled root the top names, as Node\'s store lookup does', async (t) => {
  // ISRG Root X2 is EC P-384: Node's store lookup matches by name and key
  // type (no signature check), and so must we.
  const { theirs, ours } = await chainsNamingBundledRoot(t, '/C=US/O=Internet Security Research Group/CN=ISRG Root X2', 'P-384');
  assert.equal(theirs.length, 2);
  assert.deepEqual(ours, theirs);
});
