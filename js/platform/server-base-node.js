// In Node, tls.Server is a net.Server, as in node:tls.
import net from 'node:net';

export default net.Server;
