/**
 * `dhcp-option <type> [value]` (in the configuration or pushed). As OpenVPN on Linux, every
 * line is handed to scripts as `foreign_option_N` ("dhcp-option DNS 10.8.0.1"); kovpn itself
 * applies DNS, DNS6, DOMAIN and DOMAIN-SEARCH (see src/daemon/dns.ts). The other types (WINS,
 * NBT, NTP, PROXY_*, ...) configure Windows adapters and are only passed to scripts.
 */
import { isIP } from 'node:net';

export interface DhcpOption {
  type: string;
  value?: string;
}

/** Types kovpn applies itself. */
export const APPLIED_DHCP_TYPES = new Set(['DNS', 'DNS6', 'DOMAIN', 'DOMAIN-SEARCH']);

const DOMAIN = /^(?=.{1,253}$)([A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?\.)*[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?\.?$/;

/** One `dhcp-option` line's arguments, or the problem as a string. */
export function parseDhcpOption(args: readonly string[]): DhcpOption | string {
  if (args.length < 1 || args.length > 2) return `expects 1 or 2 arguments, got ${args.length}`;
  const type = args[0]!;
  const value = args[1];
  if (APPLIED_DHCP_TYPES.has(type) && value === undefined) return `${type} needs a value`;
  if (type === 'DNS' && isIP(value!) === 0) return `DNS '${value}' is not an IP address`;
  if (type === 'DNS6' && isIP(value!) !== 6) return `DNS6 '${value}' is not an IPv6 address`;
  if ((type === 'DOMAIN' || type === 'DOMAIN-SEARCH') && !DOMAIN.test(value!)) return `${type} '${value}' is not a domain name`;
  return value === undefined ? { type } : { type, value };
}

/** The line as OpenVPN's foreign_option_N carries it. */
export function dhcpOptionText(o: DhcpOption): string {
  return `dhcp-option ${o.type}${o.value !== undefined ? ` ${o.value}` : ''}`;
}
