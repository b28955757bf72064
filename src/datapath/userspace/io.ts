/**
 * The packet path of an engine device (as mainline ovpn's io.c): batched TUN reads, peer
 * selection and encryption into the sockets' send batches (TX); decryption of received
 * DATA_V2 packets into the TUN write batch (RX). Allocation-free per packet.
 *
 *   TX: TUN read batch -> peer (P2P: the peer; MP: VPN destination address, else the next
 *       hop of its route) -> encrypt with the primary key into the socket's send batch ->
 *       sendmmsg
 *   RX: recvmmsg (EngineSocket) or a TCP stream (EngineTcp) -> peer by id -> key by key id -> decrypt + replay check
 *       into the TUN write batch -> float / keepalive / counters -> TUN write batch, TCP
 *       segments of one flow coalesced into one GSO packet (coalesce.ts) when the TUN
 *       device has a virtio_net_hdr
 *
 * EngineDevice (device.ts) adds the control operations on top.
 */
import type { NativeAddon, Poller } from '../../native.js';
import { decodeSockaddr, sockaddrEqual } from '../../util/sockaddr.js';
import { DATA_V2_OVERHEAD, DecryptError, PAYLOAD_OFFSET, PEER_ID_UNDEF, isKeepalive } from '../../wire/index.js';
import type { DeviceEvent, DeviceMode } from '../types.js';
import { COMP_FRAMING_OVERHEAD, UnframeError, frame, unframe } from '../../wire/comp-framing.js';
import { BATCH, PacketBatch } from './batch.js';
import { TcpCoalescer, VNET_HDR_LEN } from './coalesce.js';
import { NextHops, type DeviceRoutes } from './next-hop.js';
import type { Peer } from './peer.js';
import type { EngineTransport } from './transport.js';
import { VpnIndex } from './vpn-index.js';

/** What a device needs from the engine that serves it. */
export interface DeviceHost {
  readonly addon: NativeAddon;
  /** Route lookups and route changes for MP devices (through src/link). */
  routes(): DeviceRoutes;
  emit(event: DeviceEvent): void;
  /** See EngineOptions. */
  readonly firstTxPacketId?: number | undefined;
}

/** Packets dropped, by cause. */
export interface DropCounters {
  noPeer: number;
  noKey: number;
  decrypt: number;
  replay: number;
  malformed: number;
  exhausted: number;
  tunFull: number;
  /** Authenticated packets that carried compressed data (compression framing: never decompressed). */
  compressed: number;
  /** TCP: packets the connection's bounded send queue refused (or too large to frame). */
  send: number;
}

/** TUN read rounds per readable event. */
const TX_ROUNDS = 4;
/** Invalid 1-byte packet: writing it to the TUN device counts one rx_dropped there. */
const DROP_MARK = Buffer.from([0]);
/**
 * rx_dropped marks written per second at most (and in one burst): each is a syscall, so under
 * a flood of bad packets the rest are carried over and written as the flood allows. The
 * engine's drop counters (by reason) are exact at once; rx_dropped catches up.
 */
const DROP_MARKS_PER_S = 1000;
const DROP_MARKS_BURST = 64;
const DROP_BATCH = [DROP_MARK];
const DROP_LENS = new Uint32Array([1]);
const DROP_HDR = Buffer.alloc(VNET_HDR_LEN);

export abstract class DeviceIo {
  readonly peers = new Map<number, Peer>();
  abstract readonly drops: DropCounters;
  /** Scratch buffer for a payload with its compression-framing header (peers with compFraming). */
  private framed: Buffer | undefined;
  /** The peer of a P2P device. */
  protected p2p: Peer | undefined;
  /** MP: peers by VPN address. */
  protected readonly index = new VpnIndex();
  /** MP: next hops of routed destinations. */
  protected readonly hops: NextHops | undefined;
  protected closed = false;
  private readonly tunIn = new PacketBatch();
  private readonly tunOut = new PacketBatch();
  private readonly dirty: EngineTransport[] = [];
  private readonly poller: Poller;
  /** Receive drops not yet reported on the TUN device's rx_dropped. */
  private rxDropsToReport = 0;
  /** Marks that may be written now (refilled at DROP_MARKS_PER_S), and when it was refilled. */
  private dropMarkTokens = DROP_MARKS_BURST;
  private dropMarkRefill = performance.now();
  private readonly coalescer: TcpCoalescer | undefined;

  constructor(
    protected readonly host: DeviceHost,
    readonly name: string,
    readonly ifindex: number,
    readonly mode: DeviceMode,
    protected readonly fd: number,
    /** The TUN fd was opened with IFF_VNET_HDR: received TCP segments are coalesced. */
    private readonly vnet: boolean,
  ) {
    this.coalescer = vnet ? new TcpCoalescer(BATCH) : undefined;
    if (mode === 'mp') this.hops = new NextHops(ifindex, this.index, host.routes(), (peer, packets) => this.sendHeld(peer, packets));
    this.poller = new host.addon.Poller(fd);
    this.poller.start(this.onTunReadable);
  }

  /** Stops the packet path and closes the TUN fd. */
  protected closeIo(): void {
    this.hops?.close();
    this.poller.close();
    this.host.addon.close(this.fd);
  }

  // ------------------------------------------------------------------ TX

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
          if (this.hops === undefined || !this.hops.hold(buf, len)) this.drops.noPeer++;
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
      return this.index.byIpv4(dst) ?? this.hops!.get4(dst);
    }
    if (version === 6 && len >= 40) return this.index.byIpv6(buf, 24) ?? this.hops!.get6(buf, 24);
    return null;
  }

  /** Sends the packets held for a route lookup, now that their next hop is known. */
  private sendHeld(peer: Peer | null, packets: Buffer[]): void {
    const now = performance.now();
    for (const p of packets) {
      if (peer === null || peer.deleted) this.drops.noPeer++;
      else this.transmit(peer, p, p.length, now, false);
    }
    this.flushSockets();
  }

  /** Encrypts one packet for `peer` into its socket's send batch. */
  protected transmit(peer: Peer, buf: Buffer, len: number, now: number, keepalive: boolean): void {
    const ks = peer.primary;
    if (ks === undefined || peer.remote === undefined) {
      this.drops.noKey++;
      return;
    }
    const sock = peer.socket;
    let src = buf;
    let srcLen = len;
    if (peer.compFraming !== undefined) {
      src = this.framed ??= Buffer.alloc(65536 + COMP_FRAMING_OVERHEAD);
      srcLen = frame(peer.compFraming, buf, len, src);
    }
    const off = sock.reserve(peer, srcLen + DATA_V2_OVERHEAD);
    const n = ks.key.encrypt(peer.txId, src, 0, srcLen, sock.tx.bufs[sock.txSlotIndex]!, off);
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

  protected flushSockets(): void {
    const d = this.dirty;
    for (let i = 0; i < d.length; i++) d[i]!.flush();
    d.length = 0;
  }

  // ------------------------------------------------------------------ RX

  /** One DATA_V2 packet buf[off, off+len) from `sock`; the sender's address is at addrs[addrOff..]. */
  receive(buf: Buffer, off: number, len: number, addrs: Buffer, addrOff: number, sock: EngineTransport, now: number): void {
    // shorter than header and tag: malformed, as the module counts it
    if (len < PAYLOAD_OFFSET) {
      this.drops.malformed++;
      this.rxDropsToReport++;
      return;
    }
    const id = (buf[off + 1]! << 16) | (buf[off + 2]! << 8) | buf[off + 3]!;
    let peer: Peer | undefined;
    if (this.mode === 'p2p') {
      peer = this.p2p;
      // the undefined id: the peer only if the packet comes from its address (as mainline)
      if (peer !== undefined && (id === PEER_ID_UNDEF ? peer.remote === undefined || !sockaddrEqual(peer.remoteRec, 0, addrs, addrOff) : id !== peer.id)) {
        peer = undefined;
      }
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
    let r = key.decrypt(buf, off, len, dst, 0, now);
    if (r < 0) {
      if (r === DecryptError.Replay) this.drops.replay++;
      else this.drops.decrypt++;
      this.rxDropsToReport++;
      return;
    }
    if (peer.compFraming !== undefined) {
      r = unframe(peer.compFraming, dst, r);
      if (r < 0) {
        // authenticated, so the peer's: counted as received, but never decompressed
        peer.lastRxMs = now;
        peer.linkRxPackets++;
        peer.linkRxBytes += len;
        if (r === UnframeError.Compressed) this.drops.compressed++;
        else this.drops.malformed++;
        this.rxDropsToReport++;
        return;
      }
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

  /** Reports receive drops still owed to rx_dropped (called from the device's tick). */
  protected reportPendingRxDrops(): void {
    if (this.rxDropsToReport > 0) this.reportRxDrops();
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
