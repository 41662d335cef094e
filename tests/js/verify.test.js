// Certificate verification, with node:tls as the oracle: the same server,
// the same options, the same verdict (code, message, authorized).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import ntls from 'node:tls';
import { connect, checkServerIdentity } from 'wasm-tls';
import { certs } from './helpers/certs.js';
import { nodeServer } from './helpers/peers.js';

/** Subject CNs up the detailed chain, as far as issuerCertificate links go. */
function chainNames(cert) {
  const names = [];
  for (let c = cert; c && names.length < 5; c = c.issuerCertificate === c ? null : c.issuerCertificate) {
    names.push(c.subject.CN);
  }
  return names;
}

/** Connects with a client library and reports how verification went. */
async function outcome(lib, options) {
  const socket = lib.connect(options);
  const result = await new Promise((resolve) => {
    socket.once('secureConnect', () =>
      resolve({
        ok: true,
        authorized: socket.authorized,
        authorizationError: socket.authorizationError,
        chain: chainNames(socket.getPeerCertificate(true)),
      }));
    socket.once('error', (e) =>
      resolve({ ok: false, code: e.code, message: e.message, reason: e.reason, host: e.host, hasCert: Boolean(e.cert?.raw) }));
  });
  socket.destroy();
  return result;
}

const CASES = [
  { name: 'trusted chain (leaf + intermediate sent)', server: certs.chained, client: { ca: certs.ca } },
  { name: 'trusted leaf', server: certs.ec, client: { ca: certs.ca } },
  { name: 'self-signed leaf, untrusted', server: certs.self, client: {} },
  { name: 'self-signed leaf trusted as its own CA', server: certs.self, client: { ca: certs.self.cert } },
  { name: 'leaf from an unknown CA', server: certs.ec, client: {} },
  { name: 'leaf + intermediate, root unknown', server: certs.chained, client: { ca: certs.other.cert } },
  { name: 'leaf only, intermediate missing', server: { key: certs.chained.key, cert: certs.chained.leaf }, client: { ca: certs.ca } },
  { name: 'leaf + intermediate + root sent, root untrusted', server: { key: certs.chained.key, cert: certs.chained.cert + certs.ca }, client: {} },
  { name: 'leaf, root, intermediate sent out of order, root untrusted', server: { key: certs.chained.key, cert: certs.chained.leaf + certs.ca + certs.inter.cert }, client: {} },
  { name: 'leaf and an unrelated self-signed certificate', server: { key: certs.chained.key, cert: certs.chained.leaf + certs.self.cert }, client: {} },
  { name: 'X.509 v1 leaf from the trusted CA', server: certs.v1, client: { ca: certs.ca } },
  { name: 'X.509 v1 leaf, CA unknown', server: certs.v1, client: {} },
  { name: 'wrong host', server: certs.other, client: { ca: certs.ca } },
  { name: 'IP not in the certificate', server: certs.chained, client: { ca: certs.ca }, host: '127.0.0.1', servername: undefined },
  { name: 'IP in the certificate', server: certs.ec, client: { ca: certs.ca }, host: '127.0.0.1', servername: undefined },
];

for (const c of CASES) {
  for (const rejectUnauthorized of [true, false]) {
    test(`${c.name} (rejectUnauthorized: ${rejectUnauthorized}) matches node:tls`, async (t) => {
      const srv = await nodeServer(c.server);
      t.after(() => srv.close());
      const options = {
        host: c.host ?? '127.0.0.1',
        port: srv.port,
        servername: 'servername' in c ? c.servername : 'localhost',
        rejectUnauthorized,
        ...c.client,
      };
      const theirs = await outcome(ntls, options);
      const ours = await outcome({ connect }, options);
      assert.deepEqual(ours, theirs);
    });
  }
}

test('the expected codes appear (the oracle is not vacuous)', async (t) => {
  const srv = await nodeServer(certs.self);
  t.after(() => srv.close());
  const r = await outcome({ connect }, { host: '127.0.0.1', port: srv.port });
  assert.equal(r.code, 'DEPTH_ZERO_SELF_SIGNED_CERT');
  assert.equal(r.message, 'self-signed certificate');
  const srv2 = await nodeServer(certs.other);
  t.after(() => srv2.close());
  const r2 = await outcome({ connect }, { host: '127.0.0.1', port: srv2.port, servername: 'localhost', ca: certs.ca });
  assert.equal(r2.code, 'ERR_TLS_CERT_ALTNAME_INVALID');
  assert.equal(r2.reason, "Host: localhost. is not in the cert's altnames: DNS:other.example, DNS:*.other.example");
  assert.equal(r2.host, 'localhost');
  assert.equal(r2.hasCert, true);
});

test('a user checkServerIdentity is called and its error used', async (t) => {
  const srv = await nodeServer(certs.ec);
  t.after(() => srv.close());
  const calls = [];
  const s = connect({
    host: '127.0.0.1', port: srv.port, servername: 'localhost', ca: certs.ca,
    checkServerIdentity(host, cert) {
      calls.push([host, cert.subject.CN, cert.issuerCertificate?.subject.CN]);
      return Object.assign(new Error('pinned key mismatch'), { code: 'PIN' });
    },
  });
  const [err] = await once(s, 'error');
  assert.equal(err.message, 'pinned key mismatch');
  assert.equal(err.code, 'PIN');
  // As in Node, the detailed chain runs up to the trusted root, though only the leaf was sent.
  assert.deepEqual(calls, [['localhost', 'localhost', 'Test Root CA']]);
  const ok = connect({ host: '127.0.0.1', port: srv.port, servername: 'localhost', ca: certs.ca, checkServerIdentity: () => undefined });
  await once(ok, 'secureConnect');
  assert.equal(ok.authorized, true);
  ok.destroy();
});

test('checkServerIdentity agrees with Node on names, wildcards, IPs and CN fallback', () => {
  const certsToTry = [
    { subject: { CN: 'a.example.com' }, subjectaltname: 'DNS:a.example.com, DNS:*.b.example.com, IP Address:10.0.0.1, IP Address:::1' },
    { subject: { CN: 'cn.example.com' } },
    { subject: { CN: ['x.example.com', 'y.example.com'] } },
    { subject: { CN: '*.example.com' } },
    { subject: { CN: 'ignored.example.com' }, subjectaltname: 'DNS:*.example.com' },
    { subject: { CN: 'x' }, subjectaltname: 'DNS:f*o.example.com, DNS:*.com, DNS:xn--*.example.com' },
    { subject: {}, subjectaltname: 'email:a@b.c, URI:http://a.example.com/' },
    { subject: {}, subjectaltname: 'DNS:"a,b.example.com", DNS:ok.example.com' },
    { subject: { CN: 'A.Example.COM' }, subjectaltname: 'DNS:A.Example.COM.' },
  ];
  const hosts = ['a.example.com', 'A.EXAMPLE.COM.', 'c.b.example.com', 'b.example.com', 'd.c.b.example.com', '10.0.0.1',
    '10.0.0.2', '::1', '0:0:0:0:0:0:0:1', 'cn.example.com', 'x.example.com', 'y.example.com', 'z.example.com',
    'foo.example.com', 'fo.example.com', 'example.com', 'xn--a.example.com', 'ok.example.com', 'a,b.example.com', 'a.b.c', ''];
  let compared = 0;
  for (const cert of certsToTry) {
    for (const host of hosts) {
      const theirs = ntls.checkServerIdentity(host, cert);
      const ours = checkServerIdentity(host, cert);
      assert.equal(ours?.code, theirs?.code, `${host} vs ${JSON.stringify(cert)}`);
      assert.equal(ours?.reason, theirs?.reason, `${host} vs ${JSON.stringify(cert)}`);
      assert.equal(ours?.message, theirs?.message);
      compared += theirs ? 1 : 0;
    }
  }
  assert.ok(compared > 50, 'most pairs should fail');
});
