/**
 * IPv6 inside the tunnel (dual-stack tunnels), with OpenVPN 2.6's meanings (options.c,
 * helper.c, socket.c):
 *   server-ipv6 NET/BITS            server: this side NET+1, clients from a pool starting at
 *                                   NET+0x1000 (BITS < 112) or NET+2 (BITS 112..124); BITS 64..124
 *   ifconfig-ipv6 ADDR/BITS REMOTE  this side's tunnel address (server, p2p; BITS 64..124, default
 *                                   64); REMOTE is the far end (pushed to clients as their gateway)
 *   ifconfig-ipv6-pool BASE/BITS    server: the clients' pool (needs ifconfig-ipv6, not with server-ipv6)
 *   route-ipv6 NET/BITS [GW] [METRIC]  client and p2p: a route through the tunnel (on a tun device
 *                                   OpenVPN sets no gateway; neither does kovpn)
 *   route-ipv6-gateway ADDR, tun-ipv6  accepted, no effect on a tun device (as in OpenVPN)
 * and in a client-config-dir file:
 *   ifconfig-ipv6-push ADDR/BITS [REMOTE]  fixed IPv6 address of that client
 *   iroute-ipv6 NET/BITS            IPv6 network behind that client
 * An address without /BITS has 64, as in OpenVPN.
 */
import { isIPv6 } from 'node:net';
import { formatIp, parseIpv6 } from '../util/sockaddr.js';
import type { IgnoredDirective } from './types.js';

export interface Ipv6Prefix {
  /** Canonical text (RFC 5952). */
  address: string;
  bits: number;
}

export interface Ipv6Route {
  network: string;
  bits: number;
  gateway?: string;
  metric?: number;
  /** `file:line`, for messages. */
  where: string;
}

/** What a configuration file says about IPv6 in the tunnel (KovpnConfig.ipv6). */
export interface Ipv6TunnelConfig {
  /** This side's tunnel address and the far end (server: from server-ipv6 or ifconfig-ipv6). */
  local?: Ipv6Prefix & { remote: string };
  /** Server: the clients' pool, paired with the IPv4 pool (n-th IPv4 address, n-th IPv6 address). */
  pool?: Ipv6Prefix;
  /** Client and p2p: `route-ipv6` lines. */
  routes: Ipv6Route[];
}

/** A client-config-dir file's IPv6 lines (ClientRecord.ipv6). */
export interface ClientIpv6Record {
  ifconfigPush?: Ipv6Prefix & { remote?: string };
  iroutes: Ipv6Prefix[];
}

/** Mutable parse state of one configuration file. */
export interface Ipv6TunnelDirectives {
  serverIpv6?: Ipv6Prefix;
  ifconfigIpv6?: Ipv6Prefix & { remote: string };
  pool?: Ipv6Prefix;
  routes: Ipv6Route[];
}

/** `ADDR[/BITS]` (BITS default 64, as OpenVPN's get_ipv6_addr), or the reason it is not one. */
export function parseIpv6Prefix(s: string | undefined, what: string): Ipv6Prefix | string {
  if (s === undefined) return `${what} is missing`;
  const slash = s.indexOf('/');
  const addr = slash < 0 ? s : s.slice(0, slash);
  const bitsText = slash < 0 ? '64' : s.slice(slash + 1);
  if (!isIPv6(addr) || addr.includes('%')) return `${what} '${s}' is not an IPv6 address`;
  if (!/^\d{1,3}$/.test(bitsText) || Number(bitsText) > 128) return `${what} '${s}': /bits must be 0..128`;
  return { address: canonicalIpv6(addr), bits: Number(bitsText) };
}

export function canonicalIpv6(addr: string): string {
  return formatIp(parseIpv6(addr));
}

function address(s: string | undefined, what: string): string {
  if (s === undefined || !isIPv6(s) || s.includes('%')) throw new Error(`${what} '${s ?? ''}' is not an IPv6 address`);
  return canonicalIpv6(s);
}

function prefix(s: string | undefined, what: string, min = 0, max = 128): Ipv6Prefix {
  const p = parseIpv6Prefix(s, what);
  if (typeof p === 'string') throw new Error(p);
  if (p.bits < min || p.bits > max) throw new Error(`${what} '${s}': /bits must be between ${min} and ${max}, not /${p.bits}`);
  return p;
}

function argc(args: readonly string[], min: number, max: number): void {
  if (args.length < min || args.length > max) {
    throw new Error(`expects ${min === max ? min : `${min} to ${max}`} argument${max === 1 ? '' : 's'}, got ${args.length}`);
  }
}

/**
 * Applies one line of a configuration file to `st` if it is one of this module's directives.
 * Returns false for other directives, 'ignored' with the reason for accepted no-ops, true when
 * taken; throws an Error with the message (the caller adds file and line) when the line is wrong.
 */
export function parseIpv6TunnelDirective(
  d: { name: string; args: readonly string[]; line: number }, st: Ipv6TunnelDirectives, file: string,
): boolean | { ignored: string } {
  const a = d.args;
  switch (d.name) {
    case 'server-ipv6':
      argc(a, 1, 1);
      st.serverIpv6 = prefix(a[0], 'network', 64, 124);
      return true;
    case 'ifconfig-ipv6': {
      argc(a, 2, 2);
      st.ifconfigIpv6 = { ...prefix(a[0], 'local address', 64, 124), remote: address(a[1], 'remote address') };
      return true;
    }
    case 'ifconfig-ipv6-pool':
      argc(a, 1, 1);
      st.pool = prefix(a[0], 'pool', 64, 124);
      return true;
    case 'route-ipv6': {
      argc(a, 1, 3);
      const p = prefix(a[0], 'network');
      const r: Ipv6Route = { network: maskIpv6(p.address, p.bits), bits: p.bits, where: `${file}:${d.line}` };
      if (a[1] && a[1] !== 'default' && a[1] !== 'vpn_gateway') r.gateway = address(a[1], 'gateway');
      if (a[2] && a[2] !== 'default') {
        if (!/^\d{1,10}$/.test(a[2]) || Number(a[2]) > 0x7fffffff) throw new Error(`metric '${a[2]}' is not a number in 0..${0x7fffffff}`);
        r.metric = Number(a[2]);
      }
      st.routes.push(r);
      return true;
    }
    case 'route-ipv6-gateway':
      argc(a, 1, 1);
      address(a[0], 'gateway');
      return { ignored: 'routes through a tun device need no gateway (OpenVPN sets none either)' };
    case 'tun-ipv6':
      argc(a, 0, 0);
      return { ignored: 'tun devices carry IPv6 anyway (OpenVPN ignores it too)' };
    default:
      return false;
  }
}

/**
 * The IPv6 settings of a parsed file, checked against its mode (OpenVPN's rules: server-ipv6
 * excludes ifconfig-ipv6-pool, a pool needs ifconfig-ipv6, server-ipv6 is server-only), or
 * undefined when the file has none. Throws an Error naming the conflict.
 */
export function resolveIpv6Tunnel(st: Ipv6TunnelDirectives, mode: 'client' | 'server' | 'p2p', ignored: IgnoredDirective[]): Ipv6TunnelConfig | undefined {
  if (!st.serverIpv6 && !st.ifconfigIpv6 && !st.pool && st.routes.length === 0) return undefined;
  if (mode === 'server') {
    for (const r of st.routes) {
      ignored.push({ line: Number(r.where.slice(r.where.lastIndexOf(':') + 1)), directive: `route-ipv6 ${r.network}/${r.bits}`, level: 'warn',
        why: "a kovpn server installs a route for each client's iroute-ipv6 (client-config-dir) when it connects; this line adds none" });
    }
  }
  const out: Ipv6TunnelConfig = { routes: mode === 'server' ? [] : st.routes };
  if (st.serverIpv6) {
    if (mode !== 'server') throw new Error('`server-ipv6` needs server mode (`server <network> <netmask>`)');
    if (st.pool) throw new Error('`server-ipv6` already defines the IPv6 pool: remove `ifconfig-ipv6-pool`');
    const { address: net, bits } = st.serverIpv6;
    out.local = { address: addIpv6(net, 1n), bits, remote: addIpv6(net, 2n) };
    out.pool = { address: addIpv6(net, bits < 112 ? 0x1000n : 2n), bits };
  } else {
    if (st.ifconfigIpv6) out.local = st.ifconfigIpv6;
    if (st.pool) {
      if (mode !== 'server') throw new Error('`ifconfig-ipv6-pool` needs server mode');
      if (!st.ifconfigIpv6) throw new Error('`ifconfig-ipv6-pool` needs `ifconfig-ipv6` (the server\'s own IPv6 address)');
      out.pool = st.pool;
    }
  }
  if (mode === 'p2p' && st.routes.length > 0 && !out.local) throw new Error('`route-ipv6` in peer-to-peer mode needs `ifconfig-ipv6`');
  return out;
}

/** Parses one IPv6 line of a client-config-dir file into `rec`; false if it is not one. */
export function parseClientIpv6Directive(d: { name: string; args: readonly string[] }, rec: ClientIpv6Record): boolean {
  const a = d.args;
  switch (d.name) {
    case 'ifconfig-ipv6-push': {
      argc(a, 1, 2);
      const p = prefix(a[0], 'address');
      rec.ifconfigPush = a[1] ? { ...p, remote: address(a[1], 'remote address') } : p;
      return true;
    }
    case 'iroute-ipv6': {
      argc(a, 1, 1);
      const p = prefix(a[0], 'network');
      rec.iroutes.push({ address: maskIpv6(p.address, p.bits), bits: p.bits });
      return true;
    }
    default:
      return false;
  }
}

export function ipv6ToBigInt(addr: string): bigint {
  return BigInt(`0x${parseIpv6(addr).toString('hex')}`);
}

export function bigIntToIpv6(n: bigint): string {
  return formatIp(Buffer.from(n.toString(16).padStart(32, '0'), 'hex'));
}

/** `addr + n` (OpenVPN's add_in6_addr), wrapping within 128 bits. */
export function addIpv6(addr: string, n: bigint): string {
  return bigIntToIpv6((ipv6ToBigInt(addr) + n) & ((1n << 128n) - 1n));
}

/** The network of `addr/bits` (host bits cleared). */
export function maskIpv6(addr: string, bits: number): string {
  const host = (1n << BigInt(128 - bits)) - 1n;
  return bigIntToIpv6(ipv6ToBigInt(addr) & ~host & ((1n << 128n) - 1n));
}
