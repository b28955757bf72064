/**
 * IPv6 inside the tunnel, client and peer-to-peer side: the tunnel address (pushed
 * `ifconfig-ipv6 address/bits remote`, else the file's `ifconfig-ipv6`) on the device, then
 * the IPv6 routes (pushed `route-ipv6` unless route-nopull, and the file's `route-ipv6`)
 * through the device. As OpenVPN on a tun device (route.c), a route gets no gateway: the
 * device alone decides where it goes. Without an IPv6 address OpenVPN installs no IPv6
 * route, and neither does kovpn (said at warning level).
 */
import type { KovpnConfig } from '../config/types.js';
import type { PushOptions } from '../control/push.js';
import type { DaemonLog } from './log.js';
import { addRoute6, configureAddress6 } from './netconf6.js';

/** Applies the IPv6 part of a PUSH_REPLY (after pull-filter) and of the file; returns the address set, if any. */
export async function applyClientIpv6(dev: string, o: PushOptions, cfg: KovpnConfig, log: DaemonLog): Promise<string | undefined> {
  const own = cfg.ipv6?.local;
  const addr = o.ifconfigIpv6 ?? (own ? { local: own.address, bits: own.bits, remote: own.remote } : undefined);
  const pushed = o.routesIpv6 ?? [];
  const routes = [...(cfg.routeNopull ? [] : pushed), ...(cfg.ipv6?.routes ?? [])];
  if (cfg.routeNopull && pushed.length > 0) {
    log.log('info', `route-nopull: not installing ${pushed.length} pushed IPv6 route(s): ${pushed.map((r) => `${r.network}/${r.bits}`).join(', ')}`);
  }
  if (!addr) {
    if (routes.length > 0) log.log('warn', `no IPv6 address in the tunnel (no ifconfig-ipv6): not installing route-ipv6 ${routes.map((r) => `${r.network}/${r.bits}`).join(', ')}`);
    return undefined;
  }
  await configureAddress6(dev, addr.local, addr.bits);
  for (const r of routes) await addRoute6(dev, r.network, r.bits, undefined, r.metric);
  log.log('info', `${dev}: IPv6 ${addr.local}/${addr.bits} (remote ${addr.remote})${routes.length ? `, routes ${routes.map((r) => `${r.network}/${r.bits}`).join(', ')}` : ''}`);
  return addr.local;
}
