/**
 * `redirect-gateway [def1] [local] [autolocal] [bypass-dhcp] [bypass-dns] [block-local] [ipv6] [!ipv4]`
 * (in the configuration or pushed), with OpenVPN 2.6's flags: def1 routes 0.0.0.0/1 and
 * 128.0.0.0/1 through the tunnel instead of replacing the default route; without `local` the
 * server keeps a host route through the old gateway; `ipv6` adds ::/3, 2000::/4, 3000::/4 and
 * fc00::/7 through the tunnel; `!ipv4` leaves IPv4 alone. bypass-dhcp and bypass-dns act on
 * Windows only, in OpenVPN too. Several lines add their flags up, as in OpenVPN.
 */

export interface RedirectGateway {
  /** Route IPv4 through the tunnel (off with `!ipv4`). */
  ipv4: boolean;
  def1: boolean;
  /** The server is on the local network: no host route to it. */
  local: boolean;
  /** `autolocal`: `local` when the route to the server has no gateway (on-link). */
  autolocal: boolean;
  bypassDhcp: boolean;
  bypassDns: boolean;
  /** Route the local subnets of the old gateway's interface through the tunnel too. */
  blockLocal: boolean;
  ipv6: boolean;
}

export const REDIRECT_FLAGS = ['def1', 'local', 'autolocal', 'bypass-dhcp', 'bypass-dns', 'block-local', 'ipv6', '!ipv4'] as const;

/** The flags of one line merged into `into` (a new set if absent), or the problem as a string. */
export function parseRedirectGateway(args: readonly string[], into?: RedirectGateway): RedirectGateway | string {
  const rg: RedirectGateway = into ? { ...into } : {
    ipv4: true, def1: false, local: false, autolocal: false, bypassDhcp: false, bypassDns: false, blockLocal: false, ipv6: false,
  };
  for (const a of args) {
    switch (a) {
      case 'def1': rg.def1 = true; break;
      case 'local': rg.local = true; break;
      case 'autolocal': rg.autolocal = true; break;
      case 'bypass-dhcp': rg.bypassDhcp = true; break;
      case 'bypass-dns': rg.bypassDns = true; break;
      case 'block-local': rg.blockLocal = true; break;
      case 'ipv6': rg.ipv6 = true; break;
      case '!ipv4': rg.ipv4 = false; break;
      default: return `unknown flag '${a}' (known: ${REDIRECT_FLAGS.join(', ')})`;
    }
  }
  return rg;
}

/** Two sets of flags added up (the file's and the pushed one), as OpenVPN ORs them; `!ipv4` from either wins. */
export function mergeRedirectGateway(a: RedirectGateway, b: RedirectGateway): RedirectGateway {
  return {
    ipv4: a.ipv4 && b.ipv4, def1: a.def1 || b.def1, local: a.local || b.local, autolocal: a.autolocal || b.autolocal,
    bypassDhcp: a.bypassDhcp || b.bypassDhcp, bypassDns: a.bypassDns || b.bypassDns, blockLocal: a.blockLocal || b.blockLocal, ipv6: a.ipv6 || b.ipv6,
  };
}

/** The flags as OpenVPN writes them (for messages). */
export function redirectFlags(rg: RedirectGateway): string {
  const f: string[] = [];
  if (rg.def1) f.push('def1');
  if (rg.local) f.push('local');
  if (rg.autolocal) f.push('autolocal');
  if (rg.bypassDhcp) f.push('bypass-dhcp');
  if (rg.bypassDns) f.push('bypass-dns');
  if (rg.blockLocal) f.push('block-local');
  if (rg.ipv6) f.push('ipv6');
  if (!rg.ipv4) f.push('!ipv4');
  return f.join(' ');
}
