/**
 * TCP receive coalescing for the TUN device (opened with IFF_VNET_HDR): consecutive
 * decrypted segments of one TCP flow in one TUN write batch are merged into one large packet
 * written with a virtio_net_hdr that marks it as TCP GSO with a partial checksum, so the
 * kernel's TCP stack takes one packet instead of dozens (what GRO does for a NIC). The
 * merge rules follow the kernel's tcp_gro_receive: same addresses, ports, ack, TTL/hop
 * limit, TOS/traffic class, header lengths and identical TCP options; only ACK (and PSH,
 * which ends a group) set; in-order sequence numbers; equal segment sizes (a shorter one
 * ends the group); IPv4 without options or fragmentation; IPv6 without extension headers.
 * Any other packet is written as it came (an all-zero header: a plain packet).
 *
 * The merged packet's TCP checksum is left partial (pseudo-header sum, NEEDS_CSUM): the
 * kernel completes or ignores it like for a GSO packet from a local socket; the segments'
 * own checksums are not verified (their bytes were authenticated by the data channel AEAD).
 */

import { endianness } from 'node:os';

/** virtio_net_hdr fields are host-endian on a TUN device (no TUNSETVNETLE/BE). */
const LE = endianness() === 'LE';
/** sizeof(struct virtio_net_hdr). */
export const VNET_HDR_LEN = 10;
const VIRTIO_NET_HDR_F_NEEDS_CSUM = 1;
const VIRTIO_NET_HDR_GSO_TCPV4 = 1;
const VIRTIO_NET_HDR_GSO_TCPV6 = 4;
const TCP_ACK = 0x10;
const TCP_PSH = 0x08;
/** Largest merged packet (IPv4 total length / IPv6 payload length fit 16 bits). */
const MAX_MERGED = 65535 - 40;
const MAX_SEGS = 64;

/** IP header length of a mergeable TCP segment p[0..len), or 0 if it is not one. */
function ipHeaderLen(p: Buffer, len: number): number {
  const v = p[0]! >>> 4;
  if (v === 4) {
    if (len < 40 || p[0] !== 0x45 || p[9] !== 6 || (p.readUInt16BE(6) & 0x3fff) !== 0 || p.readUInt16BE(2) !== len) return 0;
    return 20;
  }
  if (v === 6) {
    if (len < 60 || p[6] !== 6 || p.readUInt16BE(4) !== len - 40) return 0;
    return 40;
  }
  return 0;
}

/** 16-bit one's-complement sum of p[off, off+n) (n even) added to `sum` (not folded). */
function sum16(p: Buffer, off: number, n: number, sum: number): number {
  for (let i = 0; i < n; i += 2) sum += (p[off + i]! << 8) | p[off + i + 1]!;
  return sum;
}

function fold(sum: number): number {
  while (sum > 0xffff) sum = (sum & 0xffff) + Math.floor(sum / 0x10000);
  return sum;
}

function u16(b: Buffer, v: number, o: number): void {
  if (LE) b.writeUInt16LE(v, o);
  else b.writeUInt16BE(v, o);
}

export class TcpCoalescer {
  /** virtio_net_hdr per batch entry, filled by `finalize`. */
  readonly hdrs: Buffer;
  private readonly segs: Uint32Array;
  private readonly mss: Uint32Array;
  private readonly hlen: Uint32Array;
  /** Entry of the open group (-1: none), its IP header length and next sequence number. */
  private g = -1;
  private ipLen = 0;
  private nextSeq = 0;

  constructor(entries: number) {
    this.hdrs = Buffer.alloc(entries * VNET_HDR_LEN);
    this.segs = new Uint32Array(entries);
    this.mss = new Uint32Array(entries);
    this.hlen = new Uint32Array(entries);
  }

  /**
   * Appends the TCP payload of p[0..len) to the open group in bufs/lens if p continues it;
   * true if it did (p is then consumed). Otherwise the caller writes p as entry k and calls
   * `start(k, ...)`.
   */
  merge(bufs: Buffer[], lens: Uint32Array, p: Buffer, len: number): boolean {
    const g = this.g;
    if (g < 0) return false;
    const ip = this.ipLen;
    if (ipHeaderLen(p, len) !== ip) return this.close();
    const flags = p[ip + 13]!;
    if ((flags & ~(TCP_ACK | TCP_PSH)) !== 0 || (flags & TCP_ACK) === 0) return this.close();
    const hdr = this.hlen[g]!;
    const thl = (p[ip + 12]! >>> 4) * 4;
    if (ip + thl !== hdr) return this.close();
    const payload = len - hdr;
    const mss = this.mss[g]!;
    if (payload <= 0 || payload > mss) return this.close();
    if (p.readUInt32BE(ip + 4) !== this.nextSeq) return this.close();
    const q = bufs[g]!;
    const glen = lens[g]!;
    if (glen + payload > MAX_MERGED || glen + payload > q.length || this.segs[g]! >= MAX_SEGS) return this.close();
    // same flow and header fields
    if (ip === 20) {
      if (p[1] !== q[1] || p[8] !== q[8] || p.compare(q, 12, 20, 12, 20) !== 0) return this.close();
    } else if (p.readUInt32BE(0) !== q.readUInt32BE(0) || p[7] !== q[7] || p.compare(q, 8, 40, 8, 40) !== 0) {
      return this.close();
    }
    // ports; ack number; options (byte 12 and 13 hold the lengths and flags, checked above)
    if (p.readUInt32BE(ip) !== q.readUInt32BE(ip) || p.readUInt32BE(ip + 8) !== q.readUInt32BE(ip + 8)) return this.close();
    if (thl > 20 && p.compare(q, ip + 20, hdr, ip + 20, hdr) !== 0) return this.close();
    p.copy(q, glen, hdr, len);
    lens[g] = glen + payload;
    this.segs[g]!++;
    this.nextSeq = (this.nextSeq + payload) >>> 0;
    if ((flags & TCP_PSH) !== 0) {
      q[ip + 13]! |= TCP_PSH;
      this.g = -1;
    } else if (payload < mss) {
      this.g = -1;
    }
    return true;
  }

  private close(): false {
    this.g = -1;
    return false;
  }

  /** Entry k now holds p[0..len) as written: it opens a group if it is a mergeable segment. */
  start(k: number, p: Buffer, len: number): void {
    this.segs[k] = 1;
    this.g = -1;
    const ip = ipHeaderLen(p, len);
    if (ip === 0) return;
    const flags = p[ip + 13]!;
    if (flags !== TCP_ACK) return; // PSH (or anything else) ends a group at once
    const thl = (p[ip + 12]! >>> 4) * 4;
    const payload = len - ip - thl;
    if (thl < 20 || payload <= 0) return;
    this.g = k;
    this.ipLen = ip;
    this.hlen[k] = ip + thl;
    this.mss[k] = payload;
    this.nextSeq = (p.readUInt32BE(ip + 4) + payload) >>> 0;
  }

  /** Fills the headers of entries 0..count and fixes the IP/TCP headers of merged ones; ends the group. */
  finalize(bufs: Buffer[], lens: Uint32Array, count: number): void {
    this.g = -1;
    const h = this.hdrs;
    for (let k = 0; k < count; k++) {
      const o = k * VNET_HDR_LEN;
      if (this.segs[k]! < 2) {
        h.fill(0, o, o + VNET_HDR_LEN);
        continue;
      }
      const p = bufs[k]!;
      const len = lens[k]!;
      const v4 = p[0]! >>> 4 === 4;
      const ip = v4 ? 20 : 40;
      const tcpLen = len - ip;
      let pseudo: number;
      if (v4) {
        p.writeUInt16BE(len, 2);
        p.writeUInt16BE(0, 10);
        p.writeUInt16BE(~fold(sum16(p, 0, 20, 0)) & 0xffff, 10);
        pseudo = sum16(p, 12, 8, 6 + tcpLen);
      } else {
        p.writeUInt16BE(tcpLen, 4);
        pseudo = sum16(p, 8, 32, 6 + tcpLen);
      }
      p.writeUInt16BE(fold(pseudo), ip + 16); // partial: the pseudo-header sum, not complemented
      h[o] = VIRTIO_NET_HDR_F_NEEDS_CSUM;
      h[o + 1] = v4 ? VIRTIO_NET_HDR_GSO_TCPV4 : VIRTIO_NET_HDR_GSO_TCPV6;
      u16(h, this.hlen[k]!, o + 2); // hdr_len
      u16(h, this.mss[k]!, o + 4); // gso_size
      u16(h, ip, o + 6); // csum_start
      u16(h, 16, o + 8); // csum_offset (TCP checksum)
      this.segs[k] = 1;
    }
  }
}
