/**
 * One ovpn device served by the engine: a TUN device plus the peers reached through the
 * engine's UDP sockets. Control operations mirror the kernel's genl family (validation and
 * errors); the packet path is batched and allocation-free per packet.
 *
 *   TX: TUN read batch -> peer (P2P: the peer; MP: VPN destination address) -> encrypt
 *       with the primary key into the socket's send batch -> sendmmsg
 *   RX: recvmmsg (EngineSocket) -> peer by id -> key by key id -> decrypt + replay check
 *       into the TUN write batch -> float / keepalive / counters -> TUN write batch, TCP
 *       segments of one flow coalesced into one GSO packet (coalesce.ts) when the TUN
 *       device has a virtio_net_hdr
 */
import type { NativeAddon, Poller } from '../../native.js';
import type { DelReason, DeviceEvent, DeviceMode, DropCounters, KeyConfig, KeyInfo, KeySlot, PeerConfig, PeerInfo } from '../types.js';
import { decodeSockaddr, sockaddrEqual, unmapAddress } from '../../util/sockaddr.js';
import {
  DATA_V2_OVERHEAD,
  DataKey,
  DecryptError,
  KEEPALIVE_MAGIC,
  KeyConfigError,
  MAX_KEY_ID,
  MAX_PEER_ID,
  PEER_ID_UNDEF,
  isKeepalive,
} from '../../wire/index.js';
import { BATCH, PacketBatch } from './batch.js';
import { TcpCoalescer, VNET_HDR_LEN } from './coalesce.js';
import { checkVpnIpv4, checkVpnIpv6, ipv6Hash } from './addr.js';
import { DatapathError, einval } from './errors.js';
import { Peer } from './peer.js';
import type { EngineSocket } from './socket.js';
import type { RouteResolver } from './routes.js';
import { isIP } from 'node:net';

/** What a device needs from the engine that serves it. */
export interface DeviceHost {
  readonly addon: NativeAddon;
  /** Route lookups for MP devices (created on first use). */
  routes(): RouteResolver;
  emit(event: DeviceEvent): void;
  /** See EngineOptions. */
  readonly firstTxPacketId?: number | undefined;
}

/** Peer configuration as it reaches the engine: the socket already resolved. */
export type PeerSpec = Omit<PeerConfig, 'socket'>;

/** TUN read rounds per readable event. */
const TX_ROUNDS = 4;
/** Packets held per destination while its route is being looked up, and in all. */
const PENDING_PER_DST = 8;
const PENDING_TOTAL = 256;
/** Cached next hops per device; past this the cache starts over (bounded memory). */
const MAX_NEXT_HOPS = 65536;
/** Invalid 1-byte packet: writing it to the TUN device counts one rx_dropped there. */
const DROP_MARK = Buffer.from([0]);
/**
 * rx_dropped marks written per second at most (and in one burst): each is a syscall, so under
 * a flood of bad packets the rest are carried over and written as the flood allows. The
 * engine's drop counters (by reason) are exact at once; rx_dropped catches up.
 */
const DROP_MARKS_PER_S = 1000;
const DROP_MARKS_BURST = 64;

interface NextHopEntry {
  addr: Buffer;
  peer: Peer | null;
}

function checkId(v: unknown, attr: string): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > MAX_PEER_ID) {
    throw new DatapathError('ERANGE', `${attr}: ${String(v)} is out of range 0..${MAX_PEER_ID}`);
  }
  return v;
}

function checkSeconds(v: unknown, attr: string): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > 0xffffffff) {
    throw einval(`${attr}: ${String(v)} is not a number of seconds (u32)`);
  }
  return v;
}

export class EngineDevice {
  readonly peers = new Map<number, Peer>();
  /** Packets dropped, by cause (exposed for diagnostics and tests). */
  readonly drops = { noPeer: 0, noKey: 0, decrypt: 0, replay: 0, malformed: 0, exhausted: 0, tunFull: 0 } satisfies DropCounters;
  private p2p: Peer | undefined;
  private readonly byVpn4 = new Map<number, Peer>();
  private readonly byVpn6 = new Map<number, Peer[]>();
  private readonly tunIn = new PacketBatch();
  private readonly tunOut = new PacketBatch();
  private readonly dirty: EngineSocket[] = [];
  private readonly poller: Poller;
  private closed = false;
  /** Next-hop peer per routed destination (null: no peer), valid until routes or peers change. */
  private readonly hop4 = new Map<number, Peer | null>();
  private readonly hop6 = new Map<number, NextHopEntry[]>();
  private hopGeneration = 0;
  private hopCount = 0;
  private readonly pending = new Map<string, Buffer[]>();
  private pendingCount = 0;
  private stopRouteWatch: (() => void) | undefined;
  /** Receive drops not yet reported on the TUN device's rx_dropped. */
  private rxDropsToReport = 0;
  /** Marks that may be written now (refilled at DROP_MARKS_PER_S), and when it was refilled. */
  private dropMarkTokens = DROP_MARKS_BURST;
  private dropMarkRefill = performance.now();
  private readonly coalescer: TcpCoalescer | undefined;

  constructor(
    private readonly host: DeviceHost,
    readonly name: string,
    readonly ifindex: number,
    readonly mode: DeviceMode,
    private readonly fd: number,
    /** The TUN fd was opened with IFF_VNET_HDR: received TCP segments are coalesced. */
    private readonly vnet = false,
  ) {
    this.coalescer = vnet ? new TcpCoalescer(BATCH) : undefined;
    this.poller = new host.addon.Poller(fd);
    this.poller.start(this.onTunReadable);
    if (mode === 'mp') this.stopRouteWatch = host.routes().onChange(() => this.forgetNextHops());
    // as an ovpn P2P device: no carrier until there is a peer
    if (mode === 'p2p') this.setCarrier(false);
  }

  /** TUNSETCARRIER where the kernel has it (5.0+); without it the TUN keeps its carrier. */
  private setCarrier(on: boolean): void {
    try {
      this.host.addon.tunSetCarrier(this.fd, on);
    } catch {
      // old kernel or addon: the carrier stays up (LOWER_UP), as before
    }
  }

  // ------------------------------------------------------------------ control operations

  private peer(id: number): Peer {
    const p = this.peers.get(id);
    if (!p) throw new DatapathError('ENOENT', `no peer with id ${id} on ${this.name}`);
    return p;
  }

  newPeer(spec: PeerSpec, socket: EngineSocket | undefined, nowMs: number): void {
    const id = checkId(spec.id, 'PEER.ID');
    if (spec.txId !== undefined) checkId(spec.txId, 'PEER.TX_ID');
    if (!socket) throw einval('PEER.SOCKET: a socket is required for a new peer');
    if (socket.closed) throw einval('PEER.SOCKET: the socket is closed');
    if (socket.device !== undefined && socket.device !== this) {
      throw new DatapathError('EBUSY', `PEER.SOCKET: the socket is already used by device ${socket.device.name}`);
    }
    if (this.mode === 'mp') {
      if (spec.vpnIpv4 === undefined && spec.vpnIpv6 === undefined) {
        throw einval('PEER.VPN_IPV4/VPN_IPV6: a peer of an MP device needs a VPN address');
      }
      if (this.peers.has(id)) throw new DatapathError('EEXIST', `PEER.ID: peer ${id} already exists on ${this.name}`);
    }
    const peer = new Peer(id, socket, nowMs);
    this.applySpec(peer, spec, true);
    if (this.mode === 'p2p' && this.p2p) this.delPeer(this.p2p.id, 'teardown');
    socket.device = this;
    socket.peers.add(id);
    this.peers.set(id, peer);
    if (this.mode === 'p2p') {
      this.p2p = peer;
      this.setCarrier(true);
    }
    this.index(peer);
    this.forgetNextHops();
  }

  setPeer(spec: PeerSpec): void {
    const peer = this.peer(checkId(spec.id, 'PEER.ID'));
    if (spec.txId !== undefined) checkId(spec.txId, 'PEER.TX_ID');
    this.unindex(peer);
    try {
      this.applySpec(peer, spec, false);
    } finally {
      this.index(peer);
      this.forgetNextHops();
    }
  }

  /** Validates everything first, then changes `peer` (no half-applied requests). */
  private applySpec(peer: Peer, spec: PeerSpec, isNew: boolean): void {
    // As the kernel: a v4-mapped address (::ffff:a.b.c.d) is the IPv4 address.
    const remote = spec.remote && { ...spec.remote, address: unmapAddress(spec.remote.address) };
    if (remote) {
      const fam = isIP(remote.address);
      if (fam === 0) throw einval(`PEER.REMOTE_IPV4/REMOTE_IPV6: '${remote.address}' is not an IP address`);
      if (!Number.isInteger(remote.port) || remote.port < 1 || remote.port > 0xffff) {
        throw einval(`PEER.REMOTE_PORT: ${remote.port} is not a port (1..65535)`);
      }
      if (remote.scopeId !== undefined && fam !== 6) throw einval('PEER.REMOTE_IPV6_SCOPE_ID: only with an IPv6 remote');
      const sockFam = isIP(peer.socket.local.address);
      if (fam === 4 && sockFam === 6 && !peer.socket.dualStack) {
        throw new DatapathError(
          'EAFNOSUPPORT',
          `PEER.REMOTE_IPV4: an IPv4 remote needs an IPv4 or dual-stack IPv6 SOCKET (${remote.address} through the IPv6-only socket ${peer.socket.local.address}:${peer.socket.local.port})`,
        );
      }
      if (fam === 6 && sockFam === 4) {
        throw new DatapathError(
          'EAFNOSUPPORT',
          `PEER.REMOTE_IPV6: REMOTE_IPV6 needs an IPv6 SOCKET (${remote.address} through the IPv4 socket ${peer.socket.local.address}:${peer.socket.local.port})`,
        );
      }
    }
    const local = spec.local && { ...spec.local, address: unmapAddress(spec.local.address) };
    if (local) {
      const lf = isIP(local.address);
      if (lf === 0) throw einval(`PEER.LOCAL_IPV4/LOCAL_IPV6: '${local.address}' is not an IP address`);
      // LOCAL_IPV4 goes with REMOTE_IPV4 and LOCAL_IPV6 with REMOTE_IPV6 (as written)
      if (spec.remote && isIP(spec.local!.address) !== isIP(spec.remote.address)) {
        throw einval(`PEER.LOCAL_IPV${isIP(spec.local!.address)}: local and remote addresses are of different families`);
      }
      const rf = isIP((remote ?? peer.remote)?.address ?? '');
      if (rf === 0) throw einval(`PEER.LOCAL_IPV${lf}: a local address needs a remote address`);
      if (rf !== lf) throw einval(`PEER.LOCAL_IPV${lf}: local and remote addresses are of different families`);
      if (local.port !== undefined && (!Number.isInteger(local.port) || local.port < 1 || local.port > 0xffff)) {
        throw einval(`PEER.LOCAL_PORT: ${local.port} is not a port (1..65535)`);
      }
    }
    if (this.mode === 'p2p' && (spec.vpnIpv4 !== undefined || spec.vpnIpv6 !== undefined)) {
      // as mainline: only an MP device selects peers by VPN address
      throw einval(`PEER.VPN_IPV${spec.vpnIpv4 !== undefined ? 4 : 6}: unexpected VPN IP in P2P mode`);
    }
    const v4 = spec.vpnIpv4 !== undefined ? checkVpnIpv4(spec.vpnIpv4, 'PEER.VPN_IPV4') : undefined;
    const v6 = spec.vpnIpv6 !== undefined ? checkVpnIpv6(spec.vpnIpv6, 'PEER.VPN_IPV6') : undefined;
    if (this.mode === 'mp') {
      // as the module: PEER_SET answers as mainline (EADDRINUSE), PEER_NEW keeps EEXIST
      const inUse = isNew ? 'EEXIST' : 'EADDRINUSE';
      if (v4 !== undefined) {
        const other = this.byVpn4.get(v4);
        if (other && other !== peer) {
          throw new DatapathError(inUse, `PEER.VPN_IPV4: ${spec.vpnIpv4} is already used by peer ${other.id}`);
        }
      }
      if (v6 !== undefined) {
        const other = this.peerByVpn6(v6, 0);
        if (other && other !== peer) {
          throw new DatapathError(inUse, `PEER.VPN_IPV6: ${spec.vpnIpv6} is already used by peer ${other.id}`);
        }
      }
    }
    const kaI = spec.keepaliveInterval;
    const kaT = spec.keepaliveTimeout;
    if ((kaI === undefined) !== (kaT === undefined)) {
      throw einval('PEER.KEEPALIVE_INTERVAL/KEEPALIVE_TIMEOUT: both are required together');
    }
    if (kaI !== undefined) checkSeconds(kaI, 'PEER.KEEPALIVE_INTERVAL');
    if (kaT !== undefined) checkSeconds(kaT, 'PEER.KEEPALIVE_TIMEOUT');

    // -- apply
    if (spec.txId !== undefined) peer.txId = spec.txId;
    else if (isNew) peer.txId = peer.id;
    if (remote) peer.setRemote({ ...remote });
    if (local) peer.local = { ...local };
    if (v4 !== undefined) {
      peer.vpn4 = v4;
      peer.vpnIpv4 = spec.vpnIpv4;
    }
    if (v6 !== undefined) {
      peer.vpn6 = v6;
      peer.vpnIpv6 = spec.vpnIpv6;
    }
    if (kaI !== undefined && kaT !== undefined) {
      // (re)arming keepalive starts both timers afresh, as the kernel does
      const now = performance.now();
      peer.keepaliveInterval = kaI;
      peer.keepaliveTimeout = kaT;
      peer.lastRxMs = now;
      peer.lastTxMs = now;
    }
  }

  private index(peer: Peer): void {
    if (this.mode !== 'mp') return;
    if (peer.vpn4 !== 0) this.byVpn4.set(peer.vpn4, peer);
    if (peer.vpn6) {
      const h = ipv6Hash(peer.vpn6, 0);
      const list = this.byVpn6.get(h);
      if (list) list.push(peer);
      else this.byVpn6.set(h, [peer]);
    }
  }

  private unindex(peer: Peer): void {
    if (peer.vpn4 !== 0 && this.byVpn4.get(peer.vpn4) === peer) this.byVpn4.delete(peer.vpn4);
    if (peer.vpn6) {
      const h = ipv6Hash(peer.vpn6, 0);
      const list = this.byVpn6.get(h);
      if (list) {
        const rest = list.filter((p) => p !== peer);
        if (rest.length) this.byVpn6.set(h, rest);
        else this.byVpn6.delete(h);
      }
    }
  }

  private peerByVpn6(buf: Buffer, off: number): Peer | undefined {
    const list = this.byVpn6.get(ipv6Hash(buf, off));
    if (list === undefined) return undefined;
    for (let i = 0; i < list.length; i++) {
      const p = list[i]!;
      if (p.vpn6!.compare(buf, off, off + 16) === 0) return p;
    }
    return undefined;
  }

  getPeer(id: number): PeerInfo {
    return this.peer(checkId(id, 'PEER.ID')).info();
  }

  dumpPeers(): PeerInfo[] {
    return [...this.peers.values()].map((p) => p.info());
  }

  delPeer(id: number, reason: DelReason): void {
    const peer = this.peer(checkId(id, 'PEER.ID'));
    peer.deleted = true;
    this.peers.delete(peer.id);
    this.unindex(peer);
    if (this.p2p === peer) {
      this.p2p = undefined;
      if (!this.closed) this.setCarrier(false);
    }
    peer.socket.peers.delete(peer.id);
    if (peer.socket.peers.size === 0 && peer.socket.device === this) peer.socket.device = undefined;
    peer.primary = undefined;
    peer.secondary = undefined;
    this.forgetNextHops();
    this.host.emit({ type: 'peer-deleted', ifindex: this.ifindex, peerId: peer.id, reason });
  }

  newKey(cfg: KeyConfig): void {
    const peer = this.peer(checkId(cfg.peerId, 'KEYCONF.PEER_ID'));
    if (cfg.slot !== 'primary' && cfg.slot !== 'secondary') throw einval(`KEYCONF.SLOT: '${String(cfg.slot)}' is not primary or secondary`);
    if (!Number.isInteger(cfg.keyId) || cfg.keyId < 0 || cfg.keyId > MAX_KEY_ID) {
      throw new DatapathError('ERANGE', `KEYCONF.KEY_ID: ${cfg.keyId} is out of range 0..${MAX_KEY_ID}`);
    }
    if (cfg.cipher === 'none') throw new DatapathError('EOPNOTSUPP', 'KEYCONF.CIPHER_ALG: cipher none is not supported');
    if (cfg.cipher !== 'aes-gcm' && cfg.cipher !== 'chacha20-poly1305') {
      throw einval(`KEYCONF.CIPHER_ALG: unknown cipher '${String(cfg.cipher)}'`);
    }
    let key: DataKey;
    try {
      key = new DataKey({
        keyId: cfg.keyId,
        cipher: cfg.cipher,
        encrypt: cfg.encrypt,
        decrypt: cfg.decrypt,
        firstTxPacketId: this.host.firstTxPacketId,
      });
    } catch (err) {
      if (err instanceof KeyConfigError) throw einval(`KEYCONF: ${err.message}`);
      throw err;
    }
    const state = { key, cipher: cfg.cipher, exhaustNotified: false };
    if (cfg.slot === 'primary') peer.primary = state;
    else peer.secondary = state;
  }

  getKey(peerId: number, slot: KeySlot): KeyInfo {
    const info = this.peer(checkId(peerId, 'KEYCONF.PEER_ID')).keyInfo(slot);
    if (!info) throw new DatapathError('ENOENT', `no ${slot} key for peer ${peerId} on ${this.name}`);
    return info;
  }

  swapKeys(peerId: number): void {
    const peer = this.peer(checkId(peerId, 'KEYCONF.PEER_ID'));
    const p = peer.primary;
    peer.primary = peer.secondary;
    peer.secondary = p;
  }

  delKey(peerId: number, slot: KeySlot): void {
    const peer = this.peer(checkId(peerId, 'KEYCONF.PEER_ID'));
    if (slot === 'primary') peer.primary = undefined;
    else if (slot === 'secondary') peer.secondary = undefined;
    else throw einval(`KEYCONF.SLOT: '${String(slot)}' is not primary or secondary`);
  }

  /** Deletes the peers of a socket its owner closed. */
  socketClosed(socket: EngineSocket): void {
    for (const id of [...socket.peers]) {
      if (this.peers.get(id)?.socket === socket) this.delPeer(id, 'transport-disconnect');
    }
  }

  /** Keepalive and expiry, called about once a second. */
  tick(nowMs: number): void {
    for (const peer of [...this.peers.values()]) {
      if (peer.keepaliveTimeout > 0 && nowMs - peer.lastRxMs >= peer.keepaliveTimeout * 1000) {
        this.delPeer(peer.id, 'expired');
        continue;
      }
      if (peer.keepaliveInterval > 0 && nowMs - peer.lastTxMs >= peer.keepaliveInterval * 1000) {
        this.transmit(peer, KEEPALIVE_MAGIC, KEEPALIVE_MAGIC.length, nowMs, true);
      }
    }
    this.flushSockets();
    if (this.rxDropsToReport > 0) this.reportRxDrops();
  }

  close(): void {
    if (this.closed) return;
    for (const id of [...this.peers.keys()]) this.delPeer(id, 'teardown');
    this.closed = true;
    this.stopRouteWatch?.();
    this.pending.clear();
    this.poller.close();
    this.host.addon.close(this.fd);
  }

  // ------------------------------------------------------------------ packet path

  private readonly onTunReadable = (): void => {
    const batch = this.tunIn;
    for (let round = 0; round < TX_ROUNDS && !this.closed; round++) {
      batch.resetCapacity();
      let n: number;
      try {
        n = this.host.addon.tunReadBatch(this.fd, batch.bufs, batch.lens, this.vnet);
      } catch {
        break;
      }
      if (n === 0) break;
      const now = performance.now();
      for (let i = 0; i < n; i++) {
        const buf = batch.bufs[i]!;
        const len = batch.lens[i]!;
        const peer = this.route(buf, len);
        if (peer === undefined) {
          if (this.mode !== 'mp' || !this.resolveLater(buf, len)) this.drops.noPeer++;
          continue;
        }
        if (peer === null) {
          this.drops.noPeer++;
          continue;
        }
        this.transmit(peer, buf, len, now, false);
      }
      this.flushSockets();
      if (n < BATCH) break;
    }
  };

  /**
   * The peer an IP packet from the TUN device goes to: P2P the peer; MP the peer whose VPN
   * address is the destination, else the cached next hop of the destination's route.
   * null: known to have no peer; undefined: not known yet (route lookup needed).
   */
  private route(buf: Buffer, len: number): Peer | null | undefined {
    if (this.mode === 'p2p') return this.p2p ?? null;
    if (len < 20) return null;
    const version = buf[0]! >>> 4;
    if (version === 4) {
      const dst = buf.readUInt32BE(16);
      return this.byVpn4.get(dst) ?? this.hop4.get(dst);
    }
    if (version === 6 && len >= 40) {
      const p = this.peerByVpn6(buf, 24);
      if (p !== undefined) return p;
      const list = this.hop6.get(ipv6Hash(buf, 24));
      if (list !== undefined) {
        for (let i = 0; i < list.length; i++) {
          if (list[i]!.addr.compare(buf, 24, 40) === 0) return list[i]!.peer;
        }
      }
      return undefined;
    }
    return null;
  }

  private forgetNextHops(): void {
    this.hop4.clear();
    this.hop6.clear();
    this.hopCount = 0;
    this.hopGeneration++;
  }

  /** Holds a packet whose destination's route is unknown and looks the route up. */
  private resolveLater(buf: Buffer, len: number): boolean {
    const v6 = buf[0]! >>> 4 === 6;
    const dst = Buffer.from(buf.subarray(v6 ? 24 : 16, v6 ? 40 : 20));
    const key = dst.toString('hex');
    const held = this.pending.get(key);
    if (held !== undefined) {
      if (held.length >= PENDING_PER_DST || this.pendingCount >= PENDING_TOTAL) return false;
      held.push(Buffer.from(buf.subarray(0, len)));
      this.pendingCount++;
      return true;
    }
    if (this.pendingCount >= PENDING_TOTAL) return false;
    this.pending.set(key, [Buffer.from(buf.subarray(0, len))]);
    this.pendingCount++;
    const generation = this.hopGeneration;
    void this.host
      .routes()
      .lookup(dst)
      .then((hop) => {
        const packets = this.pending.get(key) ?? [];
        this.pending.delete(key);
        this.pendingCount -= packets.length;
        if (this.closed) return;
        let peer: Peer | null = null;
        if (hop !== undefined && hop.oif === this.ifindex && hop.gateway !== undefined) {
          peer = (hop.gateway.length === 4 ? this.byVpn4.get(hop.gateway.readUInt32BE(0)) : this.peerByVpn6(hop.gateway, 0)) ?? null;
        }
        if (generation === this.hopGeneration) {
          if (this.hopCount >= MAX_NEXT_HOPS) this.forgetNextHops();
          this.hopCount++;
          if (v6) {
            const h = ipv6Hash(dst, 0);
            const list = this.hop6.get(h);
            if (list) list.push({ addr: dst, peer });
            else this.hop6.set(h, [{ addr: dst, peer }]);
          } else {
            this.hop4.set(dst.readUInt32BE(0), peer);
          }
        }
        const now = performance.now();
        for (const p of packets) {
          if (peer === null || peer.deleted) this.drops.noPeer++;
          else this.transmit(peer, p, p.length, now, false);
        }
        this.flushSockets();
      });
    return true;
  }

  /** Encrypts one packet for `peer` into its socket's send batch. */
  private transmit(peer: Peer, buf: Buffer, len: number, now: number, keepalive: boolean): void {
    const ks = peer.primary;
    if (ks === undefined || peer.remote === undefined) {
      this.drops.noKey++;
      return;
    }
    const sock = peer.socket;
    const off = sock.reserve(peer, len + DATA_V2_OVERHEAD);
    const n = ks.key.encrypt(peer.txId, buf, 0, len, sock.tx.bufs[sock.txSlotIndex]!, off);
    if (n === 0) {
      this.drops.exhausted++;
      if (!ks.exhaustNotified) {
        ks.exhaustNotified = true;
        this.host.emit({ type: 'key-swap-needed', ifindex: this.ifindex, peerId: peer.id, keyId: ks.key.keyId });
      }
      return;
    }
    sock.commit(peer, n);
    if (!sock.dirty) {
      sock.dirty = true;
      this.dirty.push(sock);
    }
    peer.lastTxMs = now;
    if (!keepalive) {
      peer.vpnTxPackets++;
      peer.vpnTxBytes += len;
    }
    peer.linkTxPackets++;
    peer.linkTxBytes += n;
  }

  private flushSockets(): void {
    const d = this.dirty;
    for (let i = 0; i < d.length; i++) d[i]!.flush();
    d.length = 0;
  }

  /** One DATA_V2 packet buf[off, off+len) from `sock`; the sender's address is at addrs[addrOff..]. */
  receive(buf: Buffer, off: number, len: number, addrs: Buffer, addrOff: number, sock: EngineSocket, now: number): void {
    const id = (buf[off + 1]! << 16) | (buf[off + 2]! << 8) | buf[off + 3]!;
    let peer: Peer | undefined;
    if (this.mode === 'p2p') {
      peer = this.p2p;
      if (peer !== undefined && id !== peer.id && id !== PEER_ID_UNDEF) peer = undefined;
    } else if (id !== PEER_ID_UNDEF) {
      peer = this.peers.get(id);
    } else {
      for (const p of this.peers.values()) {
        if (p.remote !== undefined && sockaddrEqual(p.remoteRec, 0, addrs, addrOff)) {
          peer = p;
          break;
        }
      }
    }
    if (peer === undefined || peer.socket !== sock) {
      this.drops.noPeer++;
      this.rxDropsToReport++;
      return;
    }
    const key = peer.keyForRx(buf[off]! & 7);
    if (key === undefined) {
      this.drops.noKey++;
      this.rxDropsToReport++;
      return;
    }
    const out = this.tunOut;
    if (out.count === BATCH) this.flushTun();
    const k = out.count;
    const dst = out.bufs[k]!;
    const r = key.decrypt(buf, off, len, dst, 0, now);
    if (r < 0) {
      if (r === DecryptError.Replay) this.drops.replay++;
      else this.drops.decrypt++;
      this.rxDropsToReport++;
      return;
    }
    // Authenticated and not a replay: the packet is the peer's.
    peer.lastRxMs = now;
    peer.linkRxPackets++;
    peer.linkRxBytes += len;
    if (peer.remote === undefined || !sockaddrEqual(peer.remoteRec, 0, addrs, addrOff)) this.float(peer, addrs, addrOff);
    if (isKeepalive(dst, 0, r)) return;
    const v = r > 0 ? dst[0]! >>> 4 : 0;
    if ((v !== 4 || r < 20) && (v !== 6 || r < 40)) {
      this.drops.malformed++;
      this.rxDropsToReport++;
      return;
    }
    peer.vpnRxPackets++;
    peer.vpnRxBytes += r;
    const co = this.coalescer;
    if (co !== undefined && co.merge(out.bufs, out.lens, dst, r)) return;
    out.lens[k] = r;
    out.count = k + 1;
    if (co !== undefined) co.start(k, dst, r);
  }

  /** A received DATA_V2 packet too short for its header and tag. */
  dropMalformed(): void {
    this.drops.malformed++;
    this.rxDropsToReport++;
  }

  private float(peer: Peer, addrs: Buffer, addrOff: number): void {
    const remote = decodeSockaddr(addrs, addrOff);
    peer.setRemote(remote);
    this.host.emit({ type: 'peer-float', ifindex: this.ifindex, peerId: peer.id, remote: { ...remote } });
  }

  /** Writes the decrypted batch to the TUN device; what the device does not take is dropped. */
  flushTun(): void {
    if (this.rxDropsToReport > 0) this.reportRxDrops();
    const out = this.tunOut;
    const count = out.count;
    out.count = 0;
    if (count === 0 || this.closed) return;
    const co = this.coalescer;
    if (co !== undefined) co.finalize(out.bufs, out.lens, count);
    const hdrs = co?.hdrs;
    let done = 0;
    while (done < count) {
      let n: number;
      try {
        n =
          done === 0
            ? this.host.addon.tunWriteBatch(this.fd, out.bufs, out.lens, count, hdrs)
            : this.host.addon.tunWriteBatch(this.fd, out.bufs.slice(done), out.lens.subarray(done), count - done, hdrs?.subarray(done * VNET_HDR_LEN));
      } catch {
        // the packet at the head failed (e.g. the device is down): drop it, write the rest
        this.drops.tunFull++;
        done++;
        continue;
      }
      if (n === 0) break;
      done += n;
    }
    if (done < count) this.drops.tunFull += count - done;
  }

  /**
   * Makes receive drops visible where the kernel path shows them, in the device's
   * rx_dropped counter: the TUN driver counts every packet it refuses, and a 1-byte
   * packet is always refused. Rate-limited (DROP_MARKS_PER_S); the rest waits.
   */
  private reportRxDrops(): void {
    if (this.closed) return;
    const now = performance.now();
    this.dropMarkTokens = Math.min(DROP_MARKS_BURST, this.dropMarkTokens + ((now - this.dropMarkRefill) * DROP_MARKS_PER_S) / 1000);
    this.dropMarkRefill = now;
    const n = Math.min(this.rxDropsToReport, Math.floor(this.dropMarkTokens));
    this.rxDropsToReport -= n;
    this.dropMarkTokens -= n;
    for (let i = 0; i < n; i++) {
      try {
        this.host.addon.tunWriteBatch(this.fd, DROP_BATCH, DROP_LENS, 1, this.vnet ? DROP_HDR : undefined);
      } catch {
        // refused, as intended
      }
    }
  }
}

const DROP_BATCH = [DROP_MARK];
const DROP_LENS = new Uint32Array([1]);
const DROP_HDR = Buffer.alloc(VNET_HDR_LEN);
