/**
 * The kernel data path: the generic netlink family "ovpn" (this project's module or
 * mainline's driver) plus rtnetlink for the devices. DATA_V2 packets never reach Node:
 * the kernel takes them from the UDP socket whose fd was handed over as PEER_SOCKET;
 * everything else on that socket (the control channel) is read here.
 */
import { native, type NativeAddon, type Poller } from '../native.js';
import { FamilyNotFoundError, GenlSocket } from '../netlink/genl.js';
import { readEthtoolStats } from '../link/ethtool.js';
import { Rtnl } from '../link/rtnl.js';
import { ENUM } from '../ovpn/constants.js';
import { OvpnClient } from '../ovpn/client.js';
import type { PeerAttrs } from '../ovpn/codec.js';
import { decodeSockaddr, encodeSockaddr, SOCKADDR_LEN, unmapSockaddr } from '../util/sockaddr.js';
import { setSocketMark } from '../util/sockopt.js';
import { isDataV2 } from '../wire/constants.js';
import { KernelTcpConnection, KernelTcpListener } from './kernel-tcp.js';
import type {
  Datapath,
  Device,
  DeviceEvent,
  DeviceMode,
  DropCounters,
  DropReason,
  Endpoint,
  KeyConfig,
  KeyInfo,
  KeySlot,
  PeerConfig,
  PeerInfo,
  TcpListener,
  TcpTransport,
  TransportSocket,
} from './types.js';

/** Control packets read per readable event and their largest size. */
const CONTROL_BATCH = 8;
const CONTROL_MTU = 16 * 1024;

/** A UDP socket whose fd the kernel uses for the peers it is given to. */
export class KernelUdpSocket implements TransportSocket {
  readonly kind = 'udp' as const;
  readonly local: Endpoint;
  private readonly poller: Poller;
  private handler: ((packet: Buffer, from: Endpoint) => void) | undefined;
  private readonly rx = {
    bufs: Array.from({ length: CONTROL_BATCH }, () => Buffer.allocUnsafe(CONTROL_MTU)),
    lens: new Uint32Array(CONTROL_BATCH),
    addrs: Buffer.alloc(CONTROL_BATCH * SOCKADDR_LEN),
  };
  private readonly tx: { bufs: Buffer[]; lens: Uint32Array; addr: Buffer } = { bufs: [Buffer.alloc(0)], lens: new Uint32Array(1), addr: Buffer.alloc(SOCKADDR_LEN) };
  private closed = false;
  /** An IPv6 socket without IPV6_V6ONLY: IPv4 senders are reported as IPv4 (as the kernel keeps such peers). */
  private dualStack = false;

  private constructor(
    private readonly addon: NativeAddon,
    /** The fd passed as PEER_SOCKET. */
    readonly fd: number,
  ) {
    this.local = decodeSockaddr(addon.sockName(fd));
    this.poller = new addon.Poller(fd);
  }

  static open(local: { address: string; port: number; mark?: number; v6only?: boolean }, addon: NativeAddon = native()): KernelUdpSocket {
    const fd = addon.udpOpen(encodeSockaddr(local), local.v6only !== false);
    try {
      if (local.mark) setSocketMark(addon, fd, local.mark);
      const sock = new KernelUdpSocket(addon, fd);
      sock.dualStack = local.v6only === false && sock.local.address.includes(':');
      return sock;
    } catch (err) {
      addon.close(fd);
      throw err;
    }
  }

  onControlPacket(handler: (packet: Buffer, from: Endpoint) => void): void {
    if (this.closed) throw new Error(`UDP socket ${this.describe()} is closed`);
    this.handler = handler;
    this.poller.start(() => this.readControl());
  }

  private readControl(): void {
    const { bufs, lens, addrs } = this.rx;
    let failures = 0;
    for (;;) {
      let n: number;
      try {
        n = this.addon.udpRecvBatch(this.fd, bufs, lens, addrs);
      } catch {
        // A pending ICMP error is reported by one failed receive: read on (once).
        if (++failures > 1) return;
        continue;
      }
      for (let i = 0; i < n && !this.closed; i++) {
        const len = lens[i]!;
        // Truncated datagrams cannot be OpenVPN packets; DATA_V2 that arrives before the
        // socket is attached to a peer is the kernel's business, not the control channel's.
        if (len === 0 || len > CONTROL_MTU || isDataV2(bufs[i]!, 0, len)) continue;
        if (this.dualStack) unmapSockaddr(addrs, i * SOCKADDR_LEN);
        this.handler?.(Buffer.from(bufs[i]!.subarray(0, len)), decodeSockaddr(addrs, i * SOCKADDR_LEN));
      }
      if (n < CONTROL_BATCH || this.closed) return;
    }
  }

  /** Sends one packet; a full socket buffer drops it (UDP semantics), other errors throw. */
  send(packet: Buffer, to: Endpoint): void {
    if (this.closed) throw new Error(`send to ${to.address} port ${to.port}: UDP socket ${this.describe()} is closed`);
    this.tx.bufs[0] = packet;
    this.tx.lens[0] = packet.length;
    encodeSockaddr(to, this.tx.addr);
    try {
      this.addon.udpSendBatch(this.fd, this.tx.bufs, this.tx.lens, this.tx.addr, 1);
    } catch (err) {
      throw new Error(`send to ${to.address} port ${to.port} from UDP ${this.describe()}: ${(err as Error).message}`, {
        cause: err,
      });
    }
  }

  /** Closing the fd makes the kernel delete the peers on it (TRANSPORT_DISCONNECT). */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.poller.close();
    this.addon.close(this.fd);
  }

  private describe(): string {
    return `${this.local.address} port ${this.local.port}`;
  }
}

function socketFd(peer: PeerConfig, operation: string): number | undefined {
  if (peer.socket === undefined) return undefined;
  if (!(peer.socket instanceof KernelUdpSocket) && !(peer.socket instanceof KernelTcpConnection)) {
    throw new TypeError(`${operation} peer ${peer.id}: the socket must come from the kernel data path's openUdpSocket(), tcpConnect() or tcpListen()`);
  }
  return peer.socket.fd;
}

/**
 * The kernel has no compression framing. `stub-v2` frames an IP packet as it is (an IP packet
 * never starts with 0x50, and the kernel drops anything that is not IP), so it needs nothing;
 * the one-byte framings of `comp-lzo no` and `compress stub` cannot be carried.
 */
function toAttrs(peer: PeerConfig, operation: string): PeerAttrs {
  if (peer.compFraming !== undefined && peer.compFraming !== 'stub-v2') {
    throw new TypeError(`${operation} peer ${peer.id}: compression framing '${peer.compFraming}' needs the userspace data path (the kernel has none)`);
  }
  const { socket: _socket, compFraming: _framing, ...rest } = peer;
  // A TCP connection's remote is its peer address: the module takes it from the socket.
  if (peer.socket instanceof KernelTcpConnection) delete rest.remote;
  const fd = socketFd(peer, operation);
  return fd === undefined ? rest : { ...rest, socketFd: fd };
}

/** One kernel ovpn netdev. */
export class KernelDevice implements Device {
  /** TCP connections handed to the module, by peer id (detached again when the peer is deleted here). */
  private readonly tcpPeers = new Map<number, KernelTcpConnection>();

  constructor(
    private readonly ovpn: OvpnClient,
    readonly name: string,
    readonly ifindex: number,
    readonly mode: DeviceMode,
  ) {}

  async newPeer(peer: PeerConfig): Promise<void> {
    const attrs = toAttrs(peer, 'PEER_NEW');
    const conn = peer.socket instanceof KernelTcpConnection ? peer.socket : undefined;
    if (!conn) return this.ovpn.newPeer(this.ifindex, attrs);
    // the module's parser must start on a frame boundary (kernel-tcp.ts)
    await conn.prepareAttach();
    try {
      await this.ovpn.newPeer(this.ifindex, attrs);
    } catch (err) {
      conn.detach();
      throw err;
    }
    conn.attached();
    this.tcpPeers.set(peer.id, conn);
    conn.onClose(() => {
      if (this.tcpPeers.get(peer.id) === conn) this.tcpPeers.delete(peer.id);
    });
  }

  setPeer(peer: PeerConfig): Promise<void> {
    return this.ovpn.setPeer(this.ifindex, toAttrs(peer, 'PEER_SET'));
  }

  getPeer(id: number): Promise<PeerInfo> {
    return this.ovpn.getPeer(this.ifindex, id);
  }

  dumpPeers(): Promise<PeerInfo[]> {
    return this.ovpn.dumpPeers(this.ifindex);
  }

  async delPeer(id: number): Promise<void> {
    await this.ovpn.delPeer(this.ifindex, id);
    const conn = this.tcpPeers.get(id);
    this.tcpPeers.delete(id);
    conn?.detach(); // the module gave the socket back: a plain stream again
  }

  newKey(key: KeyConfig): Promise<void> {
    return this.ovpn.newKey(this.ifindex, key);
  }

  getKey(peerId: number, slot: KeySlot): Promise<KeyInfo> {
    return this.ovpn.getKey(this.ifindex, peerId, slot);
  }

  swapKeys(peerId: number): Promise<void> {
    return this.ovpn.swapKeys(this.ifindex, peerId);
  }

  delKey(peerId: number, slot: KeySlot): Promise<void> {
    return this.ovpn.delKey(this.ifindex, peerId, slot);
  }

  async drops(): Promise<DropCounters> {
    return dropsFromEthtool(readEthtoolStats(this.name));
  }
}

/**
 * The module's drop counters from its ethtool statistics: "drop_no_peer" is noPeer, and so
 * on (kmod/drop.c). Other statistics are not drop reasons; mainline's driver has none.
 */
export function dropsFromEthtool(stats: Map<string, bigint>): DropCounters {
  const out: DropCounters = {};
  for (const [name, value] of stats) {
    if (!name.startsWith('drop_')) continue;
    const reason = name.slice(5).replace(/_([a-z])/g, (_m, c: string) => c.toUpperCase()) as DropReason;
    out[reason] = Number(value);
  }
  return out;
}

export class KernelDatapath implements Datapath {
  readonly kind = 'kernel' as const;
  private readonly subscriptions = new Set<OvpnClient>();
  private closed = false;

  private constructor(
    private readonly ovpn: OvpnClient,
    private readonly rtnl: Rtnl,
  ) {}

  /** Resolves the "ovpn" family; rejects with FamilyNotFoundError when no driver is loaded. */
  static async open(): Promise<KernelDatapath> {
    const ovpn = await OvpnClient.open();
    try {
      return new KernelDatapath(ovpn, new Rtnl());
    } catch (err) {
      ovpn.close();
      throw err;
    }
  }

  async createDevice(name: string, mode: DeviceMode): Promise<Device> {
    const ifindex = await this.rtnl.createOvpnLink(name, mode === 'mp' ? ENUM.mode.MP : ENUM.mode.P2P);
    try {
      await this.rtnl.setUp(ifindex);
    } catch (err) {
      await this.rtnl.deleteLink(ifindex).catch(() => undefined);
      throw err;
    }
    return new KernelDevice(this.ovpn, name, ifindex, mode);
  }

  async openDevice(name: string): Promise<Device> {
    const link = await this.rtnl.getLink(name);
    if (link.kind !== 'ovpn') {
      throw new Error(`device ${name} is not an ovpn device (kind ${link.kind ?? 'none'})`);
    }
    return new KernelDevice(this.ovpn, link.name, link.index, link.ovpnMode === ENUM.mode.MP ? 'mp' : 'p2p');
  }

  async deleteDevice(name: string): Promise<void> {
    const link = await this.rtnl.getLink(name);
    if (link.kind !== 'ovpn') {
      throw new Error(`device ${name} is not an ovpn device (kind ${link.kind ?? 'none'}): not deleting it`);
    }
    await this.rtnl.deleteLink(link.index);
  }

  async openUdpSocket(local: { address: string; port: number; mark?: number; v6only?: boolean }): Promise<TransportSocket> {
    return KernelUdpSocket.open(local);
  }

  /** A connected TCP socket for PEER_NEW (kernel-tcp.ts); the module refuses TCP unless built with it. */
  async tcpConnect(remote: Endpoint, opts: { local?: { address: string; port?: number }; mark?: number; timeoutMs?: number } = {}): Promise<TcpTransport> {
    return KernelTcpConnection.connect(native(), remote, opts);
  }

  async tcpListen(local: { address: string; port: number; mark?: number; v6only?: boolean }): Promise<TcpListener> {
    return KernelTcpListener.open(native(), local);
  }

  /** Every notification of group "peers", from a socket of its own. */
  async subscribe(handler: (event: DeviceEvent) => void): Promise<() => void> {
    const client = await OvpnClient.open();
    client.subscribe(handler);
    this.subscriptions.add(client);
    return () => {
      if (this.subscriptions.delete(client)) client.close();
    };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const client of this.subscriptions) client.close();
    this.subscriptions.clear();
    this.ovpn.close();
    this.rtnl.close();
  }
}

/**
 * Whether the generic netlink family "ovpn" resolves (the module is loaded). The one kernel
 * probe, with its modprobe step, is select.ts's probeKernel.
 */
export async function ovpnFamilyResolves(): Promise<boolean> {
  let genl: GenlSocket | undefined;
  try {
    genl = new GenlSocket();
    await genl.family('ovpn');
    return true;
  } catch (err) {
    if (err instanceof FamilyNotFoundError) return false;
    throw err;
  } finally {
    genl?.close();
  }
}
