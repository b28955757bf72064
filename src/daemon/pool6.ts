/**
 * The IPv6 pool of a server, paired with the IPv4 pool as in OpenVPN 2.6 (pool.c): the
 * client that gets the n-th IPv4 pool address gets base+n. A base whose last 32 bits are
 * zero starts at base+1 (the subnet-router anycast address is not handed out); a pool of a
 * /112 or longer ends at the end of its network, a larger one after 65536 addresses.
 * Fixed addresses (ifconfig-ipv6-push) are reserved so that no pool address collides.
 */
import { addIpv6, ipv6ToBigInt } from '../config/ipv6-tunnel.js';

/** OpenVPN's IFCONFIG_POOL_MAX. */
const POOL_MAX = 65536;

export class Ipv6Pool {
  readonly base: string;
  readonly size: number;
  private readonly used = new Set<string>();

  constructor(base: string, readonly bits: number) {
    let b = base;
    const hostMask = bits >= 96 ? (1n << BigInt(128 - bits)) - 1n : 0xffffffffn;
    let host = ipv6ToBigInt(b) & 0xffffffffn & hostMask;
    if (host === 0n) {
      b = addIpv6(b, 1n);
      host = 1n;
    }
    this.base = b;
    this.size = bits >= 112 ? Number((1n << BigInt(128 - bits)) - host) : POOL_MAX;
    if (this.size < 2) throw new RangeError(`IPv6 pool ${base}/${bits} is too small (${this.size}), must be at least 2`);
  }

  /** The address paired with the IPv4 pool's address number `index`; undefined past the pool's end or if taken. */
  take(index: number): string | undefined {
    if (index < 0 || index >= this.size) return undefined;
    const a = addIpv6(this.base, BigInt(index));
    if (this.used.has(a)) return undefined;
    this.used.add(a);
    return a;
  }

  /** A fixed address (client-config-dir); false if another client has it. */
  reserve(address: string): boolean {
    if (this.used.has(address)) return false;
    this.used.add(address);
    return true;
  }

  release(address: string): void {
    this.used.delete(address);
  }
}
