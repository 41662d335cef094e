// Types for wasm-tls: the node:tls API (Node 20) as far as wasm-tls implements it,
// plus the transport interface. Where a type is Node's, it is Node's own.
import type { Duplex } from 'node:stream';
import type * as nodeTls from 'node:tls';
import type * as net from 'node:net';

/** A byte pipe under a TLSSocket. Adapters know nothing of TLS. */
export interface Transport {
  /** Begins delivering events to `handlers`. */
  start(handlers: TransportHandlers): void;
  /** Sends bytes; `false` means "wait for onDrain before sending more". */
  write(bytes: Uint8Array): boolean;
  /**
   * Optional: sends `parts` in order, as write() would one after another, for
   * adapters that can send them without joining them first (a MessagePort
   * transfers each buffer). Returns as write() does.
   */
  writev?(parts: Uint8Array[]): boolean;
  /** Half-closes after the bytes already written. */
  end(): void;
  destroy(): void;
  pause(): void;
  resume(): void;
  /** `false` once nothing more can be written. */
  readonly writable?: boolean;
  readonly connecting?: boolean;
  readonly remoteAddress?: string;
  readonly remotePort?: number;
  readonly remoteFamily?: string;
  readonly localAddress?: string;
  readonly localPort?: number;
  setNoDelay?(noDelay: boolean): void;
  setKeepAlive?(enable: boolean, delay: number): void;
  ref?(): void;
  unref?(): void;
}

export interface TransportHandlers {
  onConnect(): void;
  /**
   * Bytes received. `lent`: the chunk is the transport's own buffer, valid only
   * during the call (what is kept must be copied before returning).
   */
  onData(chunk: Uint8Array, lent?: boolean): void;
  onEnd(): void;
  onError(err: Error): void;
  onClose(): void;
  onDrain(): void;
}

// --- Transports (docs/transports.md) ----------------------------------------

/** Addresses a streams transport reports (Deno's remoteAddr/localAddr are read when present). */
export interface StreamsInfo {
  remoteAddress?: string;
  remotePort?: number;
  localAddress?: string;
  localPort?: number;
}

/** What the adapter uses of a ReadableStream (structural, so DOM's and Node's both fit). */
export interface ReadableStreamLike {
  getReader(): {
    read(): Promise<{ done: boolean; value?: any }>;
    cancel(reason?: any): Promise<void>;
    releaseLock(): void;
  };
}

/** What the adapter uses of a WritableStream. */
export interface WritableStreamLike {
  getWriter(): {
    write(chunk: Uint8Array): Promise<void>;
    close(): Promise<void>;
    abort(reason?: any): Promise<void>;
    readonly ready: Promise<undefined | void>;
    readonly desiredSize: number | null;
    releaseLock(): void;
  };
}

/** WHATWG streams both ways: Duplex.toWeb(), a Deno.Conn, a workerd Socket (with `opened`). */
export interface StreamPair {
  readable: ReadableStreamLike;
  writable: WritableStreamLike;
  /** workerd: settles once connected (rejects when the connection fails). */
  opened?: Promise<unknown>;
  /** Deno.Conn: half-close, used by end() when present. */
  closeWrite?(): unknown;
  close?(): unknown;
}

/** The parts of a WebSocket the adapter uses (browser, Deno, Bun, workerd, npm `ws`). */
export interface WebSocketLike {
  send(data: Uint8Array): void;
  readonly readyState: number;
  binaryType: string;
  readonly bufferedAmount: number;
  close(code?: number, reason?: string): void;
}

export interface WebSocketTransportOptions {
  /** A WebSocket class where the runtime has none (Node 20: the npm `ws` package). */
  WebSocket?: new (url: string, protocols?: string | string[]) => WebSocketLike;
  /** Subprotocols to offer; none by default. */
  protocols?: string | string[];
  /** bufferedAmount above which write() returns false (default 256 KiB). */
  highWaterMark?: number;
  /** Largest binary message sent; longer writes are split (default 64 KiB). */
  maxFrame?: number;
}

/** A MessagePort, Worker, worker_threads parentPort: postMessage plus message events. */
export interface MessagePortLike {
  postMessage(message: any, transfer?: any[]): void;
  addEventListener?(type: string, listener: (event: any) => void): void;
  on?(event: string, listener: (...args: any[]) => void): unknown;
}

export interface MessagePortTransportOptions {
  /** Hand over the ArrayBuffer of a chunk that spans all of it (default true: zero copy, detaches it). */
  transfer?: boolean;
}

/** Whatever `connect({ transport })`, `connect({ socket })` and `new TLSSocket(x)` accept. */
export type TransportInput =
  | Transport
  | Duplex
  | WebSocketLike
  | string
  | URL
  | StreamPair
  | Promise<StreamPair>
  | MessagePortLike;

export declare function streamsTransport(pair: StreamPair | Promise<StreamPair>, info?: StreamsInfo): Transport;
export declare function websocketTransport(target: string | URL | WebSocketLike, options?: WebSocketTransportOptions): Transport;
export declare function messagePortTransport(port: MessagePortLike, options?: MessagePortTransportOptions): Transport;
/** Opens `${relayUrl}?host=...&port=...` (a wasm-tls-relay or compatible). */
export declare function relayTransport(relayUrl: string | URL, host: string, port: number, options?: WebSocketTransportOptions): Transport;
export declare function duplexTransport(stream: Duplex): Transport;
/** The WebSocket relay that `connect({ host, port })` uses where the runtime has no TCP (browsers). */
export declare function setDefaultRelay(url: string | URL | undefined): void;
/**
 * Loads the Mozilla trust anchors that a context without `ca` trusts (kept out
 * of the wasm). Node, Deno and Bun load them synchronously on first need; in
 * browsers and workerd, await this before connecting with the default roots.
 */
export declare function loadDefaultRoots(): Promise<void>;

export type SecureContextOptions = nodeTls.SecureContextOptions;
/** Node's options, plus where the bytes go when not over the runtime's TCP. */
export interface ConnectionOptions extends Omit<nodeTls.ConnectionOptions, 'socket'> {
  /** A byte pipe to run TLS over (see TransportInput). */
  transport?: TransportInput;
  /** As in Node: an already connected socket (STARTTLS); any TransportInput is taken too. */
  socket?: TransportInput;
  /** A WebSocket relay for `{ host, port }` (ws: or wss: URL). */
  relay?: string | URL;
  /** The WebSocket class for `relay` where the runtime has none. */
  WebSocket?: WebSocketTransportOptions['WebSocket'];
}
export type TlsOptions = nodeTls.TlsOptions;
export type PeerCertificate = nodeTls.PeerCertificate;
export type DetailedPeerCertificate = nodeTls.DetailedPeerCertificate;
export type CipherNameAndProtocol = nodeTls.CipherNameAndProtocol;
export type EphemeralKeyInfo = nodeTls.EphemeralKeyInfo;

export declare class SecureContext {
  /** The engine's half of the context. */
  readonly context: unknown;
}

export declare class TLSSocket extends Duplex {
  constructor(socket?: TransportInput | null, options?: nodeTls.TLSSocketOptions);
  /** The socket as WHATWG streams (for web-style code), with backpressure; the same pair on each call. */
  toWeb(): { readable: ReadableStream<Uint8Array>; writable: WritableStream<Uint8Array> };
  readonly encrypted: true;
  authorized: boolean;
  authorizationError: string | null;
  alpnProtocol: string | false | null;
  servername: string | false | null;
  secureConnecting: boolean;
  readonly remoteAddress?: string;
  readonly remotePort?: number;
  readonly remoteFamily?: string;
  readonly localAddress?: string;
  readonly localPort?: number;
  readonly connecting: boolean;
  readonly pending: boolean;
  address(): net.AddressInfo | {};
  getProtocol(): string | null;
  getCipher(): CipherNameAndProtocol | null;
  getPeerCertificate(detailed: true): DetailedPeerCertificate | null;
  getPeerCertificate(detailed?: false): PeerCertificate | null;
  getPeerCertificate(detailed?: boolean): PeerCertificate | DetailedPeerCertificate | null;
  getCertificate(): PeerCertificate | object | null;
  getEphemeralKeyInfo(): EphemeralKeyInfo | object | null;
  exportKeyingMaterial(length: number, label: string, context?: Buffer | Uint8Array): Buffer;
  /** An opaque handle valid in this process (rustls does not serialise sessions). */
  getSession(): Buffer | undefined;
  getTLSTicket(): Buffer | undefined;
  isSessionReused(): boolean;
  setMaxSendFragment(size: number): boolean;
  /** Always false: rustls does not renegotiate; the callback gets ERR_TLS_RENEGOTIATION_DISABLED. */
  renegotiate(options: object, callback: (err: Error | null) => void): boolean;
  getFinished(): Buffer | undefined;
  getPeerFinished(): Buffer | undefined;
  setTimeout(ms: number, callback?: () => void): this;
  setNoDelay(noDelay?: boolean): this;
  setKeepAlive(enable?: boolean, initialDelay?: number): this;
  ref(): this;
  unref(): this;
}

export declare class Server extends net.Server {
  constructor(options?: TlsOptions, secureConnectionListener?: (socket: TLSSocket) => void);
  constructor(secureConnectionListener?: (socket: TLSSocket) => void);
  addContext(hostname: string, context: SecureContextOptions | SecureContext): void;
  setSecureContext(options: SecureContextOptions): void;
  getTicketKeys(): Buffer;
  setTicketKeys(keys: Buffer | Uint8Array): void;
}

export declare function connect(options: ConnectionOptions, secureConnectListener?: () => void): TLSSocket;
export declare function connect(port: number, host?: string, options?: ConnectionOptions, secureConnectListener?: () => void): TLSSocket;
export declare function connect(port: number, options?: ConnectionOptions, secureConnectListener?: () => void): TLSSocket;
export declare function createServer(options?: TlsOptions, secureConnectionListener?: (socket: TLSSocket) => void): Server;
export declare function createServer(secureConnectionListener?: (socket: TLSSocket) => void): Server;
export declare function createSecureContext(options?: SecureContextOptions): SecureContext;
export declare function checkServerIdentity(hostname: string, cert: PeerCertificate): Error | undefined;
export declare function getCiphers(): string[];

export declare const CLIENT_RENEG_LIMIT: number;
export declare const CLIENT_RENEG_WINDOW: number;
export declare const DEFAULT_ECDH_CURVE: string;
export declare const DEFAULT_CIPHERS: string;
export declare const DEFAULT_MIN_VERSION: nodeTls.SecureVersion;
export declare const DEFAULT_MAX_VERSION: nodeTls.SecureVersion;

declare const tls: {
  CLIENT_RENEG_LIMIT: number;
  CLIENT_RENEG_WINDOW: number;
  DEFAULT_ECDH_CURVE: string;
  DEFAULT_CIPHERS: string;
  DEFAULT_MIN_VERSION: nodeTls.SecureVersion;
  DEFAULT_MAX_VERSION: nodeTls.SecureVersion;
  /** The Mozilla roots (PEM), loaded on first read. */
  readonly rootCertificates: ReadonlyArray<string>;
  TLSSocket: typeof TLSSocket;
  SecureContext: typeof SecureContext;
  Server: typeof Server;
  connect: typeof connect;
  createServer: typeof createServer;
  createSecureContext: typeof createSecureContext;
  checkServerIdentity: typeof checkServerIdentity;
  getCiphers: typeof getCiphers;
  setDefaultRelay: typeof setDefaultRelay;
  loadDefaultRoots: typeof loadDefaultRoots;
};
export default tls;
