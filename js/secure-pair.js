// The legacy tls.createSecurePair (deprecated in Node, DEP0064): a TLSSocket
// (`cleartext`) whose ciphertext comes and goes through a plain Duplex (`encrypted`).
import { EventEmitter } from '#events';
import { Duplex } from '#stream';
import { TLSSocket } from './socket.js';
import { createSecureContext } from './context.js';

/** Two Duplex streams joined back to back: what one writes, the other reads. */
function duplexPair() {
  const sides = [];
  for (let i = 0; i < 2; i++) {
    sides.push(new Duplex({
      read() {
        const pending = this._pendingWrite;
        this._pendingWrite = null;
        pending?.();
      },
      write(chunk, encoding, callback) {
        // Delivered at once; the writer waits only if the reader is full.
        if (sides[1 - i].push(chunk)) callback();
        else sides[1 - i]._pendingWrite = callback;
      },
      final(callback) {
        sides[1 - i].push(null);
        callback();
      },
    }));
  }
  return sides;
}

export class SecurePair extends EventEmitter {
  constructor(secureContext, isServer = false, requestCert = !isServer, rejectUnauthorized = false, options = {}) {
    super();
    const [inner, outer] = duplexPair();
    /** Ciphertext: pipe it to and from the peer. */
    this.encrypted = outer;
    /** @type {TLSSocket} Plaintext. */
    this.cleartext = new TLSSocket(inner, {
      ...options,
      secureContext: secureContext ?? createSecureContext(options),
      isServer,
      requestCert,
      rejectUnauthorized,
    });
    this.cleartext.once(isServer ? 'secure' : 'secureConnect', () => this.emit('secure'));
  }
}

export function createSecurePair(secureContext, isServer, requestCert, rejectUnauthorized, options) {
  return new SecurePair(secureContext, isServer, requestCert, rejectUnauthorized, options);
}
