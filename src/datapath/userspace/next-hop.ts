/**
 * Next hops of an MP device: a packet whose destination is not a peer's VPN address goes to
 * the peer whose VPN address is the gateway of the route the kernel uses for that
 * destination (as mainline ovpn picks the peer by the route's next hop). The TUN device
 * does not say which route brought a packet, so the route is looked up (rtnetlink, through
 * src/link) once per destination, the packets held meanwhile, and the answer cached until
 * any route or peer changes.
 */
import type { RouteInfo } from '../../link/rtnl.js';
import type { RouteWatch } from '../../link/route-watch.js';
import { formatIp, parseIp } from '../../util/sockaddr.js';
import { ipv6Hash } from './addr.js';
import type { Peer } from './peer.js';
import type { VpnIndex } from './vpn-index.js';

/** What an MP device asks of the host's routing table. */
export interface DeviceRoutes {
  /** The route the kernel uses for `dst`; undefined when there is none. */
  lookup(dst: string): Promise<RouteInfo | undefined>;
  /** Route-change notifications (opened on first use). */
  watch(): RouteWatch;
}

/** Packets held per destination while its route is being looked up, and in all. */
const PENDING_PER_DST = 8;
const PENDING_TOTAL = 256;
/** Cached next hops per device; past this the cache starts over (bounded memory). */
const MAX_NEXT_HOPS = 65536;

interface NextHopEntry {
  addr: Buffer;
  peer: Peer | null;
}

/** Called with the held packets of a destination once its next hop is known (null: none). */
export type ReleaseHeld = (peer: Peer | null, packets: Buffer[]) => void;

export class NextHops {
  /** Next-hop peer per routed destination (null: no peer), valid until routes or peers change. */
  private readonly hop4 = new Map<number, Peer | null>();
  private readonly hop6 = new Map<number, NextHopEntry[]>();
  private generation = 0;
  private count = 0;
  private readonly pending = new Map<string, Buffer[]>();
  private pendingCount = 0;
  private readonly stopWatch: () => void;
  private closed = false;

  constructor(
    private readonly ifindex: number,
    private readonly index: VpnIndex,
    private readonly routes: DeviceRoutes,
    private readonly release: ReleaseHeld,
  ) {
    this.stopWatch = routes.watch().onChange(() => this.forget());
  }

  /** The cached next hop of an IPv4 destination (host order u32); undefined: not known. */
  get4(dst: number): Peer | null | undefined {
    return this.hop4.get(dst);
  }

  /** The cached next hop of the IPv6 destination buf[off, off+16); undefined: not known. */
  get6(buf: Buffer, off: number): Peer | null | undefined {
    const list = this.hop6.get(ipv6Hash(buf, off));
    if (list !== undefined) {
      for (let i = 0; i < list.length; i++) {
        if (list[i]!.addr.compare(buf, off, off + 16) === 0) return list[i]!.peer;
      }
    }
    return undefined;
  }

  /** Drops every cached next hop (a route or a peer changed). */
  forget(): void {
    this.hop4.clear();
    this.hop6.clear();
    this.count = 0;
    this.generation++;
  }

  /**
   * Holds a packet whose destination's route is unknown and looks the route up; false when
   * the packet cannot be held (too many waiting).
   */
  hold(buf: Buffer, len: number): boolean {
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
    const generation = this.generation;
    void this.routes
      .lookup(formatIp(dst))
      .catch(() => undefined)
      .then((route) => {
        const packets = this.pending.get(key) ?? [];
        this.pending.delete(key);
        this.pendingCount -= packets.length;
        if (this.closed) return;
        let peer: Peer | null = null;
        if (route !== undefined && route.ifindex === this.ifindex && route.gateway !== undefined) {
          peer = this.index.byAddress(parseIp(route.gateway)) ?? null;
        }
        if (generation === this.generation) this.remember(dst, peer);
        this.release(peer, packets);
      });
    return true;
  }

  private remember(dst: Buffer, peer: Peer | null): void {
    if (this.count >= MAX_NEXT_HOPS) this.forget();
    this.count++;
    if (dst.length === 16) {
      const h = ipv6Hash(dst, 0);
      const list = this.hop6.get(h);
      if (list) list.push({ addr: dst, peer });
      else this.hop6.set(h, [{ addr: dst, peer }]);
    } else {
      this.hop4.set(dst.readUInt32BE(0), peer);
    }
  }

  close(): void {
    this.closed = true;
    this.stopWatch();
    this.pending.clear();
  }
}
