// STARTTLS over the runtime's node:net: a plaintext greeting and command on a
// net.Socket, then tls.connect({ socket }) on the same connection (as SMTP,
// IMAP and Postgres clients do). `net` is node:net (Node, Deno, Bun).

/** Resolves with the next line the raw socket receives (the socket is left paused). */
function nextLine(socket) {
  return new Promise((resolve, reject) => {
    let text = '';
    const onData = (d) => {
      text += d;
      if (!text.includes('\n')) return;
      socket.off('data', onData);
      socket.off('error', reject);
      socket.pause();
      resolve(text);
    };
    socket.on('data', onData);
    socket.once('error', reject);
    socket.resume();
  });
}

/** Upgrades a plaintext connection to `port` and echoes a line through TLS. */
export async function probeStartTls(tls, net, { startTlsPort, ca }) {
  const raw = net.connect(startTlsPort, '127.0.0.1');
  const greeting = await nextLine(raw);
  raw.write('STARTTLS\n');
  const answer = await nextLine(raw);
  const socket = tls.connect({ socket: raw, ca, servername: 'localhost' });
  const events = [];
  for (const name of ['connect', 'secureConnect', 'end', 'close']) socket.on(name, () => events.push(name));
  await new Promise((resolve, reject) => {
    socket.once('secureConnect', resolve);
    socket.once('error', reject);
  });
  const secure = { protocol: socket.getProtocol(), authorized: socket.authorized, encrypted: socket.encrypted };
  socket.write('inside tls\n');
  const echoed = await new Promise((resolve) => socket.once('data', (d) => resolve(String(d))));
  const closed = new Promise((resolve) => socket.once('close', resolve));
  socket.end();
  await closed;
  return { greeting, answer, secure, echoed, events };
}
