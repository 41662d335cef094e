// Rough per-runtime figures (not a test): `node tests/runtimes/bench-driver.mjs`.
import { spawn } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { certs } from '../js/helpers/certs.js';
import { nodeServer } from '../js/helpers/peers.js';

const here = dirname(fileURLToPath(import.meta.url));
const repo = join(here, '..', '..');
const app = mkdtempSync(join(tmpdir(), 'wasm-tls-bench-'));
mkdirSync(join(app, 'node_modules'));
symlinkSync(repo, join(app, 'node_modules', 'wasm-tls'), 'dir');
writeFileSync(join(app, 'package.json'), '{"type":"module"}');
cpSync(here, app, { recursive: true });

const megabytes = 64;
const block = Buffer.alloc(1 << 20, 7);
const srv = await nodeServer({ ...certs.ec }, (s) => {
  if (s.servername !== 'download') return;
  for (let i = 0; i < megabytes; i++) s.write(block);
  s.end();
});
const cfg = JSON.stringify({ port: srv.port, ca: certs.ca, handshakes: 200, megabytes });
const bin = (n) => join(repo, 'node_modules', '.bin', n);
for (const [name, cmd, args] of [
  ['node', process.execPath, ['bench.js']],
  ['deno', bin('deno'), ['run', '-A', 'bench.js']],
  ['bun', bin('bun'), ['bench.js']],
]) {
  const out = await new Promise((resolve) => {
    const p = spawn(cmd, args, { cwd: app, env: { ...process.env, WASM_TLS_RT: cfg }, stdio: ['ignore', 'pipe', 'inherit'] });
    let text = '';
    p.stdout.on('data', (d) => { text += d; });
    p.on('exit', () => resolve(text.trim()));
  });
  console.log(name.padEnd(5), out);
}
await srv.close();
rmSync(app, { recursive: true, force: true });
