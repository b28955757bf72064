/**
 * Next-hop resolution for MP devices: a packet whose destination is not a peer's VPN
 * address goes to the peer whose VPN address is the gateway of the route the kernel uses
 * for that destination (as mainline ovpn picks the peer by the route's next hop). The TUN
 * device does not say which route brought a packet, so the engine asks rtnetlink
 * (RTM_GETROUTE) once per destination and caches the answer until any route changes
 * (RTNLGRP_IPV4_ROUTE / RTNLGRP_IPV6_ROUTE notifications).
 */
import { endianness } from 'node:os';
import type { NativeAddon, Poller } from '../../native.js';

const NETLINK_ROUTE = 0;
const RTM_NEWROUTE = 24;
const RTM_DELROUTE = 25;
const RTM_GETROUTE = 26;
const NLM_F_REQUEST = 1;
const RTNLGRP_IPV4_ROUTE = 7;
const RTNLGRP_IPV6_ROUTE = 11;
const RTA_DST = 1;
const RTA_OIF = 4;
const RTA_GATEWAY = 5;
const AF_INET = 2;
const AF_INET6 = 10;
const LE = endianness() === 'LE';

export interface NextHop {
  /** Output interface index of the route. */
  oif: number;
  /** Gateway address (4 or 16 bytes), absent for a directly connected destination. */
  gateway: Buffer | undefined;
}

type Waiter = (hop: NextHop | undefined) => void;

const rd16 = (b: Buffer, o: number) => (LE ? b.readUInt16LE(o) : b.readUInt16BE(o));
const rd32 = (b: Buffer, o: number) => (LE ? b.readUInt32LE(o) : b.readUInt32BE(o));
const wr16 = (b: Buffer, v: number, o: number) => (LE ? b.writeUInt16LE(v, o) : b.writeUInt16BE(v, o));
const wr32 = (b: Buffer, v: number, o: number) => (LE ? b.writeUInt32LE(v, o) : b.writeUInt32BE(v, o));

export class RouteResolver {
  private readonly fd: number;
  private readonly poller: Poller;
  private readonly rbuf = Buffer.alloc(65536);
  private seq = 1;
  private readonly waiters = new Map<number, Waiter>();
  private readonly changeListeners = new Set<() => void>();
  private closed = false;

  constructor(private readonly addon: NativeAddon) {
    this.fd = addon.netlinkOpen(NETLINK_ROUTE);
    addon.netlinkAddMembership(this.fd, RTNLGRP_IPV4_ROUTE);
    addon.netlinkAddMembership(this.fd, RTNLGRP_IPV6_ROUTE);
    this.poller = new addon.Poller(this.fd);
    this.poller.start(() => this.onReadable());
  }

  /** `fn` runs whenever a route was added or removed (caches must be dropped). */
  onChange(fn: () => void): () => void {
    this.changeListeners.add(fn);
    return () => this.changeListeners.delete(fn);
  }

  /** The route the kernel would use for `dst` (4 or 16 bytes); undefined if none. */
  lookup(dst: Buffer): Promise<NextHop | undefined> {
    if (this.closed) return Promise.resolve(undefined);
    const v6 = dst.length === 16;
    const attrLen = 4 + dst.length;
    const len = 16 + 12 + attrLen;
    const msg = Buffer.alloc(len);
    const seq = this.seq;
    this.seq = (this.seq % 0x7fffffff) + 1;
    wr32(msg, len, 0);
    wr16(msg, RTM_GETROUTE, 4);
    wr16(msg, NLM_F_REQUEST, 6);
    wr32(msg, seq, 8);
    msg[16] = v6 ? AF_INET6 : AF_INET; // rtm_family
    msg[17] = v6 ? 128 : 32; // rtm_dst_len
    wr16(msg, attrLen, 28);
    wr16(msg, RTA_DST, 30);
    dst.copy(msg, 32);
    return new Promise((resolve) => {
      this.waiters.set(seq, resolve);
      try {
        this.addon.netlinkSend(this.fd, msg);
      } catch {
        this.waiters.delete(seq);
        resolve(undefined);
      }
    });
  }

  private onReadable(): void {
    for (;;) {
      let n: number;
      try {
        n = this.addon.netlinkRecv(this.fd, this.rbuf);
      } catch {
        // ENOBUFS (notifications overran the socket): routes changed, state unknown
        this.changed();
        continue;
      }
      if (n < 0) return;
      this.parse(this.rbuf, n);
    }
  }

  private parse(buf: Buffer, n: number): void {
    let off = 0;
    let sawChange = false;
    while (off + 16 <= n) {
      const len = rd32(buf, off);
      if (len < 16 || off + len > n) break;
      const type = rd16(buf, off + 4);
      const seq = rd32(buf, off + 8);
      const waiter = seq !== 0 ? this.waiters.get(seq) : undefined;
      if (waiter) {
        this.waiters.delete(seq);
        // the answer, or NLMSG_ERROR (no route): undefined
        waiter(type === RTM_NEWROUTE ? this.parseRoute(buf, off, len) : undefined);
      } else if (type === RTM_NEWROUTE || type === RTM_DELROUTE) {
        sawChange = true;
      }
      off += (len + 3) & ~3;
    }
    if (sawChange) this.changed();
  }

  private parseRoute(buf: Buffer, off: number, len: number): NextHop {
    let oif = 0;
    let gateway: Buffer | undefined;
    let a = off + 16 + 12;
    const end = off + len;
    while (a + 4 <= end) {
      const alen = rd16(buf, a);
      const atype = rd16(buf, a + 2) & 0x3fff;
      if (alen < 4 || a + alen > end) break;
      if (atype === RTA_OIF && alen >= 8) oif = rd32(buf, a + 4);
      else if (atype === RTA_GATEWAY && (alen === 8 || alen === 20)) gateway = Buffer.from(buf.subarray(a + 4, a + alen));
      a += (alen + 3) & ~3;
    }
    return { oif, gateway };
  }

  private changed(): void {
    for (const fn of this.changeListeners) fn();
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const w of this.waiters.values()) w(undefined);
    this.waiters.clear();
    this.poller.close();
    this.addon.close(this.fd);
  }
}
