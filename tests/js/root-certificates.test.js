// tls.rootCertificates: the Mozilla roots webpki-roots trusts, as Node shows them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import ntls from 'node:tls';
import { installRootCertificates } from '../../js/root-certificates.js';
import generated, { count } from '../../pkg/root-certificates.js';

const PEM = /^-----BEGIN CERTIFICATE-----\n(?:[A-Za-z0-9+/]{72}\n)*[A-Za-z0-9+/]{1,71}={0,2}\n-----END CERTIFICATE-----$/;
const PEM_FULL_LAST_LINE = /^-----BEGIN CERTIFICATE-----\n(?:[A-Za-z0-9+/]{72}\n)+-----END CERTIFICATE-----$/;
const isNodeShaped = (pem) => PEM.test(pem) || PEM_FULL_LAST_LINE.test(pem);
const fingerprint = (pem) => new X509Certificate(pem).fingerprint256;

const tls = installRootCertificates({});
const roots = tls.rootCertificates;

test('the property is defined like Node\'s: enumerable, non-configurable getter, no setter', () => {
  const ours = Object.getOwnPropertyDescriptor(tls, 'rootCertificates');
  const node = Object.getOwnPropertyDescriptor(ntls, 'rootCertificates');
  assert.equal(typeof ours.get, 'function');
  assert.equal(ours.set, undefined);
  assert.equal(ours.enumerable, node.enumerable);
  assert.equal(ours.configurable, node.configurable);
  assert.ok(Object.keys(tls).includes('rootCertificates'));
  assert.throws(() => { tls.rootCertificates = []; }, TypeError);
});

test('a frozen array, the same object on every read and on every installed object', () => {
  assert.ok(Array.isArray(roots));
  assert.ok(Object.isFrozen(roots));
  assert.equal(tls.rootCertificates, roots);
  assert.equal(installRootCertificates({}).rootCertificates, roots);
  assert.throws(() => { roots.push('x'); }, TypeError);
});

test('as many as webpki-roots has trust anchors, and the same as the generated module', () => {
  assert.ok(count > 100, `count ${count}`);
  assert.equal(roots.length, count);
  assert.deepEqual([...roots], [...generated]);
  assert.deepEqual(JSON.parse(readFileSync(new URL('../../pkg/root-certificates.json', import.meta.url), 'utf8')), [...generated]);
});

test('every entry is a CA certificate in the PEM format of node:tls, with no duplicates', () => {
  for (const pem of roots) {
    assert.equal(typeof pem, 'string');
    assert.ok(isNodeShaped(pem), `not shaped like Node's: ${JSON.stringify(pem.slice(0, 100))}`);
    const x509 = new X509Certificate(pem);
    assert.equal(x509.ca, true, x509.subject);
    assert.ok(x509.checkIssued(x509), `not self-issued: ${x509.subject}`);
  }
  assert.equal(new Set(roots).size, roots.length);
  assert.equal(new Set(roots.map(fingerprint)).size, roots.length);
});

test('the format check itself matches every one of node:tls\'s own entries', () => {
  assert.ok(ntls.rootCertificates.every(isNodeShaped));
  // Line for line the same shape as Node's first entry: 72-column base64, no trailing newline.
  const lineLengths = (pem) => pem.split('\n').slice(1, -2).map((l) => l.length);
  assert.ok(lineLengths(ntls.rootCertificates[0]).every((n) => n === 72));
  assert.ok(roots.every((pem) => lineLengths(pem).every((n) => n === 72)));
  assert.ok(!ntls.rootCertificates[0].endsWith('\n') && !roots[0].endsWith('\n'));
});

test('most of Node\'s bundled Mozilla roots are in ours, and nearly all of ours in Node\'s', (t) => {
  const node = new Set(ntls.rootCertificates.map(fingerprint));
  const ours = roots.map(fingerprint);
  const shared = ours.filter((f) => node.has(f)).length;
  t.diagnostic(`Node ${process.version}: ${node.size} roots; ours: ${ours.length}; in both: ${shared}`);
  // Node 20.20: 144, 120, 115 (Node still has roots Mozilla has since withdrawn, e.g.
  // Entrust and the older DigiCert ones; ours has five newer ones).
  assert.ok(shared >= 0.6 * node.size, `only ${shared} of Node's ${node.size}`);
  assert.ok(shared >= 0.8 * ours.length, `only ${shared} of our ${ours.length}`);
});

/** Runs an ES module in a fresh Node process; returns its stdout parsed as JSON. */
function runFresh(code) {
  const out = execFileSync(process.execPath, ['--input-type=module', '-e', code], { encoding: 'utf8' });
  return JSON.parse(out);
}
const moduleUrl = new URL('../../js/root-certificates.js', import.meta.url).href;
const staticUrl = new URL('../../js/root-certificates-static.js', import.meta.url).href;

test('nothing is read until the first access, then the JSON file once', () => {
  const result = runFresh(`
    import fs from 'node:fs';
    const reads = [];
    const readFileSync = fs.readFileSync;
    fs.readFileSync = function (path, ...rest) { reads.push(String(path)); return readFileSync.call(this, path, ...rest); };
    const { installRootCertificates } = await import(${JSON.stringify(moduleUrl)});
    const tls = installRootCertificates({});
    const before = reads.length;
    const first = tls.rootCertificates;
    const again = tls.rootCertificates;
    console.log(JSON.stringify({ before, reads, same: first === again, length: first.length }));
  `);
  assert.equal(result.before, 0);
  assert.equal(result.reads.length, 1);
  assert.match(result.reads[0], /pkg\/root-certificates\.json$/);
  assert.ok(result.same);
  assert.equal(result.length, count);
});

test('without a synchronous file system: a clear error, until the static module is imported', () => {
  const result = runFresh(`
    process.getBuiltinModule = undefined; // as in a browser or workerd
    const { installRootCertificates } = await import(${JSON.stringify(moduleUrl)});
    const tls = installRootCertificates({});
    let code;
    try { tls.rootCertificates; } catch (e) { code = e.code; }
    const { default: list } = await import(${JSON.stringify(staticUrl)});
    const roots = tls.rootCertificates;
    console.log(JSON.stringify({ code, same: roots === list && roots === tls.rootCertificates, frozen: Object.isFrozen(roots), length: roots.length }));
  `);
  assert.equal(result.code, 'ERR_WASM_TLS_ROOT_CERTIFICATES_UNAVAILABLE');
  assert.ok(result.same);
  assert.ok(result.frozen);
  assert.equal(result.length, count);
});
