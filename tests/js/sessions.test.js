// Session resumption, against node:tls and openssl s_client peers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ntls from 'node:tls';
import tls from 'wasm-tls';
import { certs } from './helpers/certs.js';

async function listen(t, lib, options) {
  const resumed = [];
  const server = lib.createServer(options, (s) => {
    resumed.push(s.isSessionReused());
    s.on('error', () => {});
    s.end('hi');
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.after(() => server.close());
  return { server, port: server.address().port, resumed };
}

/** Connects, reads to the end, and returns [reused, last session seen]. */
async function visit(lib, port, extra = {}) {
  const s = lib.connect({ host: '127.0.0.1', port, servername: 'localhost', ca: certs.ca, ...extra });
  let session;
  s.on('session', (buf) => {
    assert.ok(Buffer.isBuffer(buf));
    session = buf;
  });
  s.resume();
  const closed = once(s, 'close');
  await once(s, 'secureConnect');
  const reused = s.isSessionReused();
  await closed;
  return [reused, session ?? s.getSession()];
}

for (const version of ['TLSv1.2', 'TLSv1.3']) {
  test(`${version}: wasm-tls client resumes with a node:tls server`, async (t) => {
    const { port, resumed } = await listen(t, ntls, { ...certs.ec, maxVersion: version });
    const [first, session] = await visit(tls, port, { maxVersion: version });
    assert.equal(first, false);
    assert.ok(session, 'no session event');
    const [second] = await visit(tls, port, { maxVersion: version, session });
    assert.equal(second, true);
    assert.deepEqual(resumed, [false, true]);
  });

  test(`${version}: node:tls client resumes with a wasm-tls server`, async (t) => {
    const { port, resumed } = await listen(t, tls, { ...certs.ec, maxVersion: version });
    const [first, session] = await visit(ntls, port, { maxVersion: version });
    assert.equal(first, false);
    const [second] = await visit(ntls, port, { maxVersion: version, session });
    assert.equal(second, true);
    assert.deepEqual(resumed, [false, true]);
  });

  test(`${version}: two wasm-tls servers sharing ticketKeys resume each other's sessions`, async (t) => {
    const a = await listen(t, tls, { ...certs.ec, maxVersion: version });
    const b = await listen(t, tls, { ...certs.ec, maxVersion: version, ticketKeys: a.server.getTicketKeys() });
    const c = await listen(t, tls, { ...certs.ec, maxVersion: version });
    const [, session] = await visit(ntls, a.port, { maxVersion: version });
    assert.equal((await visit(ntls, b.port, { maxVersion: version, session }))[0], true);
    assert.equal((await visit(ntls, c.port, { maxVersion: version, session }))[0], false);
  });
}

test('getTicketKeys / setTicketKeys', async (t) => {
  const { server } = await listen(t, tls, { ...certs.ec });
  const keys = server.getTicketKeys();
  assert.equal(keys.length, 48);
  const fresh = Buffer.alloc(48, 9);
  server.setTicketKeys(fresh);
  assert.deepEqual(server.getTicketKeys(), fresh);
  // Node fails an internal assertion (ERR_INTERNAL_ASSERTION) on a wrong length; we say what is wrong.
  assert.throws(() => server.setTicketKeys(Buffer.alloc(47)), { code: 'ERR_INVALID_ARG_VALUE' });
  assert.throws(() => server.setTicketKeys('x'), { code: 'ERR_INVALID_ARG_TYPE' });
});

test('openssl s_client -sess_out / -sess_in resumes with a wasm-tls server', async (t) => {
  const { port, resumed } = await listen(t, tls, { ...certs.ec });
  const dir = mkdtempSync(join(tmpdir(), 'wasm-tls-sess-'));
  const sess = join(dir, 'sess.pem');
  // Asynchronously: the server runs in this process.
  const run = async (...args) => {
    const proc = spawn('openssl', ['s_client', '-connect', `127.0.0.1:${port}`, '-servername', 'localhost',
      '-CAfile', certs.path('ca.crt'), '-ign_eof', ...args]);
    let out = '';
    proc.stdout.on('data', (d) => { out += d; });
    proc.stderr.on('data', (d) => { out += d; });
    proc.stdin.end();
    await once(proc, 'exit');
    return out;
  };
  const first = await run('-sess_out', sess);
  assert.match(first, /^New, TLSv1\.3/m);
  const second = await run('-sess_in', sess);
  assert.match(second, /^Reused, TLSv1\.3/m);
  assert.deepEqual(resumed, [false, true]);
});

for (const version of ['TLSv1.2', 'TLSv1.3']) {
  test(`${version}: newSession / resumeSession keep sessions in the user's cache`, async (t) => {
    const cache = new Map();
    const events = [];
    const { server, port, resumed } = await listen(t, tls, { ...certs.ec, maxVersion: version });
    server.on('newSession', (id, data, callback) => {
      assert.ok(Buffer.isBuffer(id) && Buffer.isBuffer(data));
      events.push('newSession');
      cache.set(id.toString('hex'), data);
      callback();
    });
    server.on('resumeSession', (id, callback) => {
      events.push(cache.has(id.toString('hex')) ? 'resumeSession:hit' : 'resumeSession:miss');
      callback(null, cache.get(id.toString('hex')) ?? null);
    });
    const [first, session] = await visit(ntls, port, { maxVersion: version });
    assert.equal(first, false);
    const [second] = await visit(ntls, port, { maxVersion: version, session });
    assert.equal(second, true);
    assert.deepEqual(resumed, [false, true]);
    assert.ok(events.includes('newSession'));
    assert.ok(events.includes('resumeSession:hit'), events.join());
    // A server that forgets its sessions resumes nothing.
    cache.clear();
    const [third] = await visit(ntls, port, { maxVersion: version, session });
    assert.equal(third, false);
  });
}
