// The engine's Mozilla trust anchors live apart from the wasm (pkg/root-anchors.js,
// js/root-anchors.js): read once, by the first context without `ca`; where there is
// no synchronous file system, loaded by import() and awaited with loadDefaultRoots().
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { certs } from './helpers/certs.js';
import { count } from '../../pkg/root-certificates.js';
import anchors, { count as anchorCount } from '../../pkg/root-anchors.js';

const entryUrl = new URL('../../js/entry/node.js', import.meta.url).href;

function runFresh(code) {
  const out = execFileSync(process.execPath, ['--input-type=module', '-e', code], { encoding: 'utf8' });
  return JSON.parse(out);
}

/** Child-process code: a node:tls server with a self-signed certificate, and our verdict on it. */
const verdictCode = `
  const ntls = await import('node:tls');
  const server = ntls.createServer(${JSON.stringify(certs.self)}, (s) => s.end());
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const verdict = () => new Promise((resolve) => {
    const socket = tls.connect({ host: '127.0.0.1', port: server.address().port, servername: 'localhost', rejectUnauthorized: false },
      () => { resolve(socket.authorizationError?.code ?? socket.authorizationError); socket.destroy(); });
    socket.on('error', (e) => resolve('error ' + e.code));
  });
`;

test('the anchors file has every trust anchor of webpki-roots', () => {
  assert.equal(anchorCount, count);
  assert.match(anchors, /^[A-Za-z0-9+/]+={0,2}$/);
});

test('read once, by the first context without ca, and used for verdicts', () => {
  const result = runFresh(`
    import fs from 'node:fs';
    const reads = [];
    const readFileSync = fs.readFileSync;
    fs.readFileSync = function (path, ...rest) { reads.push(String(path)); return readFileSync.call(this, path, ...rest); };
    const { default: tls } = await import(${JSON.stringify(entryUrl)});
    tls.createSecureContext({ ca: ${JSON.stringify(certs.ca)} });
    const withCa = reads.filter((r) => r.includes('root-anchors')).length;
    tls.createSecureContext({});
    tls.createSecureContext({});
    const anchorReads = reads.filter((r) => r.includes('root-anchors')).length;
    ${verdictCode}
    const code = await verdict();
    server.close();
    console.log(JSON.stringify({ withCa, anchorReads, code }));
  `);
  assert.equal(result.withCa, 0);
  assert.equal(result.anchorReads, 1);
  assert.equal(result.code, 'DEPTH_ZERO_SELF_SIGNED_CERT');
});

test('without a synchronous file system: import(), awaited with loadDefaultRoots()', () => {
  const result = runFresh(`
    const { default: tls, loadDefaultRoots } = await import(${JSON.stringify(entryUrl)});
    process.getBuiltinModule = undefined; // as in a browser or workerd
    const pending = loadDefaultRoots();
    const isPromise = pending instanceof Promise;
    await pending;
    ${verdictCode}
    const code = await verdict();
    server.close();
    console.log(JSON.stringify({ isPromise, same: tls.loadDefaultRoots === loadDefaultRoots, code }));
  `);
  assert.ok(result.isPromise);
  assert.ok(result.same);
  assert.equal(result.code, 'DEPTH_ZERO_SELF_SIGNED_CERT');
});
