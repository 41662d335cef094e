// The Web Worker half of worker.html: a wasm-tls server that echoes, taking
// its connections from MessagePorts the page transfers (no TCP in a worker).
import tls from 'wasm-tls';
import { messagePortTransport } from 'wasm-tls/transports';

/** @type {import('node:tls').Server | null} */
let server = null;
const post = (message) => self.postMessage(message);
const errorData = (e) => ({ code: e?.code ?? e?.name ?? 'Error', message: String(e?.message ?? e) });

/**
 * mode 'echo' (default) sends everything back; 'upload' answers with the byte
 * count at the end; 'download' sends `size` bytes (a repeated 64 KiB block) and ends.
 */
function createServer({ key, cert, mode, size }) {
  server = tls.createServer({ key, cert, ALPNProtocols: ['echo/1'] }, (socket) => {
    let echoed = 0;
    post({
      type: 'secure',
      server: {
        protocol: socket.getProtocol(),
        cipher: socket.getCipher(),
        alpnProtocol: socket.alpnProtocol,
        servername: socket.servername,
      },
    });
    socket.on('data', (chunk) => { echoed += chunk.byteLength; });
    socket.on('error', (e) => post({ type: 'error', error: errorData(e) }));
    socket.on('close', () => post({ type: 'closed', echoed }));
    if (mode === 'upload') socket.on('end', () => socket.end(String(echoed)));
    else if (mode === 'download') download(socket, size);
    else socket.pipe(socket); // ends our side once the client has ended its own
  });
  server.on('tlsClientError', (e) => post({ type: 'error', error: errorData(e) }));
}

/** Writes `size` bytes as fast as the socket takes them, then ends. */
function download(socket, size) {
  const block = new Uint8Array(64 * 1024).map((_, i) => i);
  let left = size;
  const more = () => {
    while (left > 0) {
      const n = Math.min(left, block.length);
      left -= n;
      if (!socket.write(block.subarray(0, n))) return socket.once('drain', more);
    }
    socket.end();
  };
  more();
}

self.addEventListener('message', ({ data }) => {
  try {
    if (data.type === 'serve') createServer(data);
    else if (data.type === 'accept') server.emit('connection', messagePortTransport(data.port));
  } catch (e) {
    post({ type: 'error', error: errorData(e) });
  }
});
post({ type: 'ready' });
