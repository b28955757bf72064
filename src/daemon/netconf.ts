/**
 * Interface addressing and routes for a tunnel device, in this process's network namespace,
 * through the rtnetlink library (src/link): kovpn never runs ip(8). Every failure names the
 * request and the kernel's reason.
 */
import { Rtnl } from '../link/rtnl.js';
import { netmaskToPrefix } from './ipv4.js';

export class NetconfError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'NetconfError';
  }
}

/** Runs `fn` on a route netlink socket of its own (closed after), failures as NetconfError. */
export async function withRtnl<T>(what: string, fn: (rtnl: Rtnl) => Promise<T>): Promise<T> {
  const rtnl = new Rtnl();
  try {
    return await fn(rtnl);
  } catch (err) {
    throw new NetconfError(`${what}: ${(err as Error).message}`);
  } finally {
    rtnl.close();
  }
}

/** Sets `address/netmask` on `dev` (replacing an earlier one) and brings it up. */
export async function configureAddress(dev: string, address: string, netmask: string, mtu?: number): Promise<void> {
  const prefixLen = netmaskToPrefix(netmask);
  await withRtnl(`${dev}: address ${address}/${prefixLen}`, async (rtnl) => {
    const ifindex = await rtnl.ifindex(dev);
    await rtnl.addAddress({ ifindex, address, prefixLen }, { replace: true });
    if (mtu !== undefined) await rtnl.setMtu(ifindex, mtu);
    await rtnl.setUp(ifindex);
  });
}

export async function addRoute(dev: string, network: string, netmask: string, gateway?: string, metric?: number): Promise<void> {
  const prefixLen = netmaskToPrefix(netmask);
  await withRtnl(`${dev}: route ${network}/${prefixLen}${gateway ? ` via ${gateway}` : ''}`, async (rtnl) => {
    const ifindex = await rtnl.ifindex(dev);
    await rtnl.addRoute({ dst: network, prefixLen, ifindex, ...(gateway ? { gateway } : {}), ...(metric !== undefined ? { metric } : {}) }, { replace: true });
  });
}

export async function delRoute(dev: string, network: string, netmask: string): Promise<void> {
  const prefixLen = netmaskToPrefix(netmask);
  await withRtnl(`${dev}: delete route ${network}/${prefixLen}`, async (rtnl) => {
    await rtnl.delRoute({ dst: network, prefixLen, ifindex: await rtnl.ifindex(dev) });
  });
}

/** Point-to-point addressing (`ifconfig local remote` of peer-to-peer mode) and link up. */
export async function configurePointToPoint(dev: string, local: string, remote: string): Promise<void> {
  await withRtnl(`${dev}: address ${local} peer ${remote}`, async (rtnl) => {
    const ifindex = await rtnl.ifindex(dev);
    await rtnl.addAddress({ ifindex, address: local, prefixLen: 32, peer: remote }, { replace: true });
    await rtnl.setUp(ifindex);
  });
}
