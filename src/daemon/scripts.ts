/**
 * Runs up/down/route-up/route-pre-down scripts as OpenVPN 2.6 does, so that existing helpers
 * (Debian's update-resolv-conf, ...) work unchanged: the command's words, then OpenVPN's
 * arguments `<dev> <tun_mtu> 0 <ifconfig_local> <ifconfig_netmask|ifconfig_remote> init`, and
 * OpenVPN's environment: script_type, script_context, dev, dev_type, tun_mtu, ifconfig_local,
 * ifconfig_netmask (topology subnet) or ifconfig_remote (point-to-point), route_vpn_gateway,
 * route_net_gateway, route_network_N / route_netmask_N / route_gateway_N / route_metric_N,
 * foreign_option_N ("dhcp-option DNS 10.8.0.1"), remote_1 / remote_port_1 / proto_1,
 * trusted_ip / trusted_port, config, verb, daemon, and signal for down scripts.
 * The script gets that environment plus PATH (OpenVPN passes its own variables only; without
 * PATH a script's plain command names would depend on the shell's fallback). It runs without a
 * shell, at most SCRIPT_TIMEOUT_MS (OpenVPN waits for ever), and a non-zero exit status is a
 * failure (ScriptError); the caller decides what a failure means (an up script's: the daemon
 * exits, as OpenVPN's fatal error does).
 */
import { execFile } from 'node:child_process';
import type { Script, ScriptHook } from '../config/scripts.js';
import type { DaemonLog } from './log.js';

export const SCRIPT_TIMEOUT_MS = 60_000;

export class ScriptError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ScriptError';
  }
}

export interface ScriptContext {
  dev: string;
  tunMtu: number;
  ifconfigLocal: string;
  /** Topology subnet: the netmask; point-to-point: the remote address (`remote` true). */
  ifconfigSecond: string;
  pointToPoint: boolean;
  routeVpnGateway?: string;
  routeNetGateway?: string;
  routes: { network: string; netmask: string; gateway: string; metric?: number }[];
  /** foreign_option_N values, in order (dhcp-option lines). */
  foreignOptions: string[];
  remote: { address: string; port: number };
  config: string;
  verb: number;
}

/** The variables OpenVPN sets for `type` (without PATH). */
export function scriptEnv(ctx: ScriptContext, type: ScriptHook, signal?: string): Record<string, string> {
  const env: Record<string, string> = {
    script_type: type, script_context: 'init', dev: ctx.dev, dev_type: 'tun', tun_mtu: String(ctx.tunMtu),
    ifconfig_local: ctx.ifconfigLocal, [ctx.pointToPoint ? 'ifconfig_remote' : 'ifconfig_netmask']: ctx.ifconfigSecond,
    remote_1: ctx.remote.address, remote_port_1: String(ctx.remote.port), proto_1: 'udp',
    trusted_ip: ctx.remote.address, trusted_port: String(ctx.remote.port),
    config: ctx.config, verb: String(ctx.verb), daemon: '0', daemon_log_redirect: '0',
  };
  if (ctx.routeVpnGateway) env['route_vpn_gateway'] = ctx.routeVpnGateway;
  if (ctx.routeNetGateway) env['route_net_gateway'] = ctx.routeNetGateway;
  ctx.routes.forEach((r, i) => {
    env[`route_network_${i + 1}`] = r.network;
    env[`route_netmask_${i + 1}`] = r.netmask;
    env[`route_gateway_${i + 1}`] = r.gateway;
    if (r.metric !== undefined) env[`route_metric_${i + 1}`] = String(r.metric);
  });
  ctx.foreignOptions.forEach((o, i) => { env[`foreign_option_${i + 1}`] = o; });
  if (signal) env['signal'] = signal;
  return env;
}

/** OpenVPN's arguments after the command's own words. */
export function scriptArgs(ctx: ScriptContext): string[] {
  return [ctx.dev, String(ctx.tunMtu), '0', ctx.ifconfigLocal, ctx.ifconfigSecond, 'init'];
}

/** Runs `script` as the `type` hook; resolves when it exited 0, else throws ScriptError. */
export function runScript(script: Script, type: ScriptHook, ctx: ScriptContext, log: DaemonLog, signal?: string): Promise<void> {
  const [program, ...own] = script.argv;
  const args = [...own, ...scriptArgs(ctx)];
  const env = { ...scriptEnv(ctx, type, signal), ...(process.env['PATH'] ? { PATH: process.env['PATH'] } : {}) };
  log.log('info', `${type} script: ${[program, ...args].join(' ')}`);
  return new Promise((resolve, reject) => {
    execFile(program!, args, { env, timeout: SCRIPT_TIMEOUT_MS, encoding: 'utf8', maxBuffer: 1 << 20 }, (err, stdout, stderr) => {
      for (const line of `${stdout}${stderr}`.split('\n')) if (line.trim()) log.log('info', `${type} script: ${line}`);
      if (!err) return resolve();
      const e = err as NodeJS.ErrnoException & { killed?: boolean; code?: number | string; signal?: string | null };
      const why = e.killed && e.signal ? `did not finish within ${SCRIPT_TIMEOUT_MS / 1000} s` :
        typeof e.code === 'number' ? `exited with status ${e.code}` :
        e.signal ? `was killed by ${e.signal}` : `could not run: ${e.message}`;
      reject(new ScriptError(`${script.where}: ${type} script '${script.command}' ${why}`));
    });
  });
}
