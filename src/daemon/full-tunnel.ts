/**
 * A client's (or peer-to-peer side's) full-tunnel state around its routes: the up script,
 * redirect-gateway, DNS, route-up, and their reversal, in OpenVPN 2.6's order:
 *   address set -> up script (first connection only) -> routes -> redirect-gateway -> DNS -> route-up
 *   ... session ends -> route-pre-down -> redirect-gateway and DNS reverted
 *   ... daemon stops -> the same, the device removed, then the down script (before the removal with down-pre).
 * The file's redirect-gateway and dhcp-option lines and the pushed ones add up (flags merged,
 * dhcp-options in order: the file's first), as in OpenVPN. With `route-nopull` a pushed
 * redirect-gateway is not applied (it is a routing option); pushed dhcp-options still are.
 * When an `up` script is given, kovpn leaves DNS to it (OpenVPN applies none itself; scripts
 * such as update-resolv-conf do it from foreign_option_N).
 */
import { APPLIED_DHCP_TYPES, dhcpOptionText, parseDhcpOption, type DhcpOption } from '../config/dns.js';
import { mergeRedirectGateway, parseRedirectGateway, redirectFlags, type RedirectGateway } from '../config/redirect-gateway.js';
import type { KovpnConfig } from '../config/types.js';
import { Rtnl } from '../link/rtnl.js';
import { applyDns, detectDnsBackend, type AppliedDns } from './dns.js';
import type { DaemonLog } from './log.js';
import { redirectGateway, type AppliedRedirect } from './redirect.js';
import { runScript, type ScriptContext } from './scripts.js';

export interface PushedFullTunnel {
  redirectGateway?: RedirectGateway;
  dhcpOptions: DhcpOption[];
  /** The pushed options that are neither. */
  rest: string[];
}

/** Takes redirect-gateway and dhcp-option out of a PUSH_REPLY's unparsed options; throws on a malformed one. */
export function splitPushed(options: readonly string[]): PushedFullTunnel {
  const out: PushedFullTunnel = { dhcpOptions: [], rest: [] };
  for (const opt of options) {
    const [name, ...args] = opt.split(/\s+/);
    if (name === 'redirect-gateway') {
      const rg = parseRedirectGateway(args, out.redirectGateway);
      if (typeof rg === 'string') throw new Error(`server pushed '${opt}': ${rg}`);
      out.redirectGateway = rg;
    } else if (name === 'dhcp-option') {
      const o = parseDhcpOption(args);
      if (typeof o === 'string') throw new Error(`server pushed '${opt}': ${o}`);
      out.dhcpOptions.push(o);
    } else {
      out.rest.push(opt);
    }
  }
  return out;
}

/** What the tunnel looks like once its address is set. */
export interface TunnelFacts {
  dev: string;
  ifconfigLocal: string;
  ifconfigSecond: string;
  pointToPoint: boolean;
  vpnGateway?: string;
  remote: { address: string; port: number };
  pushed: PushedFullTunnel;
  routeNopull: boolean;
}

export class FullTunnel {
  private upRan = false;
  private ctx: ScriptContext | undefined;
  private redirect: AppliedRedirect | undefined;
  private dns: AppliedDns | undefined;
  private routed = false;
  private tearing: Promise<void> | undefined;
  private noDnsWarned = false;

  constructor(private readonly cfg: KovpnConfig, private readonly log: DaemonLog) {}

  private redirectFor(f: TunnelFacts): RedirectGateway | undefined {
    let rg = this.cfg.fullTunnel?.redirectGateway;
    if (f.pushed.redirectGateway) {
      if (f.routeNopull) {
        this.log.log('info', `route-nopull: not applying the pushed redirect-gateway ${redirectFlags(f.pushed.redirectGateway)}`);
      } else {
        rg = rg ? mergeRedirectGateway(rg, f.pushed.redirectGateway) : f.pushed.redirectGateway;
      }
    }
    return rg;
  }

  private dhcpFor(f: TunnelFacts): DhcpOption[] {
    return [...(this.cfg.fullTunnel?.dhcpOptions ?? []), ...f.pushed.dhcpOptions];
  }

  /** The up script, on the first connection only (the device stays across reconnects). Throws ScriptError. */
  async beforeRoutes(f: TunnelFacts, routes: ScriptContext['routes']): Promise<void> {
    let netGateway: string | undefined;
    let tunMtu = 1500;
    const rtnl = new Rtnl();
    try {
      netGateway = (await rtnl.getRoute(f.remote.address))?.gateway;
      tunMtu = (await rtnl.getLink(f.dev)).mtu ?? tunMtu;
    } finally {
      rtnl.close();
    }
    this.ctx = {
      dev: f.dev, tunMtu, ifconfigLocal: f.ifconfigLocal, ifconfigSecond: f.ifconfigSecond, pointToPoint: f.pointToPoint,
      ...(f.vpnGateway ? { routeVpnGateway: f.vpnGateway } : {}), ...(netGateway ? { routeNetGateway: netGateway } : {}), routes,
      foreignOptions: this.dhcpFor(f).map(dhcpOptionText), remote: f.remote, config: this.cfg.file, verb: this.cfg.verb,
    };
    const up = this.cfg.scripts?.hooks.up;
    if (up && !this.upRan) {
      await runScript(up, 'up', this.ctx, this.log);
      this.upRan = true;
    }
  }

  /** redirect-gateway, DNS, route-up; a failure leaves nothing of them behind. */
  async afterRoutes(f: TunnelFacts): Promise<void> {
    const rg = this.redirectFor(f);
    if (rg) {
      if (rg.bypassDhcp || rg.bypassDns) this.log.log('info', 'redirect-gateway bypass-dhcp/bypass-dns: nothing to do on Linux (Windows only, in OpenVPN too)');
      this.redirect = await redirectGateway({ rg, dev: f.dev, server: f.remote.address, ...(f.vpnGateway ? { vpnGateway: f.vpnGateway } : {}) }, this.log);
      this.log.log('info', `redirect-gateway ${redirectFlags(rg)}: added ${this.redirect.routes.join(', ') || 'no route'}`);
    }
    const dhcp = this.dhcpFor(f);
    if (this.cfg.scripts?.hooks.up) {
      if (dhcp.length > 0) this.log.log('info', `dhcp-option: left to the up script (foreign_option_1..${dhcp.length})`);
    } else {
      try {
        // without resolvectl/resolvconf the warning is said once, not at every reconnection
        const backend = detectDnsBackend();
        if (backend || !this.noDnsWarned) this.dns = await applyDns(f.dev, dhcp, this.log, backend);
        if (!backend && dhcp.length > 0) this.noDnsWarned = true;
      } catch (err) {
        await this.tearDown();
        throw err;
      }
      const others = dhcp.filter((o) => !APPLIED_DHCP_TYPES.has(o.type));
      if (others.length > 0) this.log.log('info', `dhcp-option ${others.map((o) => o.type).join(', ')}: Windows adapter settings, not applied (an up script sees them as foreign_option_N)`);
    }
    this.routed = true;
    const routeUp = this.cfg.scripts?.hooks['route-up'];
    if (routeUp && this.ctx) {
      // as OpenVPN, a failing route-up script is reported, not fatal
      await runScript(routeUp, 'route-up', this.ctx, this.log).catch((err: unknown) => this.log.log('error', (err as Error).message));
    }
  }

  /**
   * route-pre-down, then redirect-gateway and DNS reverted (session end, stop). Never throws.
   * A second call (a stop while the session's end is tearing down) waits for the first.
   */
  tearDown(signal?: string): Promise<void> {
    this.tearing = (this.tearing ?? Promise.resolve()).then(() => this.tearDownNow(signal));
    return this.tearing;
  }

  private async tearDownNow(signal?: string): Promise<void> {
    // taken synchronously: a stop and the session's end may both tear down
    const { routed, redirect: r, dns: d, ctx } = this;
    this.routed = false;
    this.redirect = undefined;
    this.dns = undefined;
    const preDown = this.cfg.scripts?.hooks['route-pre-down'];
    if (routed && preDown && ctx) {
      await runScript(preDown, 'route-pre-down', ctx, this.log, signal).catch((err: unknown) => this.log.log('error', (err as Error).message));
    }
    await r?.undo();
    await d?.undo();
  }

  /** The down script (once, if the up script ran or only a down script is given and the tunnel came up). */
  async down(signal: string): Promise<void> {
    const down = this.cfg.scripts?.hooks.down;
    if (!down || !this.ctx || (this.cfg.scripts?.hooks.up && !this.upRan)) return;
    const ctx = this.ctx;
    this.ctx = undefined;
    await runScript(down, 'down', ctx, this.log, signal).catch((err: unknown) => this.log.log('error', (err as Error).message));
  }

  get downPre(): boolean {
    return this.cfg.scripts?.downPre === true;
  }
}
