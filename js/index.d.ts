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
  onData(chunk: Uint8Array): void;
  onEnd(): void;
  onError(err: Error): void;
  onClose(): void;
  onDrain(): void;
}

export type SecureContextOptions = nodeTls.SecureContextOptions;
export type ConnectionOptions = nodeTls.ConnectionOptions;
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
  constructor(socket?: Duplex | null, options?: nodeTls.TLSSocketOptions);
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
};
export default tls;
