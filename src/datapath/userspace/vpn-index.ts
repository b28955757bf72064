/**
 * The peers of an MP device by VPN address (as mainline ovpn's peers->by_vpn_addr4/6
 * hash tables, peer.c): the exact-match lookup of the packet path and of the checks that an
 * address is not taken twice.
 */
import { ipv6Hash } from './addr.js';
import type { Peer } from './peer.js';

export class VpnIndex {
  private readonly byVpn4 = new Map<number, Peer>();
  private readonly byVpn6 = new Map<number, Peer[]>();

  add(peer: Peer): void {
    if (peer.vpn4 !== 0) this.byVpn4.set(peer.vpn4, peer);
    if (peer.vpn6) {
      const h = ipv6Hash(peer.vpn6, 0);
      const list = this.byVpn6.get(h);
      if (list) list.push(peer);
      else this.byVpn6.set(h, [peer]);
    }
  }

  remove(peer: Peer): void {
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

  /** The peer whose VPN IPv4 address is `addr` (host order u32). */
  byIpv4(addr: number): Peer | undefined {
    return this.byVpn4.get(addr);
  }

  /** The peer whose VPN IPv6 address is buf[off, off+16). */
  byIpv6(buf: Buffer, off: number): Peer | undefined {
    const list = this.byVpn6.get(ipv6Hash(buf, off));
    if (list === undefined) return undefined;
    for (let i = 0; i < list.length; i++) {
      const p = list[i]!;
      if (p.vpn6!.compare(buf, off, off + 16) === 0) return p;
    }
    return undefined;
  }

  /** The peer whose VPN address (4 or 16 bytes) is `addr`. */
  byAddress(addr: Buffer): Peer | undefined {
    return addr.length === 4 ? this.byVpn4.get(addr.readUInt32BE(0)) : this.byIpv6(addr, 0);
  }
}
