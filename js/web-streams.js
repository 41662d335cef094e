// WHATWG streams over a Node-style Duplex (a TLSSocket, in any runtime: it uses
// only the stream's own events and methods), for web-style code:
// `const { readable, writable } = socket.toWeb()`.

/** Bytes per readable queue before the Duplex is paused. */
const READ_HIGH_WATER = 64 * 1024;

const encoder = new TextEncoder();

/** A chunk from 'data' as bytes (a string when the user called setEncoding). */
const toBytes = (chunk) => (typeof chunk === 'string'
  ? encoder.encode(chunk)
  : new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength));

/**
 * @param {import('node:stream').Duplex} duplex
 * @returns {{ readable: ReadableStream<Uint8Array>, writable: WritableStream<Uint8Array> }}
 */
export function duplexToWeb(duplex) {
  let readDone = false;
  const readable = new ReadableStream({
    start(controller) {
      const finish = (fn) => {
        if (readDone) return;
        readDone = true;
        try {
          fn();
        } catch {
          // the stream was cancelled meanwhile
        }
      };
      duplex.on('data', (chunk) => {
        if (readDone) return;
        controller.enqueue(toBytes(chunk));
        // The web side reads at its pace: stop the socket while its queue is full.
        if ((controller.desiredSize ?? 1) <= 0) duplex.pause();
      });
      duplex.once('end', () => finish(() => controller.close()));
      duplex.once('error', (err) => finish(() => controller.error(err)));
      duplex.once('close', () => finish(() => {
        const err = new Error('The socket closed before the end of its data');
        controller.error(Object.assign(err, { code: 'ERR_STREAM_PREMATURE_CLOSE' }));
      }));
      duplex.pause();
    },
    pull() {
      duplex.resume();
    },
    cancel() {
      readDone = true;
      duplex.destroy();
    },
  }, { highWaterMark: READ_HIGH_WATER, size: (chunk) => chunk.byteLength });

  const writable = new WritableStream({
    start(controller) {
      duplex.once('error', (err) => controller.error(err));
    },
    // One write in flight: the promise settles when the socket has taken the
    // bytes (its write callback), so a slow peer slows the writer.
    write(chunk) {
      if (!ArrayBuffer.isView(chunk) && !(chunk instanceof ArrayBuffer)) {
        throw Object.assign(new TypeError('The writable side of toWeb() takes Uint8Array chunks'), { code: 'ERR_INVALID_ARG_TYPE' });
      }
      const bytes = ArrayBuffer.isView(chunk)
        ? new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength)
        : new Uint8Array(chunk);
      return new Promise((resolve, reject) => {
        duplex.write(bytes, (err) => (err ? reject(err) : resolve(undefined)));
      });
    },
    close() {
      // The socket may have ended its side already (the peer ended and allowHalfOpen is false).
      if (duplex.writableFinished || duplex.destroyed) return undefined;
      return new Promise((resolve, reject) => {
        if (duplex.writableEnded) {
          duplex.once('finish', () => resolve(undefined));
          duplex.once('close', () => resolve(undefined));
        } else {
          duplex.end((err) => (err ? reject(err) : resolve(undefined)));
        }
      });
    },
    abort(reason) {
      duplex.destroy(reason instanceof Error ? reason : undefined);
    },
  });
  return { readable, writable };
}
