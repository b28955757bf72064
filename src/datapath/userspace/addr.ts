/**
 * VPN addresses of peers: validation (an address that can never be a peer's is refused,
 * as by the kernel) and the compact forms the packet path looks them up by.
 */
import { isIPv4, isIPv6 } from 'node:net';
import { formatIp, parseIpv4, parseIpv6 } from '../../util/sockaddr.js';
import { einval } from './errors.js';

/** Refuses unspecified, loopback, multicast, broadcast and (IPv6) v4-mapped addresses. */
export function checkVpnIpv4(address: string, attr = 'VPN_IPV4'): number {
  if (!isIPv4(address)) throw einval(`${attr}: '${address}' is not an IPv4 address`);
  const b = parseIpv4(address);
  const v = b.readUInt32BE(0);
  if (v === 0) throw einval(`${attr}: ${address} is the unspecified address`);
  if (b[0] === 127) throw einval(`${attr}: ${address} is a loopback address`);
  if (b[0]! >= 224 && b[0]! <= 239) throw einval(`${attr}: ${address} is a multicast address`);
  if (v === 0xffffffff) throw einval(`${attr}: ${address} is the broadcast address`);
  return v;
}

export function checkVpnIpv6(address: string, attr = 'VPN_IPV6'): Buffer {
  if (!isIPv6(address) || address.includes('%')) throw einval(`${attr}: '${address}' is not an IPv6 address`);
  const b = parseIpv6(address);
  if (b.every((x) => x === 0)) throw einval(`${attr}: ${address} is the unspecified address`);
  if (b.subarray(0, 15).every((x) => x === 0) && b[15] === 1) throw einval(`${attr}: ${address} is the loopback address`);
  if (b[0] === 0xff) throw einval(`${attr}: ${address} is a multicast address`);
  if (b.subarray(0, 10).every((x) => x === 0) && b[10] === 0xff && b[11] === 0xff) {
    throw einval(`${attr}: ${address} is an IPv4-mapped address`);
  }
  return b;
}

/** Lookup key of a 16-byte IPv6 address: its four 32-bit words folded; collisions are resolved by comparing. */
export function ipv6Hash(buf: Buffer, off: number): number {
  return (buf.readUInt32BE(off) ^ buf.readUInt32BE(off + 4) ^ buf.readUInt32BE(off + 8) ^ buf.readUInt32BE(off + 12)) >>> 0;
}

export function ipv4ToString(v: number): string {
  return `${v >>> 24}.${(v >>> 16) & 0xff}.${(v >>> 8) & 0xff}.${v & 0xff}`;
}

export function ipv6ToString(b: Buffer): string {
  return formatIp(b);
}
