/**
 * VPN addresses of peers: validation (an address that can never be a peer's is refused,
 * as by the kernel) and the compact forms the packet path looks them up by.
 */
import { isIPv4, isIPv6 } from 'node:net';
import { formatIp, parseIpv4, parseIpv6 } from '../../util/sockaddr.js';
import { einval } from './errors.js';

/** A remote's IPv4 address as the kernel module takes it: not 0.0.0.0/8, multicast or broadcast. */
export function isUnicastIpv4(address: string): boolean {
  const b = parseIpv4(address);
  return b[0] !== 0 && !(b[0]! >= 224 && b[0]! <= 239) && b.readUInt32BE(0) !== 0xffffffff;
}

/** A remote's IPv6 address as the kernel module takes it: not :: and not multicast. */
export function isUnicastIpv6(address: string): boolean {
  const b = parseIpv6(address);
  return !b.every((x) => x === 0) && b[0] !== 0xff;
}

/**
 * Refuses what the kernel module refuses as a peer's VPN address (0.0.0.0/8, loopback,
 * multicast, broadcast), with its text; `attr` names the attribute in the message.
 */
export function checkVpnIpv4(address: string, attr = 'VPN_IPV4'): number {
  if (!isIPv4(address)) throw einval(`${attr}: '${address}' is not an IPv4 address`);
  const b = parseIpv4(address);
  const v = b.readUInt32BE(0);
  if (b[0] === 0 || b[0] === 127 || (b[0]! >= 224 && b[0]! <= 239) || v === 0xffffffff) {
    throw einval(`${attr}: VPN_IPV4 must be a unicast address (not 0.0.0.0/8, loopback, multicast or broadcast)`);
  }
  return v;
}

/** Refuses ::, ::1, multicast and v4-mapped addresses, as the kernel module does. */
export function checkVpnIpv6(address: string, attr = 'VPN_IPV6'): Buffer {
  if (!isIPv6(address) || address.includes('%')) throw einval(`${attr}: '${address}' is not an IPv6 address`);
  const b = parseIpv6(address);
  const any = b.every((x) => x === 0);
  const loopback = b.subarray(0, 15).every((x) => x === 0) && b[15] === 1;
  const mapped = b.subarray(0, 10).every((x) => x === 0) && b[10] === 0xff && b[11] === 0xff;
  if (any || loopback || b[0] === 0xff || mapped) {
    throw einval(`${attr}: VPN_IPV6 must be a unicast address (not ::, ::1, multicast or v4-mapped)`);
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
