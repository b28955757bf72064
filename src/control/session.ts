/**
 * One OpenVPN session with one peer (client or server role): session ids, the key states
 * (negotiating, current, lame duck), the initial handshake with PUSH_REQUEST/PUSH_REPLY,
 * rekeying by soft reset, EXIT, and the handshake timeout. Data keys leave through
 * `onDataKey`/`onRetireKey`; the caller installs them into a Device.
 */
import { randomBytes } from 'node:crypto';
import { DEFAULT_DATA_CIPHERS, cipherSpec, dataKeysFromBlock, type DataCipher } from './ciphers.js';
import { systemClock, type Clock, type Timer } from './clock.js';
import { AuthGate, type AuthRequest } from './auth-gate.js';
import { ControlError } from './errors.js';
import { KeyState } from './key-state.js';
import { parsePeerInfo } from './keymethod2.js';
import { ControlMessage, clientPeerInfo, optionsString } from './messages.js';
import { P2P_PEER_ID_LABEL, fromClientPeerInfo, fromP2pPeerInfo, fromPushReply, type DataChannelParams } from './negotiation.js';
import { Opcode, nextKeyId } from './opcodes.js';
import type { ControlPacket } from './packet.js';
import { PUSH_REPLY, PUSH_REQUEST, buildPushReply, emptyPushOptions, parsePushReply, type PushOptions } from './push.js';
import type { SessionEndReason, SessionOptions, SessionPhase, SessionStats } from './session-types.js';

export type { NewDataKey, SessionEndReason, SessionEvents, SessionOptions, SessionPhase, SessionStats } from './session-types.js';
export { P2P_PEER_ID_LABEL } from './negotiation.js';

export const HANDSHAKE_WINDOW_MS = 60_000;
export const TRANSITION_WINDOW_MS = 60_000;
export const PUSH_REQUEST_INTERVAL_MS = 5_000;
/** How long close() waits for the peer to acknowledge EXIT. */
export const EXIT_ACK_WAIT_MS = 2_000;
/** How long close() lets a rekey in progress finish so that EXIT goes out on the newest key. */
export const EXIT_REKEY_WAIT_MS = 5_000;
/** How long a refused client's session lingers after AUTH_FAILED so the message gets through. */
export const AUTH_FAILED_LINGER_MS = 1_000;
/**
 * After a rekey, transmit on the new key only this long after our side of its handshake is
 * fully acknowledged: the peer activates a key once all its own handshake packets are acked,
 * which is about one trip after we have it; earlier packets on the new key would be dropped.
 */
export const SWAP_DELAY_MS = 1_000;

export class ControlSession {
  readonly role: 'client' | 'server';
  readonly localSessionId: Buffer;
  remoteSessionId: Buffer | undefined;
  phase: SessionPhase = 'handshake';
  cipher: DataCipher | undefined;
  useEkm = false;
  peerSupportsExit = false;
  pushed: PushOptions | undefined;
  /** P2P mode: the data-channel peer id both sides derived. */
  p2pPeerId: number | undefined;
  readonly stats: SessionStats = { dropped: { foreignSession: 0, badAck: 0, unknownKey: 0 }, rekeys: 0 };
  /** The key state whose data key is primary. */
  current: KeyState | undefined;
  /** A key state being negotiated (initial handshake or rekey). */
  pending: KeyState | undefined;
  /** The previous key, kept for decryption until the transition window ends. */
  lameDuck: KeyState | undefined;
  readonly clock: Clock;
  private readonly ciphers: DataCipher[];
  private handshakeTimer: Timer | undefined;
  private renegTimer: Timer | undefined;
  private retireTimer: Timer | undefined;
  private pushTimer: Timer | undefined;
  private pushParts: PushOptions | undefined;
  private swapTimer: Timer | undefined;
  /** Server with an authenticate hook: the username/password checks in progress. */
  private readonly auth: AuthGate<KeyState> | undefined;
  /** Server: the client is refused; AUTH_FAILED went out and the session ends shortly. */
  private refused = false;
  /** Data-path operations run one after another, in the order the protocol produced them. */
  private ops: Promise<void> = Promise.resolve();

  constructor(private readonly opts: SessionOptions) {
    this.role = opts.role;
    this.clock = opts.clock ?? systemClock;
    this.ciphers = opts.ciphers ?? DEFAULT_DATA_CIPHERS;
    this.localSessionId = opts.resumed?.localSessionId ?? randomBytes(8);
    this.remoteSessionId = opts.resumed?.remoteSessionId;
    const authenticate = opts.events.authenticate;
    if (opts.role === 'server' && authenticate) {
      this.auth = new AuthGate<KeyState>({
        authenticate,
        passed: (ks, pushRequested) => this.guard(() => this.onAuthenticated(ks, pushRequested)),
        failed: (ks, error, reason) => this.guard(() => this.refuse(ks, error, reason)),
      });
    }
  }

  /** Starts the first key state (client: sends HARD_RESET_CLIENT_V2). */
  start(): void {
    this.pending = this.newKeyState(0, this.role === 'client' ? Opcode.HARD_RESET_CLIENT_V2 : Opcode.HARD_RESET_SERVER_V2,
      this.opts.resumed !== undefined);
    this.pending.start();
  }

  private newKeyState(keyId: number, resetOpcode: KeyStateResetOpcode, afterCookie = false): KeyState {
    const cipher = this.cipher ?? this.ciphers[0]!;
    const ks = new KeyState({
      role: this.role, keyId, resetOpcode, afterCookie,
      ...(this.opts.wireOverhead ? { wireOverhead: this.opts.wireOverhead } : {}),
      localSessionId: this.localSessionId, remoteSessionId: this.remoteSessionId,
      clock: this.clock, transmit: (p) => this.opts.events.transmit(p), tls: this.opts.tls,
      localOptions: optionsString(this.role, cipher, this.opts.proto ?? 'udp'),
      localPeerInfo: this.role === 'client' || this.opts.p2p
        ? clientPeerInfo({ ciphers: this.ciphers, keyExport: this.opts.keyExport !== false, p2p: this.opts.p2p }) : '',
      ...(this.role === 'client' && this.opts.events.userPass ? { userPass: this.opts.events.userPass } : {}),
      events: {
        onKeyMethodDone: (s) => this.guard(() => this.onKeyMethodDone(s)),
        onControlMessage: (s, m) => this.guard(() => this.onControlMessage(s, m)),
        onError: (s, e) => this.onKeyStateError(s, e),
      },
    });
    this.handshakeTimer?.cancel();
    this.handshakeTimer = this.clock.setTimer(this.opts.handshakeWindowMs ?? HANDSHAKE_WINDOW_MS, () => {
      if (this.pending === ks) {
        this.end({ kind: 'error', error: new ControlError('handshake-timeout',
          `${this.describe()}: key id ${keyId} not negotiated within ${(this.opts.handshakeWindowMs ?? HANDSHAKE_WINDOW_MS) / 1000} s (phase ${ks.phase})`) });
      }
    });
    return ks;
  }

  private describe(): string {
    return `${this.role} session ${this.localSessionId.toString('hex')}`;
  }

  private log(level: 'info' | 'debug' | 'warn', message: string): void {
    this.opts.events.log?.(level, message);
  }

  private guard(fn: () => void): void {
    try {
      fn();
    } catch (err) {
      const e = err instanceof ControlError ? err : new ControlError('protocol', (err as Error).message, { cause: err });
      this.end({ kind: 'error', error: e });
    }
  }

  /** Handles a decoded control packet from the peer. */
  receive(p: ControlPacket): void {
    if (this.phase === 'ended') return;
    if (this.remoteSessionId === undefined) {
      const expected = this.role === 'client' ? Opcode.HARD_RESET_SERVER_V2 : Opcode.HARD_RESET_CLIENT_V2;
      if (p.opcode !== expected) { this.stats.dropped.foreignSession++; return; }
      this.remoteSessionId = p.sessionId;
      for (const ks of this.keyStates()) ks.channel.remoteSessionId = p.sessionId;
    } else if (!p.sessionId.equals(this.remoteSessionId)) {
      this.stats.dropped.foreignSession++;
      return;
    }
    if (p.acks.length > 0 && !p.remoteSessionId!.equals(this.localSessionId)) {
      this.stats.dropped.badAck++;
      return;
    }
    let ks = this.keyStates().find((k) => k.keyId === p.keyId);
    if (!ks && p.opcode === Opcode.SOFT_RESET_V1 && this.current && !this.pending &&
      p.keyId === nextKeyId(this.current.keyId)) {
      this.log('info', `${this.describe()}: peer started rekey to key id ${p.keyId}`);
      ks = this.pending = this.newKeyState(p.keyId, Opcode.SOFT_RESET_V1);
      ks.start();
    }
    if (!ks) { this.stats.dropped.unknownKey++; return; }
    ks.receive(p);
  }

  private keyStates(): KeyState[] {
    return [this.pending, this.current, this.lameDuck].filter((k): k is KeyState => k !== undefined);
  }

  private onKeyMethodDone(ks: KeyState): void {
    if (ks !== this.pending) return;
    if (this.opts.p2p && !this.current) {
      this.negotiateP2p(ks);
      this.activate(ks);
      return;
    }
    if (this.role === 'server') {
      const km = ks.peerKm2!;
      const info = parsePeerInfo(km.peerInfo);
      const request: AuthRequest = { username: km.username, password: String(km.password), keyId: ks.keyId, initial: !this.current, peerInfo: info };
      km.password = ''; // the key state keeps no copy
      if (!this.current) {
        try {
          this.agree(fromClientPeerInfo(this.ciphers, info));
        } catch (err) {
          // OpenVPN fails the client's authentication over this and tells it why.
          if (err instanceof ControlError && err.code === 'negotiation') {
            this.refuse(ks, err, 'Data channel cipher negotiation failed (no shared cipher)');
            return;
          }
          throw err;
        }
        this.log('info', `${this.describe()}: client ${info.get('IV_VER') ?? '?'} cipher ${this.cipher}, ` +
          `keys from ${this.useEkm ? 'TLS exporter' : 'OpenVPN PRF'}`);
      }
      if (this.auth) {
        this.auth.check(ks, request);
        return;
      }
      if (!this.current) return; // keys are installed when the PUSH_REPLY goes out
      this.activate(ks);
      return;
    }
    if (this.role === 'client' && !this.current) {
      this.sendPushRequest(ks);
      return;
    }
    this.activate(ks);
  }

  private onAuthenticated(ks: KeyState, pushRequested: boolean): void {
    if (this.phase === 'ended' || this.refused || ks !== this.pending) return;
    if (this.current) this.activate(ks); // a renegotiation: the new key once the client is authenticated again
    else if (pushRequested) this.answerPushRequest(ks);
  }

  /**
   * Server: tells the client AUTH_FAILED (with OpenVPN's reason text, if any) and ends the
   * session a moment later with `error`, so that the message and its retransmissions go out.
   */
  private refuse(ks: KeyState, error: ControlError, clientReason?: string): void {
    if (this.refused) return;
    this.refused = true;
    this.auth?.close();
    this.renegTimer?.cancel();
    try {
      ks.sendControlMessage(clientReason ? `${ControlMessage.AUTH_FAILED},${clientReason}` : ControlMessage.AUTH_FAILED);
    } catch {
      // the key state failed meanwhile: the session ends without the message
    }
    this.handshakeTimer?.cancel();
    this.handshakeTimer = this.clock.setTimer(AUTH_FAILED_LINGER_MS, () => this.end({ kind: 'error', error }));
  }

  /** NCP_P2P: cipher from the TLS server's preference, EKM keys, exporter-derived peer id. */
  private negotiateP2p(ks: KeyState): void {
    const info = parsePeerInfo(ks.peerKm2!.peerInfo);
    this.agree(fromP2pPeerInfo(this.role, this.ciphers, info, this.opts.keyExport !== false, this.describe()));
    this.p2pPeerId = ks.export(3, P2P_PEER_ID_LABEL).readUIntBE(0, 3);
    this.log('info', `${this.describe()}: p2p peer ${info.get('IV_VER') ?? '?'}, cipher ${this.cipher}, peer id ${this.p2pPeerId}`);
  }

  private agree(p: DataChannelParams): void {
    this.cipher = p.cipher;
    this.useEkm = p.useEkm;
    this.peerSupportsExit = p.peerSupportsExit;
  }

  private sendPushRequest(ks: KeyState): void {
    if (this.pending !== ks || this.current) return;
    ks.sendControlMessage(PUSH_REQUEST);
    this.pushTimer = this.clock.setTimer(PUSH_REQUEST_INTERVAL_MS, () => this.guard(() => this.sendPushRequest(ks)));
  }

  private onControlMessage(ks: KeyState, message: string): void {
    const word = message.split(',', 1)[0]!;
    if (word === PUSH_REQUEST && this.role === 'server') {
      if (this.refused) return;
      if (this.auth?.holdPushRequest(ks)) return;
      this.answerPushRequest(ks);
    } else if (word === PUSH_REPLY && this.role === 'client') {
      this.onPushReplyPart(ks, message);
    } else if (word === ControlMessage.EXIT || word === ControlMessage.RESTART || word === ControlMessage.HALT ||
      word.startsWith(ControlMessage.AUTH_FAILED)) {
      this.log('info', `${this.describe()}: peer sent ${message}`);
      this.end({ kind: 'exit', message });
    } else {
      this.log('debug', `${this.describe()}: ignoring control message '${message.slice(0, 60)}'`);
    }
  }

  private answerPushRequest(ks: KeyState): void {
    let base: PushOptions;
    try {
      base = this.opts.events.pushOptions?.() ?? emptyPushOptions();
    } catch (err) {
      // Refused after authentication (disabled, no record, no address): tell the client why not.
      this.refuse(ks, new ControlError('push', `${this.describe()}: client refused: ${(err as Error).message}`, { cause: err }));
      return;
    }
    const flags = ['cc-exit'];
    if (this.useEkm) flags.push('tls-ekm');
    const reply: PushOptions = { ...base, cipher: this.cipher!, protocolFlags: [...base.protocolFlags, ...flags] };
    const messages = buildPushReply(reply);
    if (ks === this.pending && !this.current) {
      // The client sends data as soon as it has the reply: the key goes into the data path first.
      this.activate(ks);
      void this.ops.then(() => {
        if (this.phase !== 'ended') for (const m of messages) ks.sendControlMessage(m);
      });
    } else {
      for (const m of messages) ks.sendControlMessage(m);
    }
  }

  private onPushReplyPart(ks: KeyState, message: string): void {
    if (this.current) {
      // After we are up: a repeated reply, or a server's new auth-token at renegotiation.
      let again: PushOptions;
      try {
        again = parsePushReply(message).options;
      } catch (err) {
        this.log('debug', `${this.describe()}: ignoring a later PUSH_REPLY: ${(err as Error).message}`);
        return;
      }
      this.takeAuthToken(again);
      return;
    }
    const { options, more } = parsePushReply(message, this.pushParts ?? emptyPushOptions());
    this.pushParts = more ? options : undefined;
    if (more) return;
    this.pushTimer?.cancel();
    this.agree(fromPushReply(this.ciphers, options));
    this.takeAuthToken(options);
    this.pushed = options;
    this.log('info', `${this.describe()}: PUSH_REPLY cipher ${this.cipher}, keys from ${this.useEkm ? 'TLS exporter' : 'OpenVPN PRF'}`);
    this.opts.events.onPushReply?.(options);
    this.activate(ks);
  }

  /** Hands a pushed auth-token to the client and keeps no copy in the pushed options. */
  private takeAuthToken(options: PushOptions): void {
    const { authToken, authTokenUser } = options;
    delete options.authToken;
    delete options.authTokenUser;
    if (authToken) this.opts.events.onAuthToken?.(authToken, authTokenUser);
  }

  /** Derives ks's data key, hands it out and makes ks current (old current becomes lame duck). */
  private activate(ks: KeyState): void {
    const cipher = this.cipher!;
    const keys = dataKeysFromBlock(ks.keyBlock(this.useEkm), cipher, this.role);
    const initial = this.current === undefined;
    this.handshakeTimer?.cancel();
    this.pending = undefined;
    if (!initial) {
      this.stats.rekeys++;
      if (this.lameDuck) this.retire(this.lameDuck);
      this.lameDuck = this.current;
    }
    this.current = ks;
    this.phase = 'established';
    this.dataPathOp(`installing key id ${ks.keyId}`,
      () => this.opts.events.onDataKey({ keyId: ks.keyId, cipher, alg: cipherSpec(cipher).alg, keys, initial }));
    if (!initial) this.scheduleSwap(ks);
    this.armReneg();
  }

  private scheduleSwap(ks: KeyState): void {
    this.swapTimer?.cancel();
    this.swapTimer = this.clock.setTimer(SWAP_DELAY_MS, () => {
      if (this.current !== ks || this.phase === 'ended') return;
      if (!ks.channel.idle) { this.scheduleSwap(ks); return; }
      this.dataPathOp(`swapping to key id ${ks.keyId}`, () => this.opts.events.onSwapKeys(ks.keyId));
      const duck = this.lameDuck;
      if (!duck) return;
      this.retireTimer?.cancel();
      this.retireTimer = this.clock.setTimer(this.opts.transitionWindowMs ?? TRANSITION_WINDOW_MS, () => {
        if (this.lameDuck === duck) this.retire(duck);
      });
    });
  }

  private dataPathOp(what: string, op: () => void | Promise<void>): void {
    this.ops = this.ops.then(op).catch((err: unknown) => this.end({ kind: 'error', error: new ControlError('protocol',
      `${this.describe()}: ${what} failed: ${(err as Error).message}`, { cause: err }) }));
  }

  private retire(ks: KeyState): void {
    if (this.lameDuck === ks) this.lameDuck = undefined;
    ks.close();
    this.dataPathOp(`removing key id ${ks.keyId}`, () => this.opts.events.onRetireKey(ks.keyId));
  }

  private armReneg(): void {
    this.renegTimer?.cancel();
    const s = this.opts.renegSeconds ?? 3600;
    if (s > 0) this.renegTimer = this.clock.setTimer(s * 1000, () => this.rekey('reneg-sec'));
  }

  /** Starts a soft reset with the next key id (reneg-sec, packet-id exhaustion, operator). */
  rekey(why: string): void {
    if (this.phase !== 'established' || this.pending || !this.current) return;
    const keyId = nextKeyId(this.current.keyId);
    this.log('info', `${this.describe()}: rekey to key id ${keyId} (${why})`);
    this.pending = this.newKeyState(keyId, Opcode.SOFT_RESET_V1);
    this.pending.start();
  }

  private onKeyStateError(ks: KeyState, err: ControlError): void {
    if (ks === this.current || ks === this.pending) this.end({ kind: 'error', error: err });
    else this.log('warn', `${this.describe()}: retired key id ${ks.keyId}: ${err.message}`);
  }

  /**
   * Ends the session. With `exit`, sends EXIT (or RESTART: "reconnect", for a server that
   * restarts its sessions) when the peer understands it, and waits up to EXIT_ACK_WAIT_MS
   * for its acknowledgement first.
   */
  async close(exit = true, message: 'EXIT' | 'RESTART' = ControlMessage.EXIT): Promise<void> {
    if (this.phase === 'ended') return;
    // OpenVPN reads control messages only on its newest key: once a soft reset has begun, the
    // old key's are dropped ("key IDs out of sync"). So let a rekey in progress finish first.
    if (exit && this.pending && this.current && this.peerSupportsExit) {
      await new Promise<void>((resolve) => {
        const deadline = this.clock.now() + EXIT_REKEY_WAIT_MS;
        const poll = () => (!this.pending || this.pending.phase === 'active' || this.pending.phase === 'failed' ||
          this.clock.now() >= deadline || this.phase === 'ended' ? resolve() : this.clock.setTimer(50, poll));
        poll();
      });
      if ((this.phase as string) === 'ended') return;
    }
    const ks = this.pending?.phase === 'active' ? this.pending : this.current;
    if (exit && ks && ks.phase === 'active' && this.peerSupportsExit) {
      try {
        ks.sendControlMessage(message);
        await new Promise<void>((resolve) => {
          const deadline = this.clock.now() + EXIT_ACK_WAIT_MS;
          const poll = () => (ks.channel.idle || this.clock.now() >= deadline || this.phase === 'ended'
            ? resolve() : this.clock.setTimer(50, poll));
          this.clock.setTimer(10, poll);
        });
      } catch (err) {
        this.log('warn', `${this.describe()}: EXIT not sent: ${(err as Error).message}`);
      }
    }
    this.end({ kind: 'closed' });
  }

  private end(reason: SessionEndReason): void {
    if (this.phase === 'ended') return;
    this.phase = 'ended';
    this.auth?.close();
    for (const t of [this.handshakeTimer, this.renegTimer, this.retireTimer, this.pushTimer, this.swapTimer]) t?.cancel();
    for (const ks of this.keyStates()) ks.close();
    this.opts.events.onEnd(reason);
  }
}

type KeyStateResetOpcode = typeof Opcode.HARD_RESET_CLIENT_V2 | typeof Opcode.HARD_RESET_SERVER_V2 | typeof Opcode.SOFT_RESET_V1;
