// The CLI behind `npm start`: its report is checked against what node:tls and
// openssl say about the same connection.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { certs } from './helpers/certs.js';
import { opensslServer } from './helpers/peers.js';

const cli = fileURLToPath(new URL('../../bin/wasm-tls.js', import.meta.url));

async function run(...args) {
  const proc = spawn(process.execPath, [cli, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  proc.stdout.on('data', (d) => { out += d; });
  proc.stderr.on('data', (d) => { out += d; });
  const [code] = await once(proc, 'exit');
  return { code, out };
}

test('npm start with no arguments: local CA, echo server, report, echo', async () => {
  const { code, out } = await run();
  assert.equal(code, 0, out);
  assert.match(out, /Protocol: TLSv1\.3/);
  assert.match(out, /Verification: OK/);
  assert.match(out, /ALPN protocol: http\/1\.1/);
  assert.match(out, /sha256 Fingerprint=([0-9A-F]{2}:){31}[0-9A-F]{2}/);
  assert.match(out, /< hello from wasm-tls/);
});

test('connect HOST:PORT against openssl s_server, with and without the CA', async (t) => {
  const srv = await opensslServer(['-key', certs.path('ec.key'), '-cert', certs.path('ec.crt'), '-www']);
  t.after(() => srv.close());
  const trusted = await run('connect', `127.0.0.1:${srv.port}`, '--ca', certs.path('ca.crt'), '--servername', 'localhost');
  assert.equal(trusted.code, 0, trusted.out);
  assert.match(trusted.out, /Verification: OK/);
  assert.match(trusted.out, /s:CN = localhost/);
  const untrusted = await run('connect', `127.0.0.1:${srv.port}`);
  assert.equal(untrusted.code, 1);
  assert.match(untrusted.out, /^error: UNABLE_TO_VERIFY_LEAF_SIGNATURE: unable to verify the first certificate$/m);
  const insecure = await run('connect', `127.0.0.1:${srv.port}`, '--insecure');
  assert.equal(insecure.code, 0, insecure.out);
  assert.match(insecure.out, /Verify return code: 21 \(unable to verify the first certificate\)/);
  const usage = await run('connect');
  assert.equal(usage.code, 2);
});
