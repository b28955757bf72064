/**
 * Raw socket-address records (28 bytes, the size of `struct sockaddr_in6`) as they
 * cross the native addon boundary, and the IP-literal <-> bytes conversions they need.
 *
 * Layout (Linux, x86/arm little-endian hosts; family and scope id are host order):
 *   AF_INET  (2):  family u16 | port u16 BE | addr[4]  | zero[8]             | zero[12]
 *   AF_INET6 (10): family u16 | port u16 BE | flowinfo u32 BE | addr[16] | scope_id u32
 */
import { isIPv4, isIPv6 } from 'node:net';
import { endianness } from 'node:os';
import type { Endpoint } from '../datapath/types.js';

export const SOCKADDR_LEN = 28;
export const AF_INET = 2;
export const AF_INET6 = 10;

const littleEndian = endianness() === 'LE';

/** A string that is not an IPv4 or IPv6 literal, or bytes that are not 4 or 16 long. */
export class AddressError extends Error {
  override readonly name = 'AddressError';
}

function readHostU16(buf: Buffer, off: number): number {
  return littleEndian ? buf.readUInt16LE(off) : buf.readUInt16BE(off);
}

/** Parses an IPv4 literal (dotted quad) into 4 bytes. */
export function parseIpv4(address: string): Buffer {
  if (!isIPv4(address)) throw new AddressError(`'${address}' is not an IPv4 address`);
  return Buffer.from(address.split('.').map((part) => Number(part)));
}

/** Parses an IPv6 literal (any RFC 4291 text form, no zone) into 16 bytes. */
export function parseIpv6(address: string): Buffer {
  if (!isIPv6(address) || address.includes('%')) {
    throw new AddressError(`'${address}' is not an IPv6 address`);
  }
  const out = Buffer.alloc(16);
  let text = address;
  // A trailing dotted quad (::ffff:1.2.3.4) becomes two hex groups.
  const lastColon = text.lastIndexOf(':');
  const tail = text.slice(lastColon + 1);
  if (tail.includes('.')) {
    const v4 = parseIpv4(tail);
    text = `${text.slice(0, lastColon + 1)}${v4.readUInt16BE(0).toString(16)}:${v4.readUInt16BE(2).toString(16)}`;
  }
  const [head, rest] = text.split('::') as [string, string | undefined];
  const headGroups = head === '' ? [] : head.split(':');
  const tailGroups = rest === undefined || rest === '' ? [] : rest.split(':');
  const groups =
    rest === undefined
      ? headGroups
      : [...headGroups, ...new Array<string>(8 - headGroups.length - tailGroups.length).fill('0'), ...tailGroups];
  groups.forEach((group, i) => out.writeUInt16BE(parseInt(group, 16), i * 2));
  return out;
}

/** Parses an IPv4 or IPv6 literal into 4 or 16 bytes. */
export function parseIp(address: string): Buffer {
  return isIPv4(address) ? parseIpv4(address) : parseIpv6(address);
}

/** Formats 4 or 16 bytes as an IP literal (IPv6 in RFC 5952 canonical form). */
export function formatIp(bytes: Uint8Array): string {
  if (bytes.length === 4) return `${bytes[0]}.${bytes[1]}.${bytes[2]}.${bytes[3]}`;
  if (bytes.length !== 16) throw new AddressError(`an IP address has 4 or 16 bytes, got ${bytes.length}`);
  const groups: number[] = [];
  for (let i = 0; i < 16; i += 2) groups.push((bytes[i]! << 8) | bytes[i + 1]!);
  // IPv4-mapped addresses print with a dotted quad.
  if (groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff) {
    return `::ffff:${bytes[12]}.${bytes[13]}.${bytes[14]}.${bytes[15]}`;
  }
  // The longest run (>= 2) of zero groups, first one on ties, becomes '::'.
  let bestStart = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestStart < 0) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLen).join(':')}`;
}

/** Writes `ep` as a 28-byte record at `out[offset..offset+28)`; returns `out`. */
export function encodeSockaddr(ep: Endpoint, out: Buffer = Buffer.alloc(SOCKADDR_LEN), offset = 0): Buffer {
  if (!Number.isInteger(ep.port) || ep.port < 0 || ep.port > 0xffff) {
    throw new AddressError(`port ${ep.port} of ${ep.address} is not in 0..65535`);
  }
  out.fill(0, offset, offset + SOCKADDR_LEN);
  const v4 = isIPv4(ep.address);
  const family = v4 ? AF_INET : AF_INET6;
  if (littleEndian) out.writeUInt16LE(family, offset);
  else out.writeUInt16BE(family, offset);
  out.writeUInt16BE(ep.port, offset + 2);
  if (v4) {
    parseIpv4(ep.address).copy(out, offset + 4);
  } else {
    parseIpv6(ep.address).copy(out, offset + 8);
    const scope = ep.scopeId ?? 0;
    if (littleEndian) out.writeUInt32LE(scope, offset + 24);
    else out.writeUInt32BE(scope, offset + 24);
  }
  return out;
}

/** Reads the record at `buf[offset..offset+28)`. */
export function decodeSockaddr(buf: Buffer, offset = 0): Endpoint {
  const family = readHostU16(buf, offset);
  const port = buf.readUInt16BE(offset + 2);
  if (family === AF_INET) {
    return { address: `${buf[offset + 4]}.${buf[offset + 5]}.${buf[offset + 6]}.${buf[offset + 7]}`, port };
  }
  if (family === AF_INET6) {
    const address = formatIp(buf.subarray(offset + 8, offset + 24));
    const scopeId = littleEndian ? buf.readUInt32LE(offset + 24) : buf.readUInt32BE(offset + 24);
    return scopeId ? { address, port, scopeId } : { address, port };
  }
  throw new AddressError(`socket address family ${family} is neither AF_INET nor AF_INET6`);
}

/**
 * Whether the records a[aOffset..+28) and b[bOffset..+28) name the same endpoint: family,
 * port and address, and for IPv6 the scope id (flow info ignored). Used per packet on the
 * receive path (the float check): numeric reads only, no allocation.
 */
export function sockaddrEqual(a: Buffer, aOffset: number, b: Buffer, bOffset: number): boolean {
  if (a.readUInt32LE(aOffset) !== b.readUInt32LE(bOffset)) return false; // family and port
  if (readHostU16(a, aOffset) === AF_INET) return a.readUInt32LE(aOffset + 4) === b.readUInt32LE(bOffset + 4);
  for (let off = 8; off < SOCKADDR_LEN; off += 4) {
    if (a.readUInt32LE(aOffset + off) !== b.readUInt32LE(bOffset + off)) return false;
  }
  return true;
}

/**
 * Rewrites an IPv4-mapped AF_INET6 record (::ffff:a.b.c.d, what a dual-stack socket
 * reports for an IPv4 sender) in place as the AF_INET record of that address and port.
 * Returns whether it did. Numeric reads only (receive path).
 */
export function unmapSockaddr(buf: Buffer, offset = 0): boolean {
  if (readHostU16(buf, offset) !== AF_INET6) return false;
  if (buf.readUInt32LE(offset + 8) !== 0 || buf.readUInt32LE(offset + 12) !== 0) return false;
  if (buf.readUInt32BE(offset + 16) !== 0xffff) return false;
  const v4 = buf.readUInt32LE(offset + 20);
  if (littleEndian) buf.writeUInt16LE(AF_INET, offset);
  else buf.writeUInt16BE(AF_INET, offset);
  buf.writeUInt32LE(v4, offset + 4);
  buf.fill(0, offset + 8, offset + SOCKADDR_LEN);
  return true;
}

/** '::ffff:a.b.c.d' as 'a.b.c.d'; any other address unchanged. */
export function unmapAddress(address: string): string {
  const m = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (m) return m[1]!;
  if (!isIPv6(address)) return address;
  const b = parseIpv6(address);
  return b.subarray(0, 10).every((x) => x === 0) && b[10] === 0xff && b[11] === 0xff ? formatIp(b.subarray(12)) : address;
}

/**
 * An endpoint as users read it: `a.b.c.d:port` (a v4-mapped address as IPv4, as OpenVPN
 * prints it), `[v6]:port` (with `%scope` if it has one).
 */
export function endpointText(ep: Endpoint): string {
  const a = unmapAddress(ep.address);
  return a.includes(':') ? `[${a}${ep.scopeId ? `%${ep.scopeId}` : ''}]:${ep.port}` : `${a}:${ep.port}`;
}
