/**
 * The UDP server side of the control channel: one ControlSession per client address, created
 * only after the client echoed the stateless cookie of our first reply (so spoofed resets cost
 * one HMAC and one packet, never state). Malformed and unexpected packets are counted and dropped.
 *
 * A sender that can receive our replies can still open sessions, each a TLS handshake in
 * progress (tens of KB): such half-open sessions are capped, in all and per source address,
 * and a new one beyond a cap is dropped (counted; the client retransmits). `maxSessions`
 * (max-clients) counts established sessions only, so half-open ones never lock clients out.
 */
import type { Endpoint } from '../datapath/types.js';
import type { Clock } from './clock.js';
import { systemClock } from './clock.js';
import { SessionCookies } from './cookie.js';
import { Opcode } from './opcodes.js';
import { decodeControlPacket, encodeControlPacket, type ControlPacket } from './packet.js';
import type { ControlSession } from './session.js';
import { LogRateLimiter } from '../util/rate-limit.js';
import { endpointText } from '../util/sockaddr.js';
import type { InitialPacket, ServerWrapping } from './wrap/server-wrap.js';
import type { ControlWrapper } from './wrap/wrapper.js';

export interface ServerStats {
  malformed: number;
  statelessReplies: number;
  badCookie: number;
  sessionsCreated: number;
  /** Refused: max-clients established sessions, or createSession refused. */
  refusedFull: number;
  /** Dropped: the half-open cap (all, or of the source address) was reached. */
  refusedHalfOpen: number;
  /** Dropped: failed tls-auth/tls-crypt unwrapping (wrong key, forged, replayed). */
  unwrapFailed: number;
}

/** Half-open sessions (handshake not finished) at once, in all and from one address. */
export const MAX_HALF_OPEN = 256;
export const MAX_HALF_OPEN_PER_ADDRESS = 8;

export interface ControlServerOptions {
  clock?: Clock;
  cookies?: SessionCookies;
  /** Established sessions at most (max-clients); half-open ones do not count. */
  maxSessions?: number;
  /** Half-open sessions at most (default MAX_HALF_OPEN). */
  maxHalfOpen?: number;
  /** Half-open sessions from one source address at most (default MAX_HALF_OPEN_PER_ADDRESS). */
  maxHalfOpenPerAddress?: number;
  transmit(packet: Buffer, to: Endpoint): void;
  /**
   * Builds the session for a client whose cookie verified. `resumed` goes into the session's
   * options; call `detach` from the session's onEnd so the server forgets it.
   */
  createSession(from: Endpoint, resumed: { localSessionId: Buffer; remoteSessionId: Buffer }, detach: () => void,
    wrapper?: ControlWrapper): ControlSession;
  /**
   * tls-auth / tls-crypt / tls-crypt-v2: every packet is unwrapped first; one that fails is
   * dropped without a reply, counted and logged (rate-limited). The session's own packets
   * go out through the wrapper given to createSession.
   */
  wrapping?: ServerWrapping;
  log?(level: 'error' | 'info' | 'debug' | 'warn', message: string): void;
}

export const endpointKey = (e: Endpoint): string => `${e.address}|${e.port}`;

export class ControlServer {
  readonly sessions = new Map<string, ControlSession>();
  readonly stats: ServerStats = { malformed: 0, statelessReplies: 0, badCookie: 0, sessionsCreated: 0, refusedFull: 0, refusedHalfOpen: 0, unwrapFailed: 0 };
  private readonly wrappers = new Map<string, ControlWrapper>();
  private readonly unwrapLog = new LogRateLimiter();
  private readonly clock: Clock;
  private readonly cookies: SessionCookies;

  constructor(private readonly opts: ControlServerOptions) {
    this.clock = opts.clock ?? systemClock;
    this.cookies = opts.cookies ?? new SessionCookies();
  }

  /** Handles one control packet (anything but DATA_V2) received from `from`. */
  receive(buf: Buffer, from: Endpoint): void {
    const key = endpointKey(from);
    const existing = this.sessions.get(key);
    let plain = buf;
    let initial: InitialPacket | undefined;
    let viaSession = false;
    const wrapping = this.opts.wrapping;
    if (wrapping) {
      const w = this.wrappers.get(key);
      if (w) {
        try {
          plain = w.unwrap(buf);
          viaSession = true;
        } catch {
          // Not this session's (a new client at the address, or a replay): try as a first packet.
        }
      }
      if (!viaSession) {
        try {
          initial = wrapping.openInitial(buf);
          plain = initial.plain;
        } catch (err) {
          this.stats.unwrapFailed++;
          const line = this.unwrapLog.pass(this.clock.now(), `packet failed ${wrapping.kind} from ${endpointText(from)} (${(err as Error).message})`);
          if (line) this.opts.log?.('error', line);
          return;
        }
      }
    }
    let p: ControlPacket;
    try {
      p = decodeControlPacket(plain);
    } catch (err) {
      this.stats.malformed++;
      this.opts.log?.('debug', `${endpointText(from)}: ${(err as Error).message}`);
      return;
    }
    if (existing && existing.remoteSessionId?.equals(p.sessionId)) {
      // A wrapped packet of this session that its wrapper refused is a replay.
      if (wrapping && !viaSession) { this.stats.unwrapFailed++; return; }
      existing.receive(p);
      return;
    }
    if (wrapping && !initial) {
      // Unwrapped by a session's wrapper but not that session's: a new one from the address.
      try {
        initial = wrapping.openInitial(buf);
      } catch {
        this.stats.unwrapFailed++;
        return;
      }
    }
    if (p.opcode === Opcode.HARD_RESET_CLIENT_V2) {
      if (p.keyId !== 0 || p.messageId !== 0) { this.stats.malformed++; return; }
      if (initial?.v2 && !initial.v2.earlyNegotiation) {
        // A pre-2.6 tls-crypt-v2 client cannot resend its key: answering would need state.
        this.stats.refusedHalfOpen++;
        const line = this.unwrapLog.pass(this.clock.now(), `${endpointText(from)}: tls-crypt-v2 client without early negotiation (OpenVPN < 2.6) refused`);
        if (line) this.opts.log?.('warn', line);
        return;
      }
      this.replyStateless(p, from, initial);
      return;
    }
    // Second packet of a new client: must ack our message 0 and echo the cookie.
    if (p.acks.includes(0) && p.remoteSessionId && p.keyId === 0 &&
      this.cookies.verify(this.clock.now(), from, p.sessionId, p.remoteSessionId)) {
      const refusal = existing ? undefined : this.admissionRefusal(from);
      if (refusal) {
        this.opts.log?.('debug', `${endpointText(from)}: refused: ${refusal}`);
        return;
      }
      if (existing) {
        this.opts.log?.('info', `${endpointText(from)}: new session replaces the old one`);
        void existing.close(false);
      }
      let session: ControlSession;
      const wrapper = wrapping && initial ? wrapping.sessionWrapper(initial) : undefined;
      try {
        session = this.opts.createSession(from,
          { localSessionId: Buffer.from(p.remoteSessionId), remoteSessionId: Buffer.from(p.sessionId) },
          () => {
            if (this.sessions.get(key) !== session) return;
            this.sessions.delete(key);
            this.wrappers.delete(key);
          }, wrapper);
      } catch (err) {
        this.stats.refusedFull++;
        this.opts.log?.('warn', `${endpointText(from)}: refused: ${(err as Error).message}`);
        return;
      }
      this.sessions.set(key, session);
      if (wrapper) this.wrappers.set(key, wrapper);
      else this.wrappers.delete(key);
      this.stats.sessionsCreated++;
      session.start();
      session.receive(p);
      return;
    }
    this.stats.badCookie++;
  }

  /** Established sessions (handshake done). */
  get established(): number {
    let n = 0;
    for (const s of this.sessions.values()) if (s.phase === 'established') n++;
    return n;
  }

  /** Why a new session from `from` may not be created now (counted), or undefined. */
  private admissionRefusal(from: Endpoint): string | undefined {
    let halfOpen = 0;
    let fromAddress = 0;
    let established = 0;
    const sameAddress = `${from.address}|`;
    for (const [key, s] of this.sessions) {
      if (s.phase === 'established') { established++; continue; }
      if (s.phase !== 'handshake') continue;
      halfOpen++;
      if (key.startsWith(sameAddress)) fromAddress++;
    }
    if (this.opts.maxSessions !== undefined && established >= this.opts.maxSessions) {
      this.stats.refusedFull++;
      return `${established} clients connected (max-clients)`;
    }
    if (halfOpen >= (this.opts.maxHalfOpen ?? MAX_HALF_OPEN)) {
      this.stats.refusedHalfOpen++;
      return `${halfOpen} handshakes in progress`;
    }
    if (fromAddress >= (this.opts.maxHalfOpenPerAddress ?? MAX_HALF_OPEN_PER_ADDRESS)) {
      this.stats.refusedHalfOpen++;
      return `${fromAddress} handshakes in progress from ${from.address}`;
    }
    return undefined;
  }

  /** HARD_RESET_SERVER_V2 acking the client's reset, with a cookie as our session id. */
  private replyStateless(p: ControlPacket, from: Endpoint, initial: InitialPacket | undefined): void {
    this.stats.statelessReplies++;
    const wrapping = this.opts.wrapping;
    const reply = encodeControlPacket({
      opcode: Opcode.HARD_RESET_SERVER_V2, keyId: 0,
      sessionId: this.cookies.make(this.clock.now(), from, p.sessionId),
      acks: [0], remoteSessionId: p.sessionId, messageId: 0,
      payload: wrapping && initial ? wrapping.replyPayload(initial) : Buffer.alloc(0),
    });
    this.opts.transmit(wrapping && initial ? wrapping.sealReply(reply, initial) : reply, from);
  }

  /** Ends every session (EXIT, or RESTART so clients reconnect at once). */
  async close(message: 'EXIT' | 'RESTART' = 'EXIT'): Promise<void> {
    await Promise.all([...this.sessions.values()].map((s) => s.close(true, message)));
    this.sessions.clear();
    this.wrappers.clear();
  }
}
