// A wasm-tls server in a worker_threads Worker, reached over a MessagePort that
// the test transfers in (workerData.port). It echoes, and reports each secure
// connection's protocol and cipher back on workerData.report.
import { workerData } from 'node:worker_threads';
import tls, { messagePortTransport } from 'wasm-tls';

const { port, report, options } = workerData;
const server = tls.createServer(options, (socket) => {
  report.postMessage({ protocol: socket.getProtocol(), cipher: socket.getCipher()?.name });
  socket.on('error', (err) => report.postMessage({ error: err.code ?? err.message }));
  socket.pipe(socket);
  socket.on('close', () => {
    report.postMessage({ closed: true });
    report.close();
  });
});
server.on('tlsClientError', (err) => report.postMessage({ error: err.code ?? err.message }));
server.emit('connection', messagePortTransport(port));
