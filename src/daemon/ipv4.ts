/** IPv4 address arithmetic for pools and netmasks. */

export function ipv4ToInt(s: string): number {
  const p = s.split('.').map(Number);
  if (p.length !== 4 || p.some((o) => !Number.isInteger(o) || o < 0 || o > 255)) {
    throw new RangeError(`'${s}' is not an IPv4 address`);
  }
  return ((p[0]! << 24) | (p[1]! << 16) | (p[2]! << 8) | p[3]!) >>> 0;
}

export function intToIpv4(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

export function netmaskToPrefix(mask: string): number {
  const hostBits = ~ipv4ToInt(mask) >>> 0;
  // Contiguous iff the host part is 2^k - 1.
  if ((hostBits & (hostBits + 1)) !== 0) throw new RangeError(`'${mask}' is not a contiguous netmask`);
  return 32 - Math.round(Math.log2(hostBits + 1));
}
