/** The types a ControlSession is configured with and reports through (session.ts). */
import type { AuthRequest } from './auth-gate.js';
import type { DataCipher, DataKeys } from './ciphers.js';
import type { Clock } from './clock.js';
import type { ControlError } from './errors.js';
import type { TlsCredentials, UserPass } from './key-state.js';
import type { PushOptions } from './push.js';
import type { CipherAlg } from '../datapath/types.js';

export interface NewDataKey {
  keyId: number;
  cipher: DataCipher;
  alg: CipherAlg;
  keys: DataKeys;
  /** The session's first key (install as primary) or a rekey (install as secondary, then swap). */
  initial: boolean;
}

export type SessionEndReason =
  | { kind: 'exit'; message: string }
  | { kind: 'error'; error: ControlError }
  | { kind: 'closed' };

export interface SessionEvents {
  transmit(packet: Buffer): void;
  onDataKey(key: NewDataKey): void | Promise<void>;
  /** Rekey: the key with this id (installed as secondary) becomes primary: swap the slots. */
  onSwapKeys(keyId: number): void | Promise<void>;
  /** The key with this id left the lame-duck slot (secondary): delete it from the data path. */
  onRetireKey(keyId: number): void | Promise<void>;
  /** Client: the server's pushed options, once complete and applied. */
  onPushReply?(options: PushOptions): void;
  /** Server: options to push to this client (ifconfig, routes, peer-id...). */
  pushOptions?(): PushOptions;
  /**
   * Server with auth-user-pass-verify: checks the client's username and password, at the first
   * key and at every renegotiation (as OpenVPN). Rejects (AuthRefused, or any error) to refuse:
   * the client gets AUTH_FAILED. The key is not used before this resolves.
   */
  authenticate?(request: AuthRequest): Promise<void>;
  /** Client: the username and password (or token) to put in key-method 2; undefined: none. */
  userPass?(): UserPass | undefined;
  /** Client: the server pushed `auth-token` (and maybe `auth-token-user`), at first or on renegotiation. */
  onAuthToken?(token: string, user: string | undefined): void;
  /** The session ended; no packet will be sent after this. */
  onEnd(reason: SessionEndReason): void;
  log?(level: 'info' | 'debug' | 'warn', message: string): void;
}

export interface SessionOptions {
  role: 'client' | 'server';
  tls: TlsCredentials;
  /** Data ciphers in preference order. */
  ciphers?: DataCipher[];
  clock?: Clock;
  handshakeWindowMs?: number;
  transitionWindowMs?: number;
  /** Rekey after this many seconds (0: never); OpenVPN's reneg-sec. */
  renegSeconds?: number;
  /** Client: announce TLS keying-material export (default true). */
  keyExport?: boolean;
  /**
   * Peer-to-peer TLS mode (no push): both sides send peer info; the cipher is the first of
   * the TLS server's data-ciphers the client also lists, keys come from the TLS exporter and
   * the data-channel peer id from EXPORTER-OpenVPN-p2p-peerid.
   */
  p2p?: boolean;
  /** Bytes control-channel wrapping adds to each packet; control payloads shrink by as much. */
  wireOverhead?: number;
  /** The transport, for the options string (`proto TCPv4_CLIENT` / `TCPv4_SERVER` over TCP). */
  proto?: 'udp' | 'tcp';
  /** Server, after a verified cookie: our session id and the client's, sequences at 1. */
  resumed?: { localSessionId: Buffer; remoteSessionId: Buffer };
  events: SessionEvents;
}

export type SessionPhase = 'handshake' | 'established' | 'ended';

export interface SessionStats {
  dropped: { foreignSession: number; badAck: number; unknownKey: number };
  rekeys: number;
}
