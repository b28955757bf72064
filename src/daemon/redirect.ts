/**
 * `redirect-gateway`: all traffic through the tunnel, through the rtnetlink library (kovpn never
 * runs ip(8)). As OpenVPN 2.6 on Linux:
 *  - the server stays reached the way it is now: a host route to it through the gateway (and
 *    device) the kernel uses for it before the change, unless `local` (or `autolocal` and the
 *    server is on-link). OpenVPN takes the default gateway for that route; kovpn asks the kernel
 *    for its route to the server (`ip route get`), which is the same when the server is reached
 *    through the default route and also right when it is on a local network or behind another route;
 *  - def1: 0.0.0.0/1 and 128.0.0.0/1 through the tunnel's gateway, the default route untouched;
 *    without def1 the default route is replaced, and put back at the end;
 *  - block-local: the subnets of the interface the server is reached through go through the
 *    tunnel too (each as its two halves), its gateway stays reachable by a host route;
 *  - ipv6: ::/3, 2000::/4, 3000::/4 and fc00::/7 through the tunnel device;
 *  - bypass-dhcp / bypass-dns do nothing (Windows only, in OpenVPN too).
 * Everything added is removed by `undo` (and a replaced default route put back).
 */
import type { RedirectGateway } from '../config/redirect-gateway.js';
import { Rtnl, type RouteInfo, type RouteSpec } from '../link/rtnl.js';
import { intToIpv4, ipv4ToInt } from './ipv4.js';
import type { DaemonLog } from './log.js';
import { NetconfError } from './netconf.js';

export const IPV6_REDIRECT: readonly (readonly [string, number])[] = [['::', 3], ['2000::', 4], ['3000::', 4], ['fc00::', 7]];

export interface RedirectRequest {
  rg: RedirectGateway;
  dev: string;
  /** The server's address (the transport's remote), IPv4 or IPv6. */
  server: string;
  /** The tunnel's gateway: pushed route-gateway (client), the remote address (p2p); without one, routes name the device only. */
  vpnGateway?: string;
}

export interface AppliedRedirect {
  /** The gateway the server was reached through before (OpenVPN's route_net_gateway), if any. */
  netGateway?: string;
  /** The routes added, as `network/prefix`, for messages. */
  routes: string[];
  undo(): Promise<void>;
}

function describe(s: RouteSpec): string {
  return `${s.dst}/${s.prefixLen}${s.gateway ? ` via ${s.gateway}` : ''}`;
}

function errCode(err: unknown): string | undefined {
  return (err as { code?: unknown }).code as string | undefined;
}

/** Removes `added` (last first) and puts `restore` back; problems are logged, not thrown. */
async function revert(added: readonly RouteSpec[], restore: RouteInfo | undefined, log: DaemonLog): Promise<void> {
  const rtnl = new Rtnl();
  try {
    for (const s of [...added].reverse()) {
      await rtnl.delRoute(s).catch((err: unknown) => {
        // the route may have gone with the device already
        if (errCode(err) !== 'ESRCH' && errCode(err) !== 'ENODEV') log.log('warn', `redirect-gateway: cannot remove route ${describe(s)}: ${(err as Error).message}`);
      });
    }
    if (restore) {
      const spec: RouteSpec = { dst: restore.dst, prefixLen: 0, ...(restore.gateway ? { gateway: restore.gateway } : {}),
        ...(restore.ifindex !== undefined ? { ifindex: restore.ifindex } : {}), ...(restore.metric !== undefined ? { metric: restore.metric } : {}),
        ...(restore.protocol !== undefined ? { protocol: restore.protocol } : {}) };
      await rtnl.addRoute(spec).catch((err: unknown) => {
        if (errCode(err) !== 'EEXIST') log.log('error', `redirect-gateway: cannot put the default route ${describe(spec)} back: ${(err as Error).message}`);
      });
    }
  } finally {
    rtnl.close();
  }
}

export async function redirectGateway(req: RedirectRequest, log: DaemonLog): Promise<AppliedRedirect> {
  const { rg, dev, server, vpnGateway } = req;
  const added: RouteSpec[] = [];
  let restore: RouteInfo | undefined;
  let netGateway: string | undefined;
  const via = vpnGateway ? { gateway: vpnGateway } : {};
  const rtnl = new Rtnl();
  const add = async (spec: RouteSpec, what: string) => {
    try {
      await rtnl.addRoute(spec);
      added.push(spec);
    } catch (err) {
      if (errCode(err) === 'EEXIST') {
        log.log('info', `redirect-gateway: ${what} ${describe(spec)} exists already; left as it is`);
        return;
      }
      throw new NetconfError(`redirect-gateway: ${what} ${describe(spec)}: ${(err as Error).message}`);
    }
  };
  try {
    const tun = await rtnl.ifindex(dev);
    // The server stays reachable outside the tunnel: a host route through the way the kernel
    // takes to it now, in the family of the transport (a v6 server only needs one when IPv6 is
    // redirected, a v4 server when IPv4 is).
    const serverV6 = server.includes(':');
    const toServer = await rtnl.getRoute(server);
    if (!toServer || toServer.ifindex === undefined) throw new NetconfError(`redirect-gateway: the kernel has no route to the server ${server}`);
    if (toServer.ifindex === tun) throw new NetconfError(`redirect-gateway: the route to the server ${server} goes through ${dev} itself`);
    const local = rg.local || (rg.autolocal && toServer.gateway === undefined);
    if (!local && (serverV6 ? rg.ipv6 : rg.ipv4)) {
      await add({ dst: server, prefixLen: serverV6 ? 128 : 32, ifindex: toServer.ifindex, ...(toServer.gateway ? { gateway: toServer.gateway } : {}) }, 'host route to the server');
    }
    if (rg.ipv4) {
      const defaults = (await rtnl.listRoutes('ipv4')).filter((r) => r.prefixLen === 0).sort((a, b) => (a.metric ?? 0) - (b.metric ?? 0));
      netGateway = (serverV6 ? undefined : toServer.gateway) ?? defaults[0]?.gateway;
      if (rg.blockLocal && !serverV6) {
        if (toServer.gateway) await add({ dst: toServer.gateway, prefixLen: 32, ifindex: toServer.ifindex }, 'host route to the local gateway');
        for (const a of await rtnl.listAddresses(toServer.ifindex)) {
          if (!a.address.includes('.') || a.prefixLen < 1 || a.prefixLen > 30) continue;
          const mask = a.prefixLen === 0 ? 0 : (0xffffffff << (32 - a.prefixLen)) >>> 0;
          const net = (ipv4ToInt(a.address) & mask) >>> 0;
          const half = 2 ** (31 - a.prefixLen);
          for (const n of [net, net + half]) await add({ dst: intToIpv4(n), prefixLen: a.prefixLen + 1, ifindex: tun, ...via }, 'block-local route');
        }
      }
      if (rg.def1) {
        await add({ dst: '0.0.0.0', prefixLen: 1, ifindex: tun, ...via }, 'route');
        await add({ dst: '128.0.0.0', prefixLen: 1, ifindex: tun, ...via }, 'route');
      } else {
        const old = defaults[0];
        if (old) {
          await rtnl.delRoute({ dst: '0.0.0.0', prefixLen: 0, ...(old.gateway ? { gateway: old.gateway } : {}), ...(old.ifindex !== undefined ? { ifindex: old.ifindex } : {}) })
            .catch((err: unknown) => { throw new NetconfError(`redirect-gateway: cannot remove the default route: ${(err as Error).message}`); });
          restore = old;
        }
        await add({ dst: '0.0.0.0', prefixLen: 0, ifindex: tun, ...via }, 'default route');
      }
    }
    if (rg.ipv6) for (const [dst, prefixLen] of IPV6_REDIRECT) await add({ dst, prefixLen, ifindex: tun }, 'IPv6 route');
  } catch (err) {
    rtnl.close();
    await revert(added, restore, log);
    throw err;
  }
  rtnl.close();
  let undone = false;
  return {
    ...(netGateway ? { netGateway } : {}),
    routes: added.map(describe),
    async undo() {
      if (undone) return;
      undone = true;
      await revert(added, restore, log);
    },
  };
}
