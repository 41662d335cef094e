// The no-argument demo's local peer: a throwaway CA and server certificate made
// with the `openssl` CLI, and a node:tls echo server presenting them.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import nodeTls from 'node:tls';

const OPENSSL_CONFIG = `
[req]
distinguished_name = dn
[dn]
[ca_ext]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
[leaf_ext]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = DNS:localhost, IP:127.0.0.1
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
`;

/** Runs `openssl ...args` in `dir`; a failure carries openssl's own stderr. */
function openssl(dir, args) {
  try {
    execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (e) {
    const detail = e.code === 'ENOENT' ? 'the openssl command was not found' : String(e.stderr || e.message).trim();
    throw Object.assign(new Error(`openssl ${args[0]} failed: ${detail}`), { code: 'ERR_OPENSSL_CLI' });
  }
}

/**
 * Makes a CA and a leaf for localhost/127.0.0.1 (P-256 keys, valid 7 days) in a
 * fresh temporary directory, removed when the process exits.
 * @returns {{ caPem: string, keyPem: string, certPem: string }}
 */
export function makeLocalPki() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wasm-tls-cli-'));
  process.on('exit', () => fs.rmSync(dir, { recursive: true, force: true }));
  fs.writeFileSync(path.join(dir, 'openssl.cnf'), OPENSSL_CONFIG);
  const newKey = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];
  openssl(dir, ['req', '-x509', '-config', 'openssl.cnf', '-extensions', 'ca_ext', ...newKey,
    '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '7', '-subj', '/O=wasm-tls demo/CN=wasm-tls demo CA']);
  openssl(dir, ['req', '-new', '-config', 'openssl.cnf', ...newKey,
    '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/O=wasm-tls demo/CN=localhost']);
  openssl(dir, ['x509', '-req', '-in', 'server.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key',
    '-set_serial', `0x${randomBytes(8).toString('hex')}`, '-days', '7',
    '-extfile', 'openssl.cnf', '-extensions', 'leaf_ext', '-out', 'server.pem']);
  const read = (name) => fs.readFileSync(path.join(dir, name), 'utf8');
  return { caPem: read('ca.pem'), keyPem: read('server.key'), certPem: read('server.pem') };
}

/**
 * A node:tls server on 127.0.0.1 (a free port) that echoes what it receives and
 * sends its chain (leaf + CA).
 * @param {{ caPem: string, keyPem: string, certPem: string }} pki
 * @returns {Promise<import('node:tls').Server>}
 */
export function startEchoServer(pki) {
  const server = nodeTls.createServer({
    key: pki.keyPem,
    cert: pki.certPem + pki.caPem,
    ALPNProtocols: ['h2', 'http/1.1'],
  }, (socket) => {
    socket.on('error', () => {}); // the client's verdict is what the demo reports
    socket.pipe(socket);
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve(server));
  });
}
