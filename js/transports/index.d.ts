// Types for 'wasm-tls/transports' (js/transports/index.js).
import type { Transport, TransportInput } from '../index.js';

export type {
  Transport, TransportHandlers, TransportInput, StreamPair, StreamsInfo, WebSocketLike,
  WebSocketTransportOptions, MessagePortLike, MessagePortTransportOptions,
} from '../index.js';
export {
  streamsTransport, websocketTransport, messagePortTransport, relayTransport, duplexTransport,
} from '../index.js';

/** Turns a TransportInput into a Transport (throws ERR_INVALID_ARG_TYPE otherwise). */
export declare function toTransport(value: TransportInput): Transport;
export declare function isTransport(value: unknown): value is Transport;
/** The relay URL for one destination. */
export declare function relayUrlFor(relayUrl: string | URL, host: string, port: number): string;
/** The initial credit of each direction of the MessagePort framing, in bytes. */
export declare const MESSAGE_PORT_WINDOW: number;
