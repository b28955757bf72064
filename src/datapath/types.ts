/**
 * The one data-path interface. Two implementations:
 *  - kernel:    generic netlink family "ovpn" (this project's module or mainline's driver)
 *  - userspace: a TUN device plus UDP sockets served by an engine process in Node
 * Both put byte-identical DATA_V2 packets on the wire (docs/wire-format.md).
 *
 * Names mirror the ovpn netlink attributes so that one maps onto the other 1:1.
 */

import type { CompFraming } from '../wire/comp-framing.js';

export type DeviceMode = 'p2p' | 'mp';
export type CipherAlg = 'none' | 'aes-gcm' | 'chacha20-poly1305';
export type KeySlot = 'primary' | 'secondary';
export type DelReason =
  | 'teardown'
  | 'userspace'
  | 'expired'
  | 'transport-error'
  | 'transport-disconnect';

/** A transport endpoint. `address` is an IPv4 or IPv6 literal. */
export interface Endpoint {
  address: string;
  port: number;
  /** IPv6 scope (interface index) for link-local addresses. */
  scopeId?: number;
}

/**
 * A UDP socket that carries one or more peers. It is owned by the caller:
 * closing it deletes its peers (reason 'transport-disconnect'), as in mainline.
 * Packets that are not DATA_V2 (the OpenVPN control channel) are delivered to
 * `onControlPacket`, on both paths.
 */
export interface TransportSocket {
  readonly kind: 'udp';
  readonly local: Endpoint;
  onControlPacket(handler: (packet: Buffer, from: Endpoint) => void): void;
  send(packet: Buffer, to: Endpoint): void;
  close(): Promise<void>;
}

/** Why a TCP transport ended: the remote closed (FIN), reset it (RST), a socket error, or
 *  this side closed it (close(), the peer deleted, the device deleted). */
export type TcpCloseReason = 'eof' | 'reset' | 'error' | 'local';

/**
 * A connected (ESTABLISHED) TCP socket that carries exactly one peer: mainline's PEER_NEW
 * with the fd of a TCP socket. On the wire every packet is preceded by its length (2 bytes,
 * big endian); both paths frame and deframe, so `send` takes and `onControlPacket` gives
 * whole packets without the length. Before a peer uses the transport every packet is
 * delivered; once a peer does, DATA_V2 stays in the data path and everything else (the
 * control channel) is still delivered, in stream order. FIN, RST, an error or close():
 * the peer on it is deleted with reason 'transport-disconnect' and `onClose` runs once.
 * `send` queues at most a bounded amount; beyond it the packet is dropped and counted.
 */
export interface TcpTransport {
  readonly kind: 'tcp';
  readonly local: Endpoint;
  readonly remote: Endpoint;
  onControlPacket(handler: (packet: Buffer) => void): void;
  onClose(handler: (reason: TcpCloseReason, detail?: string) => void): void;
  send(packet: Buffer): void;
  close(): Promise<void>;
}

/** A listening TCP socket: every accepted connection is a TcpTransport of its own. */
export interface TcpListener {
  readonly local: Endpoint;
  onAccept(handler: (conn: TcpTransport) => void): void;
  close(): Promise<void>;
}

/** What a peer's packets travel on: a UDP socket (many peers) or a TCP connection (one). */
export type PeerTransport = TransportSocket | TcpTransport;

/** What a peer is, as configured (PeerConfig) and as reported back (PeerInfo). */
export interface PeerFields {
  /** Peer id, 0..0xFFFFFF: the id this side expects on received packets. */
  id: number;
  /** Id put on transmitted packets when the two sides use different ids (ASYMM). */
  txId?: number;
  remote?: Endpoint;
  local?: { address: string; port?: number };
  vpnIpv4?: string;
  vpnIpv6?: string;
  /** Seconds; 0 disables. */
  keepaliveInterval?: number;
  keepaliveTimeout?: number;
}

export interface PeerConfig extends PeerFields {
  /** Required on PEER_NEW. A TCP transport carries only this peer and sets its remote. */
  socket?: PeerTransport;
  /**
   * OpenVPN compression framing without compression (`comp-lzo no`, `compress stub|stub-v2`):
   * the userspace path adds and strips the header and drops compressed packets; the kernel
   * path has no framing and refuses it (docs/wire-format.md).
   */
  compFraming?: CompFraming;
}

export interface PeerCounters {
  vpnRxBytes: bigint;
  vpnTxBytes: bigint;
  vpnRxPackets: bigint;
  vpnTxPackets: bigint;
  linkRxBytes: bigint;
  linkTxBytes: bigint;
  linkRxPackets: bigint;
  linkTxPackets: bigint;
}

export interface PeerInfo extends PeerFields, PeerCounters {
  socketNetnsId?: number;
}

export interface KeyDirection {
  /** 16, 24 or 32 bytes (AES-GCM) or 32 bytes (ChaCha20-Poly1305). */
  cipherKey: Uint8Array;
  /** Exactly 8 bytes. */
  nonceTail: Uint8Array;
}

export interface KeyConfig {
  peerId: number;
  slot: KeySlot;
  /** 0..7 */
  keyId: number;
  cipher: CipherAlg;
  encrypt: KeyDirection;
  decrypt: KeyDirection;
}

export interface KeyInfo {
  peerId: number;
  slot: KeySlot;
  keyId: number;
  cipher: CipherAlg;
}

export type DeviceEvent =
  | { type: 'peer-deleted'; ifindex: number; peerId: number; reason: DelReason }
  | { type: 'key-swap-needed'; ifindex: number; peerId: number; keyId: number }
  | { type: 'peer-float'; ifindex: number; peerId: number; remote: Endpoint };

/**
 * Why a device dropped packets (docs/drop-counters.md). Both paths: noPeer, noKey, decrypt,
 * replay, malformed, exhausted, send. The userspace engine only: tunFull, compressed (compression
 * framing, which the module does not have). The kernel module
 * only: source, rxQueue, internal.
 */
export type DropReason =
  | 'noPeer'
  | 'noKey'
  | 'decrypt'
  | 'replay'
  | 'malformed'
  | 'exhausted'
  | 'tunFull'
  | 'compressed'
  | 'source'
  | 'rxQueue'
  | 'send'
  | 'internal';

/** Packets dropped since the device was created, by reason: every reason the path counts
 *  is present (0 included); none at all on a driver without per-reason counters (mainline). */
export type DropCounters = Partial<Record<DropReason, number>>;

/** One ovpn network device (kernel netdev, or TUN device served by the userspace engine). */
export interface Device {
  readonly name: string;
  readonly ifindex: number;
  readonly mode: DeviceMode;

  newPeer(peer: PeerConfig): Promise<void>;
  setPeer(peer: PeerConfig): Promise<void>;
  getPeer(id: number): Promise<PeerInfo>;
  dumpPeers(): Promise<PeerInfo[]>;
  delPeer(id: number): Promise<void>;

  newKey(key: KeyConfig): Promise<void>;
  getKey(peerId: number, slot: KeySlot): Promise<KeyInfo>;
  swapKeys(peerId: number): Promise<void>;
  delKey(peerId: number, slot: KeySlot): Promise<void>;

  /** Drop counters by reason (kernel: the module's ethtool statistics; userspace: the engine's). */
  drops(): Promise<DropCounters>;
}

export interface Datapath {
  readonly kind: 'kernel' | 'userspace';
  createDevice(name: string, mode: DeviceMode): Promise<Device>;
  openDevice(name: string): Promise<Device>;
  deleteDevice(name: string): Promise<void>;
  /** Bind a UDP socket for peers of this path (kernel: fd handed over on newPeer).
   *  `mark` (non-zero): SO_MARK on the socket, so its packets carry that firewall mark.
   *  `v6only` false (IPv6 address only): a dual-stack socket that also serves IPv4 peers. */
  openUdpSocket(local: { address: string; port: number; mark?: number; v6only?: boolean }): Promise<TransportSocket>;
  /** Connect a TCP socket to `remote` (kernel: the fd is handed over on newPeer). Rejects
   *  with a typed error naming the address when the connection is refused or times out. */
  tcpConnect(remote: Endpoint, opts?: { local?: { address: string; port?: number }; mark?: number; timeoutMs?: number }): Promise<TcpTransport>;
  /** Listen for TCP connections on `local` (`v6only` false on an IPv6 address: dual-stack). */
  tcpListen(local: { address: string; port: number; mark?: number; v6only?: boolean }): Promise<TcpListener>;
  /** Notifications of group "peers" for every device of this path. */
  subscribe(handler: (event: DeviceEvent) => void): Promise<() => void>;
  close(): Promise<void>;
}
