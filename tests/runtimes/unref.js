// Run inside Deno or Bun: a listening server and a connected client, both
// unref()'d, must not keep the process alive (as in Node) while the peer
// keeps the connection open.
import tls from 'wasm-tls';
import { config, first, report } from './common.js';

const cfg = config();
const server = tls.createServer({ key: cfg.key, cert: cfg.cert });
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
server.unref();
const socket = tls.connect({ host: '127.0.0.1', port: cfg.port, ca: cfg.ca, servername: 'localhost' });
const [event] = await first(socket, ['secureConnect', 'error']);
socket.unref();
report({ event, listening: server.listening });
