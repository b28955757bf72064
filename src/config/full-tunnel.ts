/**
 * The client-side directives of a full tunnel, gathered while a file is read and checked at
 * its end: `redirect-gateway` (redirect-gateway.ts), `dhcp-option` (dns.ts), the scripts and
 * `script-security` (scripts.ts). openvpn.ts hands each such line here and takes the result.
 */
import { parseDhcpOption, type DhcpOption } from './dns.js';
import { parseRedirectGateway, type RedirectGateway } from './redirect-gateway.js';
import { parseScriptDirective, scriptSecurityProblem, type ScriptsConfig } from './scripts.js';
import type { Directive } from './tokenize.js';
import type { KovpnConfig } from './types.js';

export const FULL_TUNNEL_DIRECTIVES: ReadonlySet<string> = new Set([
  'redirect-gateway', 'dhcp-option', 'up', 'down', 'route-up', 'route-pre-down', 'down-pre', 'script-security',
]);

export class FullTunnelDirectives {
  private redirectGateway: RedirectGateway | undefined;
  private dhcpOptions: DhcpOption[] | undefined;
  private readonly scripts: ScriptsConfig = { securityLevel: 1, hooks: {} };

  /** Takes one line named in FULL_TUNNEL_DIRECTIVES; the problem as a string, else undefined. */
  add(d: Directive, where: string): string | undefined {
    if (d.name === 'redirect-gateway') {
      const rg = parseRedirectGateway(d.args, this.redirectGateway);
      if (typeof rg === 'string') return rg;
      this.redirectGateway = rg;
    } else if (d.name === 'dhcp-option') {
      const o = parseDhcpOption(d.args);
      if (typeof o === 'string') return o;
      (this.dhcpOptions ??= []).push(o);
    } else {
      return parseScriptDirective(d, where, this.scripts);
    }
    return undefined;
  }

  /** Puts the result into `cfg`; a whole-file problem (script-security, a server's own lines) with its line (0: the file). */
  finish(cfg: KovpnConfig): { line: number; message: string } | undefined {
    const problem = scriptSecurityProblem(this.scripts);
    if (problem) return problem;
    const { redirectGateway, dhcpOptions, scripts } = this;
    const hooks = Object.keys(scripts.hooks).length > 0;
    if (cfg.mode === 'server' && (redirectGateway || dhcpOptions || hooks)) {
      return { line: 0, message: 'redirect-gateway, dhcp-option and up/down scripts act on a client; a kovpn server runs none of them ' +
        '(`push "redirect-gateway def1"` / `push "dhcp-option DNS ..."` send them to the clients)' };
    }
    if (redirectGateway || dhcpOptions) cfg.fullTunnel = { ...(redirectGateway ? { redirectGateway } : {}), ...(dhcpOptions ? { dhcpOptions } : {}) };
    if (hooks || scripts.securityLevel !== 1 || scripts.downPre) cfg.scripts = scripts;
    return undefined;
  }
}
