// Peers that are not TLS clients, against a TLS server: a plain HTTP request
// and a hang-up before any ClientHello. `net` is node:net (Node, Deno, Bun).

/** Collects what a raw socket receives until it closes, as hex. */
function received(socket) {
  const chunks = [];
  socket.on('data', (d) => chunks.push(...d));
  socket.on('error', () => {});
  return new Promise((resolve) => socket.on('close', () => resolve(Buffer.from(chunks).toString('hex'))));
}

/**
 * @returns {Promise<{ errors: object[], httpReply: string, connections: number }>} the server's
 *   tlsClientError codes in arrival order and what the HTTP client got back
 */
export async function probeServerErrors(tls, net, { key, cert }) {
  const errors = [];
  let secure = 0;
  const server = tls.createServer({ key, cert }, () => { secure++; });
  const twoErrors = new Promise((resolve) => {
    server.on('tlsClientError', (e, socket) => {
      errors.push({ code: e.code, library: e.library, reason: e.reason, socket: typeof socket?.destroy });
      if (errors.length === 2) resolve();
    });
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  const http = net.connect(port, '127.0.0.1', () => http.write('GET / HTTP/1.1\r\nHost: localhost\r\n\r\n'));
  const httpReply = received(http);
  await new Promise((resolve) => server.once('tlsClientError', resolve));
  const quiet = net.connect(port, '127.0.0.1', () => quiet.end());
  const quietReply = received(quiet);
  await twoErrors;
  const out = { errors, httpReply: await httpReply, quietReply: await quietReply, secure };
  await new Promise((resolve) => server.close(resolve));
  return out;
}
