/**
 * IPv6 inside the tunnel, server side (OpenVPN 2.6's multi.c rules): the device gets the
 * server's address (server-ipv6 NET/BITS: NET+1); each client gets its `ifconfig-ipv6-push`
 * address, else the IPv6 pool address paired with its IPv4 pool address. A client with a
 * fixed IPv4 address (ifconfig-push) and no ifconfig-ipv6-push gets no IPv6, as in OpenVPN.
 * The client's IPv6 address is its peer's VPN_IPV6 on the MP device (packets to it go to that
 * client), and each `iroute-ipv6` becomes a route via that address, which both data paths
 * map to the peer (as the IPv4 iroute).
 */
import type { ClientRecord } from '../config/ccd.js';
import type { Ipv6Prefix, Ipv6TunnelConfig } from '../config/ipv6-tunnel.js';
import type { PushOptions } from '../control/push.js';
import type { DaemonLog } from './log.js';
import { addRoute6, configureAddress6, delRoute6 } from './netconf6.js';
import { Ipv6Pool } from './pool6.js';

/** A client's IPv6 tunnel address as pushed (`ifconfig-ipv6 address/bits remote`). */
export interface ClientIpv6 {
  address: string;
  bits: number;
  remote: string;
  /** From the pool (released when the client goes). */
  pooled: boolean;
}

export class ServerIpv6 {
  private readonly pool: Ipv6Pool | undefined;

  constructor(private readonly cfg: Ipv6TunnelConfig | undefined, private readonly log: DaemonLog) {
    this.pool = cfg?.pool ? new Ipv6Pool(cfg.pool.address, cfg.pool.bits) : undefined;
  }

  /** The server's own address (`address/bits`), if it has one. */
  get local(): Ipv6Prefix | undefined {
    return this.cfg?.local;
  }

  async start(dev: string): Promise<void> {
    const l = this.cfg?.local;
    if (!l) return;
    await configureAddress6(dev, l.address, l.bits);
    const pool = this.pool ? `, clients from ${this.pool.base} (${this.pool.size} addresses)` : '';
    this.log.log('info', `server ${dev} IPv6 ${l.address}/${l.bits}${pool}`);
  }

  /**
   * The IPv6 address of a newly admitted client. `poolIndex`: the number of its IPv4 pool
   * address (-1: a fixed IPv4 address). Throws (the client is refused) if its fixed address
   * is another client's.
   */
  assign(name: string | undefined, record: ClientRecord | undefined, poolIndex: number): ClientIpv6 | undefined {
    const fixed = record?.ipv6.ifconfigPush;
    const who = `client '${name ?? ''}'`;
    if (fixed) {
      const remote = fixed.remote ?? this.cfg?.local?.address;
      if (!remote) throw new Error(`${record!.file}: ifconfig-ipv6-push without a remote address, and the server has no ifconfig-ipv6/server-ipv6`);
      if (this.pool && !this.pool.reserve(fixed.address)) throw new Error(`${record!.file}: IPv6 address ${fixed.address} is already in use`);
      return { address: fixed.address, bits: fixed.bits, remote, pooled: false };
    }
    if (!this.pool || !this.cfg?.local) return undefined;
    if (poolIndex < 0) {
      this.log.log('info', `${who} has a fixed IPv4 address (ifconfig-push) and no ifconfig-ipv6-push: no IPv6 address (as OpenVPN)`);
      return undefined;
    }
    const address = this.pool.take(poolIndex);
    if (!address) {
      this.log.log('warn', `${who}: IPv6 pool address number ${poolIndex} is past the pool's end or taken by a fixed address: no IPv6 address`);
      return undefined;
    }
    return { address, bits: this.cfg.local.bits, remote: this.cfg.local.address, pooled: true };
  }

  release(v6: ClientIpv6 | undefined): void {
    if (v6) this.pool?.release(v6.address);
  }

  /** The `ifconfig-ipv6` of the client's PUSH_REPLY. */
  pushFields(v6: ClientIpv6 | undefined): Pick<PushOptions, 'ifconfigIpv6'> {
    return v6 ? { ifconfigIpv6: { local: v6.address, bits: v6.bits, remote: v6.remote } } : {};
  }

  /** Routes for the client's iroute-ipv6 networks via its address; returns those added (to remove later). */
  async addIroutes(dev: string, name: string | undefined, record: ClientRecord | undefined, v6: ClientIpv6 | undefined): Promise<Ipv6Prefix[]> {
    const nets = record?.ipv6.iroutes ?? [];
    if (nets.length === 0) return [];
    if (!v6) {
      this.log.log('warn', `client '${name ?? ''}': iroute-ipv6 ${nets.map((n) => `${n.address}/${n.bits}`).join(', ')} not routed: the client has no IPv6 tunnel address`);
      return [];
    }
    const added: Ipv6Prefix[] = [];
    for (const n of nets) {
      await addRoute6(dev, n.address, n.bits, v6.address);
      added.push(n);
    }
    return added;
  }

  async removeIroutes(dev: string, routes: readonly Ipv6Prefix[]): Promise<void> {
    for (const r of routes) await delRoute6(dev, r.address, r.bits).catch(() => undefined);
  }
}
