#!/usr/bin/env node
// wasm-tls-relay: WebSocket-to-TCP relay for wasm-tls in browsers. The first
// line on stdout is the URL it listens on; refusals are logged on stderr.
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { createRelay, parseHostPort } from '../relay/relay.js';

const HELP = `Usage: wasm-tls-relay --listen HOST:PORT (--target HOST:PORT | --allow PATTERN ...) [options]

Bridges each WebSocket to one TCP connection (binary frames, bytes exact).

  --listen HOST:PORT     where to listen (default 127.0.0.1:8080; port 0 picks one)
  --target HOST:PORT     fixed destination; the URL query is ignored (websockify style)
  --allow PATTERN        destination a client may choose with ?host=HOST&port=PORT;
                         repeatable. PATTERN is host:port: host a name whose labels
                         may be * (*.example.com), * for any host, an IPv4 address or
                         range (10.0.0.0/8), or [IPv6] address or range ([fd00::/8]);
                         port N, N-M or *
  --allow-private        let names resolve to private, loopback, link-local, CGNAT,
                         multicast... addresses (otherwise only addresses or ranges
                         named by an --allow pattern are let through)
  --max-connections N    live connections in all (default 1024)
  --max-per-client N     live connections per client IP (default 32)
  --idle-timeout S       close both sides after S seconds without a byte (default 300, 0 never)
  --connect-timeout S    give up on a TCP connect after S seconds (default 10)
  --max-frame BYTES      largest WebSocket message (default 1048576)
  --origin URL           allowed browser Origin, repeatable (default: any)
  --tls-cert FILE        serve wss:// with this certificate chain (PEM) ...
  --tls-key FILE         ... and this key (PEM)
  --verbose              log every connection, not only refusals and failures
  --quiet                log nothing
  -h, --help             this text

See docs/relay.md.
`;

function fail(message) {
  process.stderr.write(`wasm-tls-relay: ${message}\nTry --help.\n`);
  process.exit(2);
}

function count(value, name, { whole = true } = {}) {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (value === '' || !Number.isFinite(n) || n < 0 || (whole && !Number.isInteger(n))) fail(`${name} wants a number, got ${value}`);
  return n;
}

let args;
try {
  args = parseArgs({
    options: {
      listen: { type: 'string', default: '127.0.0.1:8080' },
      target: { type: 'string' },
      allow: { type: 'string', multiple: true, default: [] },
      'allow-private': { type: 'boolean', default: false },
      'max-connections': { type: 'string' },
      'max-per-client': { type: 'string' },
      'idle-timeout': { type: 'string' },
      'connect-timeout': { type: 'string' },
      'max-frame': { type: 'string' },
      origin: { type: 'string', multiple: true, default: [] },
      'tls-cert': { type: 'string' },
      'tls-key': { type: 'string' },
      verbose: { type: 'boolean', default: false },
      quiet: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  }).values;
} catch (err) {
  fail(err.message);
}

if (args.help) {
  process.stdout.write(HELP);
  process.exit(0);
}
const listen = /^\d+$/.test(args.listen) ? { host: '127.0.0.1', port: Number(args.listen) } : parseHostPort(args.listen);
if (!listen) fail(`--listen wants HOST:PORT, got ${args.listen}`);
if (!args.target && args.allow.length === 0) fail('give --target HOST:PORT or at least one --allow PATTERN');
if (Boolean(args['tls-cert']) !== Boolean(args['tls-key'])) fail('--tls-cert and --tls-key go together');

let relay;
try {
  relay = createRelay({
    target: args.target,
    allow: args.allow,
    allowPrivate: args['allow-private'],
    maxConnections: count(args['max-connections'], '--max-connections'),
    maxPerClient: count(args['max-per-client'], '--max-per-client'),
    idleTimeout: count(args['idle-timeout'], '--idle-timeout', { whole: false }),
    connectTimeout: count(args['connect-timeout'], '--connect-timeout', { whole: false }),
    maxFrame: count(args['max-frame'], '--max-frame'),
    origins: args.origin,
    tls: args['tls-cert'] ? { cert: readFileSync(args['tls-cert']), key: readFileSync(args['tls-key']) } : undefined,
    log: args.quiet ? false : undefined,
    verbose: args.verbose,
  });
} catch (err) {
  fail(err.message);
}

try {
  await relay.listen(listen);
} catch (err) {
  fail(`cannot listen on ${args.listen}: ${err.message}`);
}
process.stdout.write(`${relay.url}\n`);

for (const signal of ['SIGINT', 'SIGTERM']) {
  process.once(signal, async () => {
    await relay.close();
    process.exit(0);
  });
}
