#!/usr/bin/env node
// wasm-tls CLI: the browser demo (`npm start`), and a client that connects with
// wasm-tls (rustls in WebAssembly) and reports what `openssl s_client` would:
// protocol, cipher, ALPN, verification, the peer chain.
import { once } from 'node:events';
import fs from 'node:fs';
import net from 'node:net';
import { parseArgs } from 'node:util';
import { connectionReport } from './lib/report.js';

const DEMO_PORT = 8080;

const USAGE = `Usage:
  wasm-tls [demo] [--port N] [--skip-build]
                                  the browser demo: bundles www/ with webpack, makes a local
                                  CA, starts a node:https server, the relay and a static
                                  server on 127.0.0.1, prints the URL to open; Ctrl-C stops
  wasm-tls demo --once            the terminal demo: a local CA, a node:tls echo server on
                                  127.0.0.1, a wasm-tls connection to it, its report and an echo
  wasm-tls connect HOST[:PORT] [options]
                                  connect to a TLS server (PORT defaults to 443) and report
  wasm-tls --help                 this text

Options for demo:
  --port N            the static server's port (default ${DEMO_PORT}, or any free one if taken;
                      0: any free one)
  --skip-build        serve the www/dist bundle already built (npm run build:www)

Options for connect:
  --servername NAME   SNI and the name to verify (default: HOST, none when HOST is an IP)
  --ca FILE           trust the PEM certificates in FILE instead of the Mozilla roots
  --alpn LIST         offer these ALPN protocols, comma-separated (e.g. h2,http/1.1)
  --insecure          complete the handshake even if verification fails (still reported)
  --send TEXT         write TEXT after the report and print what comes back until the
                      peer closes or 2 s pass idle (in bash, $'GET / HTTP/1.0\\r\\n\\r\\n')

Exit status: 0 on success, 1 on a connection or verification failure, 2 on bad arguments.`;

const HANDSHAKE_TIMEOUT_MS = 10_000;
const IDLE_MS = 2_000;
const DEMO_LINE = 'hello from wasm-tls\n';

class UsageError extends Error {}

/**
 * Calls `fn` once the socket has been idle for `ms`; returns the cancel function.
 * (The listener is managed here: `setTimeout(0)` alone leaves it attached.)
 */
function whenIdle(socket, ms, fn) {
  socket.setTimeout(ms);
  socket.once('timeout', fn);
  return () => {
    socket.off('timeout', fn);
    socket.setTimeout(0);
  };
}

/** An Error with a Node-style `code`. */
const codedError = (code, message) => Object.assign(new Error(message), { code });

/**
 * `host:port`, `[v6]:port`, or a bare host (port 443).
 * @returns {{ host: string, port: number }}
 */
function parseTarget(text) {
  const m = /^\[([^\]]+)\](?::(.*))?$/.exec(text) ?? /^([^:]+)(?::(.*))?$/.exec(text);
  if (!m) throw new UsageError(`bad target '${text}': expected HOST:PORT`);
  const port = m[2] === undefined ? 443 : Number(m[2]);
  if (!/^\d+$/.test(m[2] ?? '443') || port < 1 || port > 65535) {
    throw new UsageError(`bad port in '${text}': expected 1-65535`);
  }
  return { host: m[1], port };
}

/** The command line as one plain object; throws UsageError when it makes no sense. */
function parseCommand(argv) {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        help: { type: 'boolean', short: 'h' },
        servername: { type: 'string' },
        ca: { type: 'string' },
        alpn: { type: 'string' },
        insecure: { type: 'boolean' },
        send: { type: 'string' },
        once: { type: 'boolean' },
        port: { type: 'string' },
        'skip-build': { type: 'boolean' },
      },
    });
  } catch (e) {
    throw new UsageError(e.message);
  }
  const { values, positionals } = parsed;
  if (values.help) return { mode: 'help' };
  const [command = 'demo', target, ...extra] = positionals;
  const given = (names) => names.filter((name) => values[name] !== undefined);
  if (command === 'demo') {
    if (target !== undefined) throw new UsageError('demo takes no HOST:PORT (did you mean connect?)');
    const misplaced = given(['servername', 'ca', 'alpn', 'insecure', 'send']);
    if (misplaced.length) throw new UsageError(`--${misplaced[0]} needs the connect command`);
    if (values.once) {
      if (given(['port', 'skip-build']).length) throw new UsageError('--once runs no servers: no --port or --skip-build');
      return { mode: 'once' };
    }
    const port = values.port === undefined ? undefined : Number(values.port);
    if (port !== undefined && !(/^\d+$/.test(values.port) && port <= 65535)) {
      throw new UsageError(`bad --port '${values.port}': expected 0-65535`);
    }
    return { mode: 'demo', port, skipBuild: Boolean(values['skip-build']) };
  }
  if (command !== 'connect') throw new UsageError(`unknown command '${command}'`);
  const misplaced = given(['once', 'port', 'skip-build']);
  if (misplaced.length) throw new UsageError(`--${misplaced[0]} is an option of demo, not connect`);
  if (!target || extra.length > 0) throw new UsageError('connect takes exactly one HOST:PORT');
  const alpn = values.alpn?.split(',').map((p) => p.trim()).filter(Boolean);
  if (values.alpn !== undefined && alpn.length === 0) throw new UsageError('--alpn needs at least one protocol');
  if (values.servername === '') throw new UsageError('--servername must not be empty');
  return { mode: 'connect', ...parseTarget(target), ...values, alpn };
}

/** Loads wasm-tls (instantiating the wasm); explains a missing build. */
async function loadTls() {
  try {
    return (await import('../js/entry/node.js')).default;
  } catch (e) {
    throw codedError('ERR_WASM_TLS_LOAD', `cannot load wasm-tls (${e.message}); build it with: bash scripts/build.sh`);
  }
}

/**
 * Connects and resolves once the handshake is done and (unless
 * `rejectUnauthorized: false`) the peer verified; rejects with the socket's error.
 * Errors after that are kept in `state.error` for `closeConnection`.
 * @param {typeof import('node:tls')} tls
 * @param {import('node:tls').ConnectionOptions} options
 */
async function openConnection(tls, options) {
  const state = { error: null, peerEnded: false, identityError: undefined };
  const socket = tls.connect({
    ...options,
    // Node's own check, with its error kept: with --insecure only the code survives on the socket.
    checkServerIdentity: (host, cert) => (state.identityError = tls.checkServerIdentity(host, cert)),
  });
  socket.on('error', (e) => { state.error ??= e; });
  socket.on('end', () => { state.peerEnded = true; });
  const cancelTimeout = whenIdle(socket, HANDSHAKE_TIMEOUT_MS, () => socket.destroy(
    codedError('ETIMEDOUT', `no TLS handshake with ${options.host}:${options.port} within ${HANDSHAKE_TIMEOUT_MS / 1000} s`)));
  try {
    await once(socket, 'secureConnect');
  } finally {
    cancelTimeout();
  }
  const verifyMessage = socket.authorizationError === state.identityError?.code ? state.identityError?.message : undefined;
  const target = net.isIPv6(socket.remoteAddress ?? '') ? `[${socket.remoteAddress}]:${socket.remotePort}`
    : `${socket.remoteAddress}:${socket.remotePort}`;
  console.log(connectionReport(socket, { target, servername: options.servername, verifyMessage }));
  return { socket, state };
}

/** Ends the connection (close_notify, then FIN) and waits for it to close; throws a late error. */
async function closeConnection({ socket, state }) {
  if (!socket.destroyed) {
    const closed = once(socket, 'close');
    socket.resume(); // drain what the peer still sends, so 'end' and 'close' can come
    whenIdle(socket, IDLE_MS, () => socket.destroy()); // a peer that never closes its side
    socket.end();
    await closed;
  }
  if (state.error) throw state.error;
}

/** `demo --once`: local CA, node:tls echo server, wasm-tls client, one echoed line. */
async function terminalDemo(tls) {
  const { makeLocalPki, startEchoServer } = await import('./lib/demo.js');
  const pki = makeLocalPki();
  const server = await startEchoServer(pki);
  const { port } = server.address();
  console.log(`Local CA and server certificate made with openssl; node:tls echo server on 127.0.0.1:${port}`);
  try {
    const conn = await openConnection(tls, {
      host: '127.0.0.1', port, servername: 'localhost', ca: pki.caPem, ALPNProtocols: ['http/1.1'],
    });
    const echoed = await exchangeLine(conn.socket, DEMO_LINE);
    console.log(`> ${DEMO_LINE.trimEnd()}`);
    console.log(`< ${echoed.trimEnd()}`);
    await closeConnection(conn);
    console.log(conn.state.peerEnded ? 'Connection closed cleanly.' : 'Connection closed (the peer did not end it).');
  } finally {
    server.close();
  }
}

/** Writes `line` and resolves with the first line that comes back. */
function exchangeLine(socket, line) {
  return new Promise((resolve, reject) => {
    let received = '';
    const onData = (chunk) => {
      received += chunk;
      if (received.includes('\n')) finish(null, received.slice(0, received.indexOf('\n') + 1));
    };
    const onEnd = () => finish(codedError('ERR_DEMO_NO_ECHO', `the server closed without echoing (got ${JSON.stringify(received)})`));
    const finish = (err, value) => {
      socket.off('data', onData).off('end', onEnd).off('error', finish);
      cancelTimeout();
      socket.pause();
      err ? reject(err) : resolve(value);
    };
    socket.setEncoding('utf8');
    socket.on('data', onData).once('end', onEnd).once('error', finish);
    const cancelTimeout = whenIdle(socket, IDLE_MS, () => finish(codedError('ETIMEDOUT', `no echo within ${IDLE_MS / 1000} s`)));
    socket.write(line);
  });
}

/** `connect HOST:PORT ...`: the report, then optionally --send and print the answer. */
async function connectCommand(tls, cmd) {
  const options = {
    host: cmd.host,
    port: cmd.port,
    servername: cmd.servername ?? (net.isIP(cmd.host) ? undefined : cmd.host),
    rejectUnauthorized: !cmd.insecure,
  };
  if (cmd.ca !== undefined) options.ca = fs.readFileSync(cmd.ca, 'utf8');
  if (cmd.alpn) options.ALPNProtocols = cmd.alpn;
  const conn = await openConnection(tls, options);
  if (cmd.send !== undefined) {
    const { socket } = conn;
    let last = '\n';
    socket.on('data', (chunk) => {
      process.stdout.write(chunk);
      last = String.fromCharCode(chunk[chunk.length - 1]);
    });
    let cancelTimeout;
    const done = new Promise((resolve) => {
      socket.once('end', () => resolve('the peer closed'));
      socket.once('close', () => resolve('closed'));
      cancelTimeout = whenIdle(socket, IDLE_MS, () => resolve(`${IDLE_MS / 1000} s idle`));
    });
    socket.write(cmd.send);
    const why = await done;
    cancelTimeout();
    if (last !== '\n') process.stdout.write('\n');
    console.log(`--- (${why})`);
  }
  await closeConnection(conn);
}

const kB = (bytes) => `${(bytes / 1024).toFixed(0)} KB`;

/**
 * The browser demo: builds the bundle, starts the servers, prints the URL and
 * runs until SIGINT/SIGTERM.
 * @param {{ port?: number, skipBuild: boolean }} cmd
 */
async function browserDemo(cmd) {
  const lib = await import('./lib/demo.js');
  if (cmd.skipBuild) {
    if (!fs.existsSync(new URL('../www/dist/demo.js', import.meta.url))) {
      throw codedError('ERR_DEMO_BUILD', 'www/dist has no bundle: run npm run build:www, or drop --skip-build');
    }
  } else {
    console.log('Bundling www/ with webpack...');
    const assets = await lib.buildBundle();
    for (const { name, size, gzip, brotli } of assets) {
      console.log(`  www/dist/${name}  ${kB(size)} (gzip ${kB(gzip)}, brotli ${kB(brotli)})`);
    }
  }
  const relayLog = (line) => console.log(`relay: ${line}`);
  let demo;
  try {
    demo = await lib.startDemo({ port: cmd.port ?? DEMO_PORT, log: relayLog });
  } catch (e) {
    if (e.code !== 'EADDRINUSE' || cmd.port !== undefined) throw e;
    demo = await lib.startDemo({ port: 0, log: relayLog }); // 8080 is taken: any free port will do
  }
  const { config } = demo;
  console.log(`
Local CA and server certificate made with openssl (localhost, 127.0.0.1; valid 7 days)
  HTTPS server  node:https on 127.0.0.1:${config.port}
  relay         ${config.relay} (allows 127.0.0.1:${config.port} only)
  static        www/ on ${demo.url}

Open ${demo.url} in a browser (worker.html: a TLS server in a Web Worker).
The page trusts the local CA through its config. Ctrl-C stops.`);
  process.off('SIGINT', exitOnSigint);
  await new Promise((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  console.log('Stopping.');
  await demo.close();
}

async function main(argv) {
  let cmd;
  try {
    cmd = parseCommand(argv);
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    console.error(`error: ${e.message}\n\n${USAGE}`);
    return 2;
  }
  if (cmd.mode === 'help') {
    console.log(USAGE);
    return 0;
  }
  if (cmd.mode === 'demo') {
    await browserDemo(cmd);
    return 0;
  }
  const tls = await loadTls();
  if (cmd.mode === 'once') await terminalDemo(tls);
  else await connectCommand(tls, cmd);
  return 0;
}

const exitOnSigint = () => process.exit(130); // still runs the 'exit' clean-up
process.on('SIGINT', exitOnSigint);
try {
  process.exitCode = await main(process.argv.slice(2));
} catch (e) {
  const code = e?.code ?? e?.name ?? 'Error';
  const message = String(e?.message ?? e);
  // fs and net messages often start with the code already ("ENOENT: no such file...").
  console.error(`error: ${code}: ${message.startsWith(`${code}: `) ? message.slice(code.length + 2) : message}`);
  process.exitCode = 1;
}
// Exit once stdout has taken everything, without waiting on any stray handle.
process.stdout.write('', () => process.exit());
