// A Cloudflare Worker (run by workerd, bundled with esbuild): on a POST it
// opens plain TCP with connect() to the server named in the request's JSON,
// runs TLS in wasm, and answers with what the client saw.
import { connect } from 'cloudflare:sockets';
import tls from 'wasm-tls';
import { plainError, runClient } from './common.js';

/** What server.listen() does where there is no TCP listening. */
function tryListen() {
  try {
    tls.createServer({}).listen(0);
    return { listened: true };
  } catch (e) {
    return plainError(e);
  }
}

/** tls.rootCertificates: its length, or the error's code. */
function roots() {
  try {
    return tls.rootCertificates.length;
  } catch (e) {
    return e.code;
  }
}

/**
 * A wasm-tls server inside the worker (workerd cannot listen): its connection
 * arrives with server.emit('connection', pair) over in-memory streams, and a
 * wasm-tls client talks to it through the other ends.
 */
async function serveInWorker(cfg) {
  const toServer = new TransformStream();
  const toClient = new TransformStream();
  let serverSide;
  const server = tls.createServer(cfg.server, (socket) => {
    serverSide = { protocol: socket.getProtocol(), servername: socket.servername, alpnProtocol: socket.alpnProtocol };
    socket.on('data', (d) => socket.write(d));
    socket.on('end', () => socket.end());
  });
  server.emit('connection', { readable: toServer.readable, writable: toClient.writable });
  const client = await runClient(tls, cfg, { transport: { readable: toClient.readable, writable: toServer.writable } });
  return { client, server: serverSide };
}

export default {
  async fetch(request) {
    const cfg = await request.json();
    if (cfg.server) return Response.json(await serveInWorker(cfg));
    // ownSocket: the worker opens the socket itself and hands it over as { transport }.
    const extra = cfg.ownSocket ? { transport: connect({ hostname: '127.0.0.1', port: cfg.port }, { allowHalfOpen: true }) } : {};
    const result = await runClient(tls, cfg, extra);
    // No file system in workerd: the roots list is there once its module is imported.
    const rootsBefore = roots();
    await import('wasm-tls/root-certificates');
    const rootCertificates = [rootsBefore, roots()];
    return Response.json({ ...result, listen: tryListen(), hasProcess: typeof globalThis.process, rootCertificates });
  },
};
