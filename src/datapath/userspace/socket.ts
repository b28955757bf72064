/**
 * A UDP transport socket served by the engine: batched receive (recvmmsg) and send
 * (sendmmsg) through the addon. DATA_V2 packets go to the device the socket is attached
 * to; everything else (the control channel) goes to the socket's owner.
 *
 * Offloads (what they save: the kernel's per-datagram work, measured with bench/datapath.sh,
 * path kovpn-user-aes against kovpn-user-aes-nooffload):
 *  - send: consecutive datagrams to one destination of one size (the last may be shorter)
 *    are written back to back into one batch entry and sent with UDP_SEGMENT (GSO): one
 *    trip through the UDP/IP stack (and a veth) for up to GSO_MAX_SEGS datagrams. The wire
 *    is unchanged: the kernel (or the NIC) cuts them into the same datagrams.
 *  - receive: UDP_GRO; a coalesced entry is split back into its datagrams here.
 * KOVPN_UDP_OFFLOAD=0 in the engine's environment turns both off (for comparisons).
 */
import { isSyscallError, type NativeAddon, type Poller } from '../../native.js';
import type { Endpoint } from '../types.js';
import { decodeSockaddr, encodeSockaddr, SOCKADDR_LEN, unmapSockaddr } from '../../util/sockaddr.js';
import { OP_DATA_V2, opcodeOf } from '../../wire/index.js';
import { setSocketMark } from '../../util/sockopt.js';
import { BATCH, PacketBatch } from './batch.js';
import { fromSystemError } from './errors.js';
import type { EngineDevice } from './device.js';
import type { Peer } from './peer.js';

export type ControlHandler = (packet: Buffer, from: Endpoint) => void;

/** Receive rounds per readable event (bounds the time one socket holds the loop). */
const RX_ROUNDS = 8;
/** Largest GSO batch entry: below the UDP payload limit of IPv4 (65507) and IPv6. */
const GSO_MAX_BYTES = 65000;
/** Datagrams per GSO entry (the kernel's UDP_MAX_SEGMENTS is 64 or more). */
const GSO_MAX_SEGS = 64;
const OFFLOAD = process.env.KOVPN_UDP_OFFLOAD !== '0';

export class EngineSocket {
  readonly kind = 'udp' as const;
  readonly local: Endpoint;
  /** Device whose peers use this socket (a socket serves one device, as in the kernel). */
  device: EngineDevice | undefined;
  readonly peers = new Set<number>();
  onControl: ControlHandler | undefined;
  readonly tx = new PacketBatch();
  /** Queued in the engine's list of sockets with packets to flush. */
  dirty = false;
  closed = false;
  /** An IPv6 socket without IPV6_V6ONLY: it also serves IPv4 remotes. */
  dualStack = false;
  private readonly rx = new PacketBatch();
  private readonly poller: Poller;
  /** Receiving coalesced (GRO) entries. */
  private readonly gro: boolean;
  /** Largest datagram sent with GSO (lowered when the kernel refuses a size; 0: no GSO). */
  private gsoMaxSeg = OFFLOAD ? 0xffff : 0;
  /** The open GSO group: the last tx entry, its destination, datagram size and count. */
  private groupDest: Peer | undefined;
  private groupVersion = 0;
  private groupSeg = 0;
  private groupSegs = 0;
  /** Entry the reserved datagram goes to (see reserve). */
  private txSlot = 0;
  private readonly sendOne: { bufs: Buffer[]; lens: Uint32Array; addr: Buffer } = {
    bufs: [Buffer.alloc(0)],
    lens: new Uint32Array(1),
    addr: Buffer.alloc(SOCKADDR_LEN),
  };

  private constructor(
    private readonly addon: NativeAddon,
    readonly id: number,
    readonly fd: number,
  ) {
    this.local = decodeSockaddr(addon.sockName(fd));
    this.gro = OFFLOAD && addon.udpEnableGro(fd);
    this.poller = new addon.Poller(fd);
    this.poller.start(this.onReadable);
  }

  /**
   * `mark` (non-zero): SO_MARK, so that the socket's packets carry that firewall mark.
   * `v6only` false: an IPv6 socket that also carries IPv4 (dual-stack), as mainline allows.
   */
  static open(addon: NativeAddon, id: number, local: Endpoint, mark = 0, v6only = true): EngineSocket {
    let fd: number;
    try {
      fd = addon.udpOpen(encodeSockaddr(local), v6only);
    } catch (err) {
      throw fromSystemError(err, `cannot bind UDP ${local.address} port ${local.port}`);
    }
    try {
      setSocketMark(addon, fd, mark);
      const sock = new EngineSocket(addon, id, fd);
      sock.dualStack = !v6only && sock.local.address.includes(':');
      return sock;
    } catch (err) {
      addon.close(fd);
      throw fromSystemError(err, `UDP socket on ${local.address} port ${local.port}`);
    }
  }

  private readonly onReadable = (): void => {
    const rx = this.rx;
    const segs = this.gro ? rx.segs : undefined;
    for (let round = 0; round < RX_ROUNDS && !this.closed; round++) {
      rx.resetCapacity();
      let n: number;
      try {
        n = this.addon.udpRecvBatch(this.fd, rx.bufs, rx.lens, rx.addrs, segs);
      } catch {
        // ICMP errors (ECONNREFUSED...) surface as failed receives: nothing to read this round.
        continue;
      }
      if (n === 0) break;
      // IPv4 senders on a dual-stack socket: AF_INET records, as IPv4 remotes are kept
      if (this.dualStack) for (let i = 0; i < n; i++) unmapSockaddr(rx.addrs, i * SOCKADDR_LEN);
      const dev = this.device;
      const now = performance.now();
      for (let i = 0; i < n; i++) {
        const buf = rx.bufs[i]!;
        const len = rx.lens[i]!;
        if (len > buf.length) continue; // truncated (cannot happen with PACKET_BUF buffers)
        const seg = segs !== undefined ? segs[i]! : 0;
        if (seg === 0 || seg >= len) {
          this.deliver(dev, buf, 0, len, i, now);
        } else {
          for (let off = 0; off < len; off += seg) this.deliver(dev, buf, off, Math.min(seg, len - off), i, now);
        }
      }
      if (dev !== undefined) dev.flushTun();
      if (n < BATCH) break;
    }
  };

  /** One received datagram buf[off, off+len) from the sender of entry i. */
  private deliver(dev: EngineDevice | undefined, buf: Buffer, off: number, len: number, i: number, now: number): void {
    // every DATA_V2 datagram is the data path's, as in the kernel: too short ones are drops
    if (dev !== undefined && len > 0 && opcodeOf(buf[off]!) === OP_DATA_V2) {
      dev.receive(buf, off, len, this.rx.addrs, i * SOCKADDR_LEN, this, now);
    } else if (len > 0 && this.onControl) {
      this.onControl(Buffer.from(buf.subarray(off, off + len)), decodeSockaddr(this.rx.addrs, i * SOCKADDR_LEN));
    }
  }

  /**
   * Where the next datagram of `n` bytes to `dest` goes: returns its offset in
   * tx.bufs[txSlot] (appended to the open GSO group when it fits, else a new entry; a full
   * batch is flushed first). Write it there, then `commit`.
   */
  reserve(dest: Peer, n: number): number {
    const tx = this.tx;
    const g = tx.count - 1;
    if (
      g >= 0 &&
      dest === this.groupDest &&
      dest.remoteVersion === this.groupVersion &&
      n <= this.groupSeg &&
      this.groupSeg <= this.gsoMaxSeg &&
      this.groupSegs < GSO_MAX_SEGS &&
      tx.lens[g]! + n <= GSO_MAX_BYTES
    ) {
      this.txSlot = g;
      return tx.lens[g]!;
    }
    if (tx.count === BATCH) this.flush();
    this.txSlot = tx.count;
    return 0;
  }

  /** The tx entry `reserve` chose. */
  get txSlotIndex(): number {
    return this.txSlot;
  }

  /** Records the datagram of `n` bytes just written where `reserve` said. */
  commit(dest: Peer, n: number): void {
    const tx = this.tx;
    const k = this.txSlot;
    if (k < tx.count) {
      tx.lens[k]! += n;
      tx.segs[k] = this.groupSeg;
      this.groupSegs++;
      if (n < this.groupSeg) this.groupDest = undefined; // a shorter datagram ends the group
    } else {
      tx.lens[k] = n;
      tx.segs[k] = 0;
      dest.remoteRec.copy(tx.addrs, k * SOCKADDR_LEN);
      tx.count = k + 1;
      this.groupDest = dest;
      this.groupVersion = dest.remoteVersion;
      this.groupSeg = n;
      this.groupSegs = 1;
    }
  }

  /** Sends the queued batch; packets the kernel does not take (full queue) are dropped. */
  flush(): void {
    const tx = this.tx;
    const count = tx.count;
    tx.count = 0;
    this.groupDest = undefined;
    this.dirty = false;
    if (count === 0 || this.closed) return;
    let done = 0;
    while (done < count) {
      let sent: number;
      try {
        sent =
          done === 0
            ? this.addon.udpSendBatch(this.fd, tx.bufs, tx.lens, tx.addrs, count, tx.segs)
            : this.addon.udpSendBatch(this.fd, tx.bufs.slice(done), tx.lens.subarray(done), tx.addrs.subarray(done * SOCKADDR_LEN), count - done, tx.segs.subarray(done));
      } catch (err) {
        // An unreachable destination fails the entry at the head: skip it. A GSO entry the
        // kernel refuses (segment above the path MTU, no checksum offload) goes one by one.
        if (tx.segs[done]! > 0) this.sendSegments(done, err);
        sent = 1;
      }
      if (sent === 0) break;
      done += sent;
    }
  }

  /** Sends the datagrams of GSO entry k one by one (rare: allocates views). */
  private sendSegments(k: number, err: unknown): void {
    const tx = this.tx;
    const seg = tx.segs[k]!;
    const len = tx.lens[k]!;
    if (isSyscallError(err) && (err.code === 'EINVAL' || err.code === 'EMSGSIZE')) this.gsoMaxSeg = Math.min(this.gsoMaxSeg, seg - 1);
    else if (isSyscallError(err) && err.code === 'EIO') this.gsoMaxSeg = 0;
    const s = this.sendOne;
    tx.addrs.copy(s.addr, 0, k * SOCKADDR_LEN, (k + 1) * SOCKADDR_LEN);
    for (let off = 0; off < len; off += seg) {
      const n = Math.min(seg, len - off);
      s.bufs[0] = tx.bufs[k]!.subarray(off, off + n);
      s.lens[0] = n;
      try {
        this.addon.udpSendBatch(this.fd, s.bufs, s.lens, s.addr, 1);
      } catch {
        // dropped, as an unreachable destination's datagram is
      }
    }
  }

  /** Sends one packet outside the data path (control channel). */
  sendRaw(packet: Buffer, to: Endpoint): void {
    const s = this.sendOne;
    s.bufs[0] = packet;
    s.lens[0] = packet.length;
    encodeSockaddr(to, s.addr);
    try {
      this.addon.udpSendBatch(this.fd, s.bufs, s.lens, s.addr, 1);
    } catch (err) {
      throw fromSystemError(err, `send to ${to.address} port ${to.port}`);
    }
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.poller.close();
    this.addon.close(this.fd);
  }
}
