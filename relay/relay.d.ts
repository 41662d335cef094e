// Types for wasm-tls/relay (relay.js). See docs/relay.md.
import type { AddressInfo } from 'node:net';

export interface RelayOptions {
  /** Fixed destination `host:port`; the URL query is then ignored. Excludes `allow`. */
  target?: string;
  /** Patterns `host:port` a client may name with `?host=&port=` (`*.example.com:443`, `10.0.0.0/8:5432`, `[fd00::/8]:*`). */
  allow?: string[];
  /** Let names resolve to private, loopback, link-local, CGNAT, multicast... addresses. */
  allowPrivate?: boolean;
  /** Live bridges in all (default 1024). */
  maxConnections?: number;
  /** Live bridges per client IPv4 address or IPv6 /64 (default 32). */
  maxPerClient?: number;
  /** Seconds without a byte either way before both sides close; 0 never (default 300). */
  idleTimeout?: number;
  /** Seconds a TCP connect may take (default 10). */
  connectTimeout?: number;
  /** Seconds the TCP side gets to finish after the WebSocket closed (default 5). */
  closeGrace?: number;
  /** Largest WebSocket message in bytes (default 1 MiB). */
  maxFrame?: number;
  /** Bytes queued toward one side before the other is paused (default 256 KiB). */
  highWaterMark?: number;
  /** Allowed browser Origin values; requests with another Origin get 403. */
  origins?: string[];
  /** Serve wss: with this certificate chain and key. */
  tls?: { cert: string | Buffer; key: string | Buffer };
  /** Name resolution, called once per connection (default dns.promises.lookup). */
  lookup?: (host: string, options: { all: true; verbatim: true }) => Promise<{ address: string; family: number }[]>;
  /** One line per refusal or failure (default: stderr); false for none. */
  log?: false | ((line: string) => void);
  /** Also log every bridge opened and closed. */
  verbose?: boolean;
}

export interface Relay {
  /** Listens (default 127.0.0.1, port 0); resolves to the bound address. */
  listen(options?: { host?: string; port?: number }): Promise<AddressInfo>;
  address(): AddressInfo | string | null;
  /** `ws://host:port/` or `wss://host:port/`. */
  readonly url: string;
  /** Live bridges (WebSocket or TCP side still open). */
  readonly connections: number;
  /** Stops listening and closes every bridge (clients see 1001). */
  close(): Promise<void>;
}

export function createRelay(options?: RelayOptions): Relay;
/** Why an address is refused by default ('loopback', 'private', ...), or null when public. */
export function addressKind(address: string | Uint8Array): string | null;
/** An IP literal as 16 bytes (IPv4 as ::ffff:a.b.c.d), or null. */
export function ipBytes(text: string): Uint8Array | null;
/** Parses an allow pattern; throws TypeError when malformed. */
export function parsePattern(text: string): {
  text: string;
  ports: [number, number];
  range?: { bytes: Uint8Array; bits: number };
  labels?: string[];
};
/** `host:port` (IPv6 in brackets), or null. */
export function parseHostPort(text: string): { host: string; port: number } | null;
/** The key per-client limits count by: an IPv4 address or an IPv6 /64. */
export function clientKey(address?: string): string;
