// The host half of src/records.rs: once data flows after the handshake, the
// engine hands record protection to the host's native AEAD (node:crypto in
// Node, Deno and Bun; WebCrypto in browsers, workers and workerd, where it is
// the only fast AES-GCM) and emits jobs (keys to load, records to seal and to
// open), which this runs. The engine frames every record and makes every
// nonce, AAD, header and sequence number; here bytes only go in and out of the
// AEAD, and bulk data never crosses into wasm. Results are used strictly in
// job order.

import { Buffer } from '#buffer';
import { hostCrypto } from './host-crypto.js';

const subtle = globalThis.crypto?.subtle;
const nodeCrypto = globalThis.process?.getBuiltinModule?.('node:crypto');
const TAG_LEN = 16;
const EMPTY = new Uint8Array(0);
/** src/records.rs `Aead` bits: AES-128-GCM, AES-256-GCM; ChaCha20-Poly1305 is bit 2. */
const AES_GCM = 0b11;
/** By src/records.rs `Aead` number. */
const NODE_NAMES = ['aes-128-gcm', 'aes-256-gcm', 'chacha20-poly1305'];
const GCM = { authTagLength: TAG_LEN };
/** A record's tag, for node:crypto's setAuthTag() (which copies it). */
const tag = new Uint8Array(TAG_LEN);

/**
 * The AEAD under the records. importKey() gives the key for one direction and
 * epoch; seal() gives the parts of ciphertext || tag of the plaintext `parts`; open()
 * gives the plaintext, or undefined if the record is not authentic. Each gives
 * its value, or (WebCrypto) a promise of it; keys are passed back as importKey()
 * gave them.
 */
const webCrypto = typeof subtle?.encrypt === 'function' && {
  /** AES-128-GCM and AES-256-GCM (WebCrypto has no ChaCha20-Poly1305). */
  aeads: AES_GCM,
  importKey: (raw, direction) => subtle.importKey('raw', raw, 'AES-GCM', false, [direction === 0 ? 'encrypt' : 'decrypt']),
  seal(key, iv, additionalData, parts) {
    if (key instanceof Promise) return key.then((k) => this.seal(k, iv, additionalData, parts));
    // encrypt() copies its input before it returns (WebCrypto §14.3.1), so one
    // scratch buffer serves every record: no allocation per record.
    const plaintext = parts.length === 1 ? parts[0] : gather(parts);
    return subtle.encrypt({ name: 'AES-GCM', iv, additionalData }, key, plaintext).then((sealed) => [new Uint8Array(sealed)]);
  },
  open(key, iv, additionalData, data) {
    if (key instanceof Promise) return key.then((k) => this.open(k, iv, additionalData, data), () => undefined);
    return subtle.decrypt({ name: 'AES-GCM', iv, additionalData }, key, data).then(
      (plaintext) => new Uint8Array(plaintext),
      () => undefined, // OperationError: the engine says so in its words
    );
  },
};

/**
 * The bytes of `parts` after the first `skip`: a view when they lie in one part
 * (a record's header often arrives apart from the rest, from a MessagePort), else a copy.
 */
function sealedPart(parts, skip) {
  let i = 0;
  while (i < parts.length && skip >= parts[i].length) skip -= parts[i++].length;
  if (i === parts.length) return EMPTY;
  if (i === parts.length - 1) return parts[i].subarray(skip);
  const rest = parts.slice(i);
  rest[0] = rest[0].subarray(skip);
  const out = Buffer.allocUnsafe(rest.reduce((n, part) => n + part.length, 0)); // every byte set below
  let at = 0;
  for (const part of rest) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

let scratch = new Uint8Array(0);
/** `parts` one after another in the scratch buffer, valid until the next call. */
function gather(parts) {
  const length = parts.reduce((n, part) => n + part.length, 0);
  if (scratch.length < length) scratch = new Uint8Array(Math.max(length, 16 * 1024 + 256));
  let at = 0;
  for (const part of parts) {
    scratch.set(part, at);
    at += part.length;
  }
  return scratch.subarray(0, length);
}

/** node:crypto: synchronous (OpenSSL in Node), so records are sealed and opened inline. */
const nodeAead = typeof nodeCrypto?.createCipheriv === 'function' && typeof nodeCrypto.createSecretKey === 'function' && {
  /** Done with the nonce and AAD given by the time it returns: they may be scratch (Reader.read). */
  synchronous: true,
  /** What this runtime's node:crypto does of AES-128-GCM, AES-256-GCM, ChaCha20-Poly1305 (not Bun). */
  get aeads() {
    return hostCrypto() & 0b111;
  },
  importKey: (raw, direction, algorithm) => ({ name: NODE_NAMES[algorithm], key: nodeCrypto.createSecretKey(raw) }),
  seal: ({ name, key }, iv, additionalData, parts) => {
    const cipher = nodeCrypto.createCipheriv(name, key, iv, GCM);
    cipher.setAAD(additionalData);
    // One update: each allocates its output, where gathering the parts (the
    // data, then TLS 1.3's content type) reuses one scratch buffer.
    const ciphertext = cipher.update(parts.length === 1 ? parts[0] : gather(parts));
    cipher.final();
    return [ciphertext, cipher.getAuthTag()];
  },
  open: ({ name, key }, iv, additionalData, data) => {
    const decipher = nodeCrypto.createDecipheriv(name, key, iv, GCM);
    decipher.setAAD(additionalData);
    const end = data.length - TAG_LEN;
    for (let i = 0; i < TAG_LEN; i++) tag[i] = data[end + i]; // setAuthTag copies it
    decipher.setAuthTag(tag);
    const plaintext = decipher.update(data.subarray(0, end));
    try {
      decipher.final();
    } catch {
      return undefined; // not authentic
    }
    return plaintext;
  },
};

/**
 * The AEAD a new connection hands its records to, or null; its `aeads` are the
 * bits for TlsConnection.setHostRecords(). globalThis[Symbol.for('wasm-tls.hostRecords')]:
 * false keeps them in rustls, 'webcrypto' uses WebCrypto even where node:crypto
 * exists (tests); WASM_TLS_HOST_RECORDS=0 or =webcrypto in the environment, the same.
 */
export function hostRecordAead() {
  const choice = globalThis[Symbol.for('wasm-tls.hostRecords')] ?? envChoice;
  if (choice === false) return null;
  if (choice !== 'webcrypto' && nodeAead && (hostCrypto() & 0b11) === 0b11) return nodeAead;
  return webCrypto || null;
}

const envChoice = (() => {
  try {
    const value = globalThis.Deno ? undefined : globalThis.process?.env?.WASM_TLS_HOST_RECORDS;
    return value === '0' ? false : value;
  } catch {
    return undefined;
  }
})();

const KEY = 1;
const SEAL = 2;
const OPEN = 3;
const SEAL_DATA = 4;
/** OPEN hints (src/records.rs): what may be done with a plaintext without the engine. */
const HINT_DATA = 0;
const HINT_TLS13 = 1;
/** TLS 1.3 inner content type of application data. */
const APPLICATION_DATA = 23;
/** Records being opened at once: enough to hide WebCrypto's thread hops. */
const MAX_OPENING = 32;
/** Records sealed in one run() go to the transport in writes of up to this many. */
const SEALS_PER_WRITE = 8;
/** A record header, and TLS 1.2's explicit nonce after it: what framing needs. */
const HEAD_LEN = 13;
const NONCE_LEN = 12;
/**
 * Plaintext bytes being sealed at once. Writes are planned in slices up to
 * this: WebCrypto seals on the calling thread in Chromium, so sealing a large
 * write whole would hold every record back until the last is sealed, where
 * slices let the peer open the first while the next are sealed.
 */
const SEALING_WINDOW = 256 * 1024;
/** The bytes planned at once. */
const PLAN_SLICE = 128 * 1024;
/** The most data a record holds (RFC 8446 §5.1). */
const RECORD_DATA = 16 * 1024;
/** TlsConnection.opened() flag: the opens still out were under a replaced key. */
const REKEYED = 4;
const PEER_CLOSED = 2;

/** Byte chunks in order, taken from the front as views of the chunks (no copies). */
class ChunkQueue {
  constructor() {
    /** @type {Uint8Array[]} */
    this.chunks = [];
    this.length = 0;
  }
  push(chunk) {
    if (!chunk.length) return;
    this.chunks.push(chunk);
    this.length += chunk.length;
  }
  /** Puts `parts` back in front, in order. */
  unshift(parts) {
    this.chunks.unshift(...parts);
    this.length += parts.reduce((n, part) => n + part.length, 0);
  }
  clear() {
    this.chunks = [];
    this.length = 0;
  }
  /** Copies the chunks that are views of `buffer`, which its owner takes back. */
  copyFrom(buffer) {
    this.chunks = copiedFrom(this.chunks, buffer);
  }
  /** The first `n` bytes (fewer if fewer are queued): a view, or a copy if they span chunks. */
  peek(n) {
    const first = this.chunks[0];
    if (first.length >= n || this.chunks.length === 1) return first.subarray(0, n);
    const out = new Uint8Array(Math.min(n, this.length));
    let at = 0;
    for (const chunk of this.chunks) {
      const part = chunk.subarray(0, out.length - at);
      out.set(part, at);
      at += part.length;
      if (at === out.length) break;
    }
    return out;
  }
  /** Removes the first `n` bytes, as views of the chunks they lie in. */
  take(n) {
    this.length -= n;
    const parts = [];
    while (n > 0) {
      const chunk = this.chunks[0];
      if (chunk.length <= n) {
        parts.push(chunk);
        this.chunks.shift();
        n -= chunk.length;
      } else {
        parts.push(chunk.subarray(0, n));
        this.chunks[0] = chunk.subarray(n);
        n = 0;
      }
    }
    return parts;
  }
}

/** `parts`, each view of `buffer` (which its owner takes back) replaced by a copy. */
function copiedFrom(parts, buffer) {
  return parts.map((part) => (part.buffer === buffer ? part.slice() : part));
}

/** By length: see Reader.read(). */
const SCRATCH = [];

/** Reads the job stream of src/records.rs. */
class Reader {
  /** @param {boolean} reuse see read() */
  constructor(bytes, reuse) {
    this.bytes = bytes;
    this.at = 0;
    this.reuse = reuse;
  }
  u8() {
    return this.bytes[this.at++];
  }
  take(n) {
    const out = this.bytes.subarray(this.at, this.at + n);
    this.at += n;
    return out;
  }
  /**
   * The next `n` bytes; if the reader was made to `reuse`, copied into a buffer
   * kept for that length and overwritten by the next such read: for nonces,
   * AADs and TLS 1.3's content type, which a synchronous AEAD is done with when
   * it returns (no object per record).
   */
  read(n) {
    if (!this.reuse) return this.take(n);
    const out = (SCRATCH[n] ??= new Uint8Array(n));
    for (let i = 0; i < n; i++) out[i] = this.bytes[this.at + i];
    this.at += n;
    return out;
  }
  u32() {
    const { bytes: b, at } = this;
    this.at += 4;
    return (b[at] | (b[at + 1] << 8) | (b[at + 2] << 16) | (b[at + 3] << 24)) >>> 0;
  }
}

export class RecordJobs {
  /**
   * @param {any} engine the TlsConnection, once `hostRecords` is true
   * @param {{ writeRecords(parts: Uint8Array[]): void, recordOpened(flags: number, data?: Uint8Array): void, recordFailed(err: Error): void }} socket
   * @param {{ aeads: number, importKey: Function, seal: Function, open: Function }} aead from hostRecordAead(), as the engine was told
   */
  constructor(engine, socket, aead) {
    this.engine = engine;
    this.socket = socket;
    this.aead = aead;
    /** send, receive: as the AEAD's importKey() gave them */
    this.keys = [null, null];
    /** Settles once every record sealed so far has been written, in order. */
    this.sealed = Promise.resolve();
    /** Batches of records whose seal is still a promise (records after them wait too). */
    this.sealsPending = 0;
    /** Plaintext bytes handed to encrypt() and not yet written. */
    this.sealing = 0;
    /** @type {(() => void)[]} waiting for all that was written to be handed to the transport */
    this.writtenWaiters = [];
    /**
     * Written, not yet sealed: plan() has the engine frame them into records,
     * whose SEAL_DATA jobs take them from the front.
     */
    this.unsealed = new ChunkQueue();
    this.planning = false;
    /** Less than a record was written and waits to be planned (see write()). */
    this.planLater = false;
    /** Received ciphertext not yet framed. */
    this.received = new ChunkQueue();
    /**
     * Records handed to open(), in order; `settled` once its plaintext (or
     * undefined: not authentic) is known, then delivered strictly in order.
     * @type {{ epoch: number, parts: Uint8Array[], hint: number, settled: boolean, plaintext?: Uint8Array }[]}
     */
    this.inFlight = [];
    /** frame() and deliver() are running (they loop rather than recurse). */
    this.framing = false;
    this.delivering = false;
    /** Bumped when the receiving key changes: results of older open jobs are void. */
    this.epoch = 0;
    this.started = false;
    this.cancelled = false;
    this.failed = false;
    this.peerClosed = false;
    /** @type {(() => void)[]} run once no record is being opened */
    this.idle = [];
  }

  /**
   * Takes over the bytes rustls left when it handed over, once (apart from the
   * constructor: this may end the socket, which must hold this object first).
   * Before anything newer is received, and after rustls' last data was delivered.
   */
  start() {
    if (this.started || this.cancelled) return;
    this.started = true;
    const received = this.engine.takeReceived();
    if (received) this.receive(received);
  }

  get opening() {
    return this.inFlight.length > 0;
  }

  /**
   * Seals application data, `chunks` one after another: small ones together
   * fill records, as node:tls does with what a stream wrote meanwhile. The
   * bytes stay here (the engine plans the records).
   */
  write(chunks) {
    for (const chunk of chunks) this.unsealed.push(chunk);
    if (this.unsealed.length >= RECORD_DATA || !this.aead.synchronous) {
      this.plan();
    } else if (!this.planLater) {
      // Less than a record waits for the microtasks queued meanwhile: the
      // socket calls back then, the stream hands over the writes it held back
      // meanwhile, and they join this one. Many small writes make full records
      // (node:tls seals the first alone), as few as the data allows.
      this.planLater = true;
      queueMicrotask(() => queueMicrotask(() => {
        this.planLater = false;
        this.plan();
      }));
    }
  }

  /** Plans (and so seals) what was written, a slice at a time within the window. */
  plan() {
    if (this.planning) return; // the loop below goes on
    this.planning = true;
    try {
      while (this.unsealed.length && this.sealing < SEALING_WINDOW && !this.cancelled && !this.failed) {
        this.engine.writePlan(Math.min(this.unsealed.length, PLAN_SLICE));
        this.run(); // seals all that was planned
      }
    } catch (e) {
      this.fail(e);
    } finally {
      this.planning = false;
    }
  }

  /** Ciphertext from the transport; `lent`: valid only during this call. */
  receive(chunk, lent = false) {
    this.start();
    if (!chunk.length) return;
    if (lent && !this.aead.synchronous) chunk = chunk.slice(); // opened later
    this.received.push(chunk);
    try {
      this.frame();
    } finally {
      // The whole records were opened in place; what is left (most often a
      // record's first part) is kept, even when a 'data' listener threw.
      if (lent && this.aead.synchronous) {
        const lender = chunk.buffer;
        this.received.copyFrom(lender);
        for (const entry of this.inFlight) entry.parts = copiedFrom(entry.parts, lender);
      }
    }
  }

  /** Frames and hands out received records while the AEAD may take more. */
  frame() {
    if (this.framing) return; // the loop below picks up what came meanwhile
    this.framing = true;
    try {
      while (!this.cancelled && !this.failed && !this.peerClosed && this.inFlight.length < MAX_OPENING && this.received.length >= 5) {
        let whole;
        try {
          whole = this.engine.frame(this.received.peek(HEAD_LEN), this.received.length);
        } catch (e) {
          this.run(); // the alert
          this.fail(e);
          return;
        }
        if (whole === 0 || whole > this.received.length) return;
        this.run(); // the OPEN job takes the record from the queue
        this.deliver(); // a synchronous AEAD opened it already
      }
    } finally {
      this.framing = false;
      this.settleIdle();
    }
  }

  /** Starts the jobs the engine has emitted. */
  run() {
    if (this.cancelled) return;
    const jobs = this.engine.takeJobs();
    if (!jobs) return;
    const r = new Reader(jobs, Boolean(this.aead.synchronous));
    // Records are written together, `count` (up to SEALS_PER_WRITE) at once, for
    // fewer, larger transport writes: those sealed already as their parts, in
    // `sealed`, or once any is still being sealed (a promise), all in `batch`,
    // behind any earlier such ones. Made only when needed: most runs open a record.
    let sealed = null;
    let batch = null;
    let count = 0;
    try {
      while (r.at < jobs.length && !this.cancelled) {
        const kind = r.u8();
        if (count && kind !== SEAL && kind !== SEAL_DATA) {
          this.writeSealed(sealed, batch);
          sealed = batch = null;
          count = 0;
        }
        if (kind === KEY) {
          const direction = r.u8();
          const algorithm = r.u8();
          const view = r.take(r.u8());
          const raw = view.slice();
          view.fill(0); // the job stream is ours: no copy of the key is left in it
          const key = this.aead.importKey(raw, direction, algorithm);
          this.keys[direction] = key;
          if (key instanceof Promise) {
            // The key itself once imported, so records need no hop through the promise.
            key.then((k) => {
              if (this.keys[direction] === key) this.keys[direction] = k;
            }, () => {}).finally(() => raw.fill(0));
          } else {
            raw.fill(0);
          }
        } else if (kind === SEAL || kind === SEAL_DATA) {
          const iv = r.read(NONCE_LEN);
          const additionalData = r.read(r.u8());
          const prefix = r.take(r.u8());
          const length = r.u32();
          // The record's plaintext: its data, then (TLS 1.3) its content type.
          let parts;
          if (kind === SEAL) {
            parts = [r.take(length)];
          } else {
            parts = this.unsealed.take(length);
            const suffix = r.read(r.u8()); // sealed before the next read (node:crypto), else a view
            if (suffix.length) parts.push(suffix);
          }
          const result = this.aead.seal(this.keys[0], iv, additionalData, parts);
          if (batch || this.sealsPending || result instanceof Promise) {
            if (sealed) {
              this.writeSealed(sealed, null); // those go first
              sealed = null;
              count = 0;
            }
            (batch ??= []).push({ prefix, sealed: result, length: parts.reduce((n, part) => n + part.length, 0) });
          } else {
            sealed ??= [];
            sealed.push(prefix);
            for (let i = 0; i < result.length; i++) sealed.push(result[i]);
          }
          if (++count === SEALS_PER_WRITE) {
            this.writeSealed(sealed, batch);
            sealed = batch = null;
            count = 0;
          }
        } else if (kind === OPEN) {
          const iv = r.read(NONCE_LEN);
          const additionalData = r.read(r.u8());
          const skip = r.u8();
          const parts = this.received.take(r.u32());
          this.open(iv, additionalData, parts, skip, r.u8());
        } else {
          throw new Error(`unknown record job ${kind}`);
        }
      }
      if (count) this.writeSealed(sealed, batch);
    } catch (e) {
      this.fail(e); // the AEAD threw (an unauthentic record is not an exception)
    }
  }

  /** Writes the parts of records sealed, or those of `batch` once all are sealed (one of the two). */
  writeSealed(sealed, batch) {
    if (sealed) this.socket.writeRecords(sealed);
    else this.write_(batch);
  }

  /** Writes the records of `batch`, some being sealed, once all are, after those before them. */
  write_(batch) {
    for (const b of batch) Promise.resolve(b.sealed).catch(() => {}); // reported in order, below
    const length = batch.reduce((n, b) => n + b.length, 0);
    this.sealing += length;
    this.sealsPending++;
    this.sealed = this.sealed.then(async () => {
      const sealed = await Promise.all(batch.map((b) => b.sealed));
      this.sealsPending--;
      if (this.cancelled) return;
      this.socket.writeRecords(batch.flatMap((b, i) => [b.prefix, ...sealed[i]]));
      this.sealing -= length;
      this.plan();
      if (this.allWritten() && this.writtenWaiters.length) {
        const waiters = this.writtenWaiters;
        this.writtenWaiters = [];
        for (const cb of waiters) cb();
      }
    });
    this.sealed.catch((e) => this.fail(e));
  }

  /** Whether all written has been sealed and handed to the transport, or will be at the end of this turn. */
  allWritten() {
    return (this.unsealed.length === 0 || this.planLater) && this.sealsPending === 0;
  }

  /**
   * `cb` once everything written so far has been sealed and handed to the
   * transport: at once with node:crypto; with WebCrypto later, so that the
   * writes made meanwhile come to the next write together (a stream piped
   * record by record is sealed in batches, and sent in fewer, larger messages).
   */
  whenWritten(cb) {
    if (this.allWritten()) cb();
    else this.writtenWaiters.push(cb);
  }

  /** Opens the record in `parts` (as take() gave them), whose first `skip` bytes are not sealed. */
  open(iv, additionalData, parts, skip, hint) {
    const entry = { epoch: this.epoch, parts, hint, settled: false, plaintext: undefined };
    this.inFlight.push(entry);
    const result = this.aead.open(this.keys[1], iv, additionalData, sealedPart(parts, skip));
    if (!(result instanceof Promise)) {
      entry.settled = true;
      entry.plaintext = result;
      return; // delivered by frame()
    }
    result.then(
      (plaintext) => {
        entry.settled = true;
        entry.plaintext = plaintext;
        if (entry.epoch !== this.epoch) return; // void: framed again under the new key
        this.deliver();
        this.frame();
      },
      (e) => this.fail(e),
    );
  }

  /** Delivers opened records, strictly in order, as far as they are settled. */
  deliver() {
    if (this.delivering) return; // the loop below goes on
    this.delivering = true;
    try {
      while (this.inFlight[0]?.settled && !this.cancelled && !this.failed && !this.peerClosed) {
        const { plaintext, hint } = this.inFlight.shift();
        let flags;
        let data;
        try {
          if (plaintext === undefined) {
            flags = this.engine.opened(undefined); // throws the engine's error
          } else if (hint === HINT_DATA) {
            data = plaintext;
            flags = this.engine.openedData(data.length);
          } else if (hint === HINT_TLS13 && plaintext[plaintext.length - 1] === APPLICATION_DATA) {
            data = plaintext.subarray(0, plaintext.length - 1);
            flags = this.engine.openedData(data.length);
          } else {
            flags = this.engine.opened(plaintext);
          }
        } catch (e) {
          this.run(); // the alert
          this.fail(e);
          return;
        }
        if (flags & REKEYED) {
          // The records after this one were framed under the old key: again, in order.
          this.epoch++;
          const stale = this.inFlight.splice(0).flatMap((e) => e.parts);
          this.received.unshift(stale);
        }
        if (flags & PEER_CLOSED) {
          // Anything framed after close_notify is ignored (RFC 8446 §6.1).
          this.peerClosed = true;
          this.inFlight = [];
          this.received.clear();
        }
        this.run();
        this.socket.recordOpened(flags, data); // user code: may destroy, write or end
      }
    } finally {
      this.delivering = false;
    }
  }

  /**
   * Runs what waits for the opens to end, once none is out and no whole record
   * is left to frame. Only after framing: an async AEAD may open the first of
   * its records last, and all are delivered at once while more wait in `received`.
   */
  settleIdle() {
    if (this.opening || !this.idle.length) return;
    const idle = this.idle;
    this.idle = [];
    for (const cb of idle) cb();
  }

  /** `cb` now, or once the records being opened, and the whole ones queued behind them, have been delivered. */
  afterOpens(cb) {
    if (this.opening) this.idle.push(cb);
    else cb();
  }

  /** Nothing more is opened; records already being sealed (an alert) still go out. */
  fail(err) {
    if (this.failed || this.cancelled) return;
    this.failed = true;
    this.unsealed.clear();
    this.received.clear();
    this.socket.recordFailed(err);
  }

  cancel() {
    this.cancelled = true;
    this.unsealed.clear();
    this.idle = [];
    this.writtenWaiters = [];
    this.received.clear();
    this.inFlight = [];
    this.keys = [null, null];
  }
}
