/** What a peer's packets travel on in the engine: a UDP socket (many peers) or a TCP connection (one). */
import type { EngineSocket } from './socket.js';
import type { EngineTcp } from './tcp.js';

export type EngineTransport = EngineSocket | EngineTcp;
