/**
 * One key state: a reliable control channel for one key id, the TLS connection carried on it,
 * and the key-method-2 exchange that yields the material for one data-channel key.
 *
 * Flow: both sides send their reset (HARD_RESET_* or SOFT_RESET_V1, message 0); the client
 * starts TLS when the peer's reset arrives; once TLS is up the client sends its key-method-2
 * message, the server answers with its own; afterwards NUL-terminated control messages
 * (PUSH_REQUEST, PUSH_REPLY, EXIT, ...) may flow either way.
 */
import { randomBytes, type X509Certificate } from 'node:crypto';
import * as tls from 'node:tls';
import { KeyChannel } from './channel.js';
import type { Clock } from './clock.js';
import { ControlError } from './errors.js';
import {
  PRE_MASTER_LEN, RANDOM_LEN, decodeKeyMethod2, encodeKeyMethod2, type KeyMethod2,
} from './keymethod2.js';
import { Opcode, type ReliableOpcode } from './opcodes.js';
import type { ControlPacket } from './packet.js';
import { KEY_BLOCK_LEN, openvpnPrfKeyBlock } from './prf.js';
import { ControlStream } from './tls-stream.js';
import { CertRuleError, explainCertFailure } from './verify.js';

export const EKM_LABEL = 'EXPORTER-OpenVPN-datakeys';
/** Longest control message (NUL-terminated string) accepted from a peer. */
const MAX_CONTROL_MESSAGE = 64 * 1024;

/** Certificate authentication (OpenVPN-compatible). */
export interface X509Credentials {
  /** CA, own certificate and key, CRL (PEM), as for tls.createSecureContext. */
  context: Pick<tls.SecureContextOptions, 'ca' | 'cert' | 'key' | 'crl' | 'passphrase'>;
  /** Extra checks on the verified peer certificate (remote-cert-tls, name); throw to refuse. */
  verifyPeer?(cert: X509Certificate): void;
  /**
   * Server: `verify-client-cert`. none: no certificate is asked for (TLS without a certificate
   * request); optional: one is asked for, a client may send none, one it sends must verify;
   * require (default): a client without a verified certificate is refused.
   */
  clientCert?: 'none' | 'optional' | 'require';
}

/** Client: the username and password (or auth-token) for key-method 2, asked for when it is sent. */
export interface UserPass {
  username: string;
  /** Zeroed by the key state once written into TLS. */
  password: Buffer;
}

/**
 * Pre-shared-key authentication between kovpn peers: TLS 1.2 ECDHE-PSK, so both sides prove
 * the secret, every session has fresh keys (exporter over fresh randoms) and forward secrecy
 * (ephemeral ECDH). Not understood by OpenVPN.
 */
export interface PskCredentials {
  psk: { identity: string; key: Buffer };
}

export type TlsCredentials = X509Credentials | PskCredentials;

export const PSK_CIPHERS = 'ECDHE-PSK-CHACHA20-POLY1305:ECDHE-PSK-AES256-CBC-SHA384';
/** Shortest pre-shared key accepted (bytes). */
export const PSK_MIN_BYTES = 32;

export interface KeyStateEvents {
  /** Both key-method-2 messages are known: keys can be derived. */
  onKeyMethodDone(state: KeyState): void;
  /** A control message (without its NUL) arrived over TLS. */
  onControlMessage(state: KeyState, message: string): void;
  /** The key state failed (TLS error, verification, malformed plaintext). */
  onError(state: KeyState, err: ControlError): void;
}

export interface KeyStateOptions {
  role: 'client' | 'server';
  keyId: number;
  /** HARD_RESET_CLIENT_V2, HARD_RESET_SERVER_V2 or SOFT_RESET_V1. */
  resetOpcode: ReliableOpcode;
  localSessionId: Buffer;
  remoteSessionId?: Buffer;
  clock: Clock;
  transmit(packet: Buffer): void;
  tls: TlsCredentials;
  /** Options string and peer info this side puts in its key-method-2 message. */
  localOptions: string;
  localPeerInfo: string;
  /** Client with auth-user-pass: the credentials to send (undefined: the empty strings). */
  userPass?(): UserPass | undefined;
  /**
   * Server side of the stateless UDP handshake: our reset (message 0) was sent from a cookie
   * and is known to be acked, and the client's reset was consumed: both sequences start at 1.
   */
  afterCookie?: boolean;
  /** Bytes control-channel wrapping adds to each packet (see KeyChannelOptions.wireOverhead). */
  wireOverhead?: number;
  events: KeyStateEvents;
}

/**
 * RFC 5705 exporter with no context (OpenVPN passes none; TLS 1.2 distinguishes "no context"
 * from "empty context"). Node omits the context when the argument is undefined, although
 * @types/node declares it mandatory.
 */
function exportWithoutContext(sock: tls.TLSSocket, length: number, label: string): Buffer {
  const exporter = sock.exportKeyingMaterial.bind(sock) as (len: number, label: string, context?: Buffer) => Buffer;
  return exporter(length, label);
}

export type KeyStatePhase = 'reset' | 'tls' | 'key-method' | 'active' | 'failed' | 'closed';

export class KeyState {
  readonly keyId: number;
  readonly role: 'client' | 'server';
  readonly channel: KeyChannel;
  readonly createdAt: number;
  phase: KeyStatePhase = 'reset';
  localKm2: KeyMethod2 | undefined;
  peerKm2: KeyMethod2 | undefined;
  private socket: tls.TLSSocket | undefined;
  private readonly stream: ControlStream;
  private plain: Buffer = Buffer.alloc(0);

  constructor(private readonly opts: KeyStateOptions) {
    this.keyId = opts.keyId;
    this.role = opts.role;
    this.createdAt = opts.clock.now();
    this.channel = new KeyChannel({
      keyId: opts.keyId,
      localSessionId: opts.localSessionId,
      clock: opts.clock,
      transmit: opts.transmit,
      onMessage: (m) => this.onChannelMessage(m.opcode, m.payload),
      firstSendId: opts.afterCookie ? 1 : 0,
      firstReceiveId: opts.afterCookie ? 1 : 0,
      ...(opts.wireOverhead ? { wireOverhead: opts.wireOverhead } : {}),
      onStall: (ms) => this.fail(new ControlError('handshake-timeout',
        `key id ${this.keyId}: the peer acknowledged no control packet for ${Math.round(ms / 1000)} s`)),
    });
    this.channel.remoteSessionId = opts.remoteSessionId;
    this.stream = new ControlStream(this.channel);
    if (opts.role === 'server') this.startTls();
  }

  /** Sends our reset (not for a server resumed from a cookie, whose reset is already out). */
  start(): void {
    if (!this.opts.afterCookie) this.channel.send(this.opts.resetOpcode);
    else this.phase = 'tls';
  }

  receive(packet: ControlPacket): void {
    this.channel.receive(packet);
  }

  private onChannelMessage(opcode: ReliableOpcode, payload: Buffer): void {
    if (this.phase === 'failed' || this.phase === 'closed') return;
    if (opcode === Opcode.CONTROL_V1) {
      this.stream.deliver(payload);
      return;
    }
    // The peer's reset: the client can now start TLS.
    if (this.phase === 'reset') {
      this.phase = 'tls';
      if (this.role === 'client') this.startTls();
    }
  }

  private startTls(): void {
    const creds = this.opts.tls;
    if ('psk' in creds) {
      this.startPskTls(creds);
      return;
    }
    const context = creds.context;
    if (this.role === 'client') {
      const sock = tls.connect({
        ...context, socket: this.stream, rejectUnauthorized: true,
        // OpenVPN does not match host names; the peer is checked by CA, EKU and name rules.
        checkServerIdentity: () => undefined,
      });
      this.attach(sock);
      sock.on('secureConnect', () => this.onSecure(sock));
      return;
    }
    // Server side: a tls.Server that never listens; the stream is injected as a connection,
    // which gives the server-side TLSSocket with its verification result (authorized).
    const server = tls.createServer({ ...context, requestCert: creds.clientCert !== 'none', rejectUnauthorized: false });
    this.serveTls(server);
  }

  private startPskTls(creds: PskCredentials): void {
    const { identity, key } = creds.psk;
    const common = { ciphers: PSK_CIPHERS, minVersion: 'TLSv1.2', maxVersion: 'TLSv1.2' } as const;
    if (this.role === 'client') {
      const sock = tls.connect({
        ...common, socket: this.stream, checkServerIdentity: () => undefined,
        pskCallback: () => ({ psk: key, identity }),
      });
      this.attach(sock);
      sock.on('secureConnect', () => this.onSecure(sock));
      return;
    }
    this.serveTls(tls.createServer({ ...common, pskCallback: (_s, id) => (id === identity ? key : null) }));
  }

  private serveTls(server: tls.Server): void {
    server.on('secureConnection', (sock: tls.TLSSocket) => {
      this.attach(sock);
      this.onSecure(sock);
    });
    server.on('tlsClientError', (err: Error) => this.fail(new ControlError('peer-verify',
      explainCertFailure((err as NodeJS.ErrnoException).code, this.tlsErrorText(err)) ?? `TLS handshake (key id ${this.keyId}) failed: ${this.tlsErrorText(err)}`, { cause: err })));
    server.emit('connection', this.stream);
  }

  private attach(sock: tls.TLSSocket): void {
    this.socket = sock;
    sock.on('data', (d: Buffer) => this.onPlaintext(d));
    sock.on('error', (err: Error) => this.fail(new ControlError('peer-verify',
      explainCertFailure((err as NodeJS.ErrnoException).code, this.tlsErrorText(err)) ?? `TLS (key id ${this.keyId}) failed: ${this.tlsErrorText(err)}`, { cause: err })));
  }

  /** OpenSSL's reason ("bad certificate") rather than its multi-field error string. */
  private tlsErrorText(err: Error): string {
    const reason = (err as Error & { reason?: unknown }).reason;
    const text = typeof reason === 'string' && reason ? reason : err.message.split('\n')[0]!;
    return 'psk' in this.opts.tls && /bad record mac|decrypt|psk/i.test(text) ? `${text} (different pre-shared key?)` : text;
  }

  private onSecure(sock: tls.TLSSocket): void {
    if (this.phase === 'failed' || this.phase === 'closed') return;
    const creds = this.opts.tls;
    if ('psk' in creds) {
      // The handshake itself proved the peer holds the pre-shared key.
      this.phase = 'key-method';
      if (this.role === 'client') this.sendOwnKeyMethod2();
      return;
    }
    if (this.role === 'server' && creds.clientCert && creds.clientCert !== 'require' && !sock.getPeerX509Certificate()) {
      // verify-client-cert none|optional and no certificate: the password decides (auth-user-pass-verify).
      this.phase = 'key-method';
      return;
    }
    if (!sock.authorized) {
      const code = sock.authorizationError === undefined ? undefined : String(sock.authorizationError);
      this.fail(new ControlError('peer-verify', explainCertFailure(code, code ?? '') ?? `peer certificate refused: ${code ?? 'no certificate'}`));
      return;
    }
    try {
      const cert = sock.getPeerX509Certificate();
      if (!cert) throw new Error('peer sent no certificate');
      creds.verifyPeer?.(cert);
    } catch (err) {
      const rule = err instanceof CertRuleError ? ` (${err.rule})` : '';
      this.fail(new ControlError('peer-verify', `peer certificate refused${rule}: ${(err as Error).message}`));
      return;
    }
    this.phase = 'key-method';
    if (this.role === 'client') this.sendOwnKeyMethod2();
  }

  private sendOwnKeyMethod2(): void {
    const km: KeyMethod2 = {
      random1: randomBytes(RANDOM_LEN), random2: randomBytes(RANDOM_LEN),
      options: this.opts.localOptions, username: '', password: '', peerInfo: this.opts.localPeerInfo,
    };
    if (this.role === 'client') km.preMaster = randomBytes(PRE_MASTER_LEN);
    // The password goes into the message only, never into localKm2 (kept for key derivation).
    let up: UserPass | undefined;
    try {
      up = this.role === 'client' ? this.opts.userPass?.() : undefined;
    } catch (err) {
      this.fail(err instanceof ControlError ? err : new ControlError('auth', (err as Error).message));
      return;
    }
    this.localKm2 = km;
    const message = encodeKeyMethod2(up ? { ...km, username: up.username, password: up.password } : km, this.role);
    up?.password.fill(0);
    // TLS encrypts the write at once; the plaintext copy is zeroed when it has been consumed.
    this.socket!.write(message, () => message.fill(0));
  }

  private onPlaintext(data: Buffer): void {
    if (this.phase === 'failed' || this.phase === 'closed') return;
    this.plain = this.plain.length ? Buffer.concat([this.plain, data]) : data;
    try {
      if (!this.peerKm2) {
        const { message, length } = decodeKeyMethod2(this.plain, this.role === 'client' ? 'server' : 'client');
        this.peerKm2 = message;
        this.plain = this.plain.subarray(length);
        if (this.role === 'server') this.sendOwnKeyMethod2();
        this.phase = 'active';
        this.opts.events.onKeyMethodDone(this);
      }
      for (let nul = this.plain.indexOf(0); nul >= 0 && this.phase === 'active'; nul = this.plain.indexOf(0)) {
        const text = this.plain.subarray(0, nul).toString('utf8');
        this.plain = this.plain.subarray(nul + 1);
        if (text.length > 0) this.opts.events.onControlMessage(this, text);
      }
      if (this.plain.length > MAX_CONTROL_MESSAGE) {
        throw new ControlError('protocol', `control message over ${MAX_CONTROL_MESSAGE} bytes without NUL`);
      }
    } catch (err) {
      this.fail(err instanceof ControlError ? err : new ControlError('protocol', (err as Error).message));
    }
  }

  /** Sends a control message (PUSH_REQUEST, PUSH_REPLY, EXIT, ...) over TLS. */
  sendControlMessage(message: string): void {
    if (this.phase !== 'active' || !this.socket) {
      throw new ControlError('protocol', `cannot send '${message.slice(0, 20)}' on key id ${this.keyId} in phase ${this.phase}`);
    }
    this.socket.write(Buffer.from(`${message}\0`, 'utf8'));
  }

  /** The 256-byte key block: TLS exporter when both sides agreed on tls-ekm, else the OpenVPN PRF. */
  keyBlock(useEkm: boolean): Buffer {
    if (!this.localKm2 || !this.peerKm2 || !this.socket) {
      throw new ControlError('protocol', `key id ${this.keyId}: key material requested before key-method-2 completed`);
    }
    if (useEkm) return exportWithoutContext(this.socket, KEY_BLOCK_LEN, EKM_LABEL);
    const [c, s] = this.role === 'client' ? [this.localKm2, this.peerKm2] : [this.peerKm2, this.localKm2];
    const localSid = this.opts.localSessionId;
    const remoteSid = this.channel.remoteSessionId!;
    return openvpnPrfKeyBlock({
      preMaster: c.preMaster!, clientRandom1: c.random1, serverRandom1: s.random1,
      clientRandom2: c.random2, serverRandom2: s.random2,
      clientSessionId: this.role === 'client' ? localSid : remoteSid,
      serverSessionId: this.role === 'client' ? remoteSid : localSid,
    });
  }

  /** TLS exporter output for another label (e.g. EXPORTER-OpenVPN-p2p-peerid). */
  export(length: number, label: string): Buffer {
    if (!this.socket) throw new ControlError('protocol', `key id ${this.keyId}: no TLS session to export from`);
    return exportWithoutContext(this.socket, length, label);
  }

  peerCertificate(): X509Certificate | undefined {
    return this.socket?.getPeerX509Certificate();
  }

  private fail(err: ControlError): void {
    if (this.phase === 'failed' || this.phase === 'closed') return;
    this.phase = 'failed';
    this.opts.events.onError(this, err);
  }

  close(): void {
    if (this.phase === 'closed') return;
    this.phase = 'closed';
    this.channel.close();
    this.socket?.destroy();
    this.stream.destroy();
  }
}
