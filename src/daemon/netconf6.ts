/**
 * IPv6 addressing and routes of a tunnel device (IPv6 inside the tunnel), through the
 * rtnetlink library (src/link) as netconf.ts does for IPv4. Addresses are added without
 * duplicate address detection (IFA_F_NODAD, as OpenVPN's tun setup): the tunnel has no
 * neighbours to ask, and a tentative address could not be used for the first packets.
 */
import { withRtnl } from './netconf.js';

/** Sets `address/bits` on `dev` (replacing an earlier one) and brings it up. */
export async function configureAddress6(dev: string, address: string, bits: number): Promise<void> {
  await withRtnl(`${dev}: address ${address}/${bits}`, async (rtnl) => {
    const ifindex = await rtnl.ifindex(dev);
    await rtnl.addAddress({ ifindex, address, prefixLen: bits }, { replace: true });
    await rtnl.setUp(ifindex);
  });
}

/** `network/bits` through `dev`, via `gateway` if given (a server's iroute-ipv6: the client's tunnel address). */
export async function addRoute6(dev: string, network: string, bits: number, gateway?: string, metric?: number): Promise<void> {
  await withRtnl(`${dev}: route ${network}/${bits}${gateway ? ` via ${gateway}` : ''}`, async (rtnl) => {
    const ifindex = await rtnl.ifindex(dev);
    await rtnl.addRoute({ dst: network, prefixLen: bits, ifindex, ...(gateway ? { gateway } : {}), ...(metric !== undefined ? { metric } : {}) }, { replace: true });
  });
}

export async function delRoute6(dev: string, network: string, bits: number): Promise<void> {
  await withRtnl(`${dev}: delete route ${network}/${bits}`, async (rtnl) => {
    await rtnl.delRoute({ dst: network, prefixLen: bits, ifindex: await rtnl.ifindex(dev) });
  });
}
