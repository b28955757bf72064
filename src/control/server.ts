/**
 * The UDP server side of the control channel: one ControlSession per client address, created
 * only after the client echoed the stateless cookie of our first reply (so spoofed resets cost
 * one HMAC and one packet, never state). Malformed and unexpected packets are counted and dropped.
 */
import type { Endpoint } from '../datapath/types.js';
import type { Clock } from './clock.js';
import { systemClock } from './clock.js';
import { SessionCookies } from './cookie.js';
import { Opcode } from './opcodes.js';
import { decodeControlPacket, encodeControlPacket, type ControlPacket } from './packet.js';
import type { ControlSession } from './session.js';

export interface ServerStats {
  malformed: number;
  statelessReplies: number;
  badCookie: number;
  sessionsCreated: number;
  refusedFull: number;
}

export interface ControlServerOptions {
  clock?: Clock;
  cookies?: SessionCookies;
  maxSessions?: number;
  transmit(packet: Buffer, to: Endpoint): void;
  /**
   * Builds the session for a client whose cookie verified. `resumed` goes into the session's
   * options; call `detach` from the session's onEnd so the server forgets it.
   */
  createSession(from: Endpoint, resumed: { localSessionId: Buffer; remoteSessionId: Buffer }, detach: () => void): ControlSession;
  log?(level: 'info' | 'debug' | 'warn', message: string): void;
}

export const endpointKey = (e: Endpoint): string => `${e.address}|${e.port}`;

export class ControlServer {
  readonly sessions = new Map<string, ControlSession>();
  readonly stats: ServerStats = { malformed: 0, statelessReplies: 0, badCookie: 0, sessionsCreated: 0, refusedFull: 0 };
  private readonly clock: Clock;
  private readonly cookies: SessionCookies;

  constructor(private readonly opts: ControlServerOptions) {
    this.clock = opts.clock ?? systemClock;
    this.cookies = opts.cookies ?? new SessionCookies();
  }

  /** Handles one control packet (anything but DATA_V2) received from `from`. */
  receive(buf: Buffer, from: Endpoint): void {
    let p: ControlPacket;
    try {
      p = decodeControlPacket(buf);
    } catch (err) {
      this.stats.malformed++;
      this.opts.log?.('debug', `${from.address}:${from.port}: ${(err as Error).message}`);
      return;
    }
    const key = endpointKey(from);
    const existing = this.sessions.get(key);
    if (existing && existing.remoteSessionId?.equals(p.sessionId)) {
      existing.receive(p);
      return;
    }
    if (p.opcode === Opcode.HARD_RESET_CLIENT_V2) {
      if (p.keyId !== 0 || p.messageId !== 0) { this.stats.malformed++; return; }
      this.replyStateless(p, from);
      return;
    }
    // Second packet of a new client: must ack our message 0 and echo the cookie.
    if (p.acks.includes(0) && p.remoteSessionId && p.keyId === 0 &&
      this.cookies.verify(this.clock.now(), from, p.sessionId, p.remoteSessionId)) {
      if (!existing && this.opts.maxSessions !== undefined && this.sessions.size >= this.opts.maxSessions) {
        this.stats.refusedFull++;
        this.opts.log?.('warn', `${from.address}:${from.port}: refused, ${this.sessions.size} sessions (max-clients)`);
        return;
      }
      if (existing) {
        this.opts.log?.('info', `${from.address}:${from.port}: new session replaces the old one`);
        void existing.close(false);
      }
      let session: ControlSession;
      try {
        session = this.opts.createSession(from,
          { localSessionId: Buffer.from(p.remoteSessionId), remoteSessionId: Buffer.from(p.sessionId) },
          () => { if (this.sessions.get(key) === session) this.sessions.delete(key); });
      } catch (err) {
        this.stats.refusedFull++;
        this.opts.log?.('warn', `${from.address}:${from.port}: refused: ${(err as Error).message}`);
        return;
      }
      this.sessions.set(key, session);
      this.stats.sessionsCreated++;
      session.start();
      session.receive(p);
      return;
    }
    this.stats.badCookie++;
  }

  /** HARD_RESET_SERVER_V2 acking the client's reset, with a cookie as our session id. */
  private replyStateless(p: ControlPacket, from: Endpoint): void {
    this.stats.statelessReplies++;
    this.opts.transmit(encodeControlPacket({
      opcode: Opcode.HARD_RESET_SERVER_V2, keyId: 0,
      sessionId: this.cookies.make(this.clock.now(), from, p.sessionId),
      acks: [0], remoteSessionId: p.sessionId, messageId: 0, payload: Buffer.alloc(0),
    }), from);
  }

  /** Ends every session (EXIT, or RESTART so clients reconnect at once). */
  async close(message: 'EXIT' | 'RESTART' = 'EXIT'): Promise<void> {
    await Promise.all([...this.sessions.values()].map((s) => s.close(true, message)));
    this.sessions.clear();
  }
}
