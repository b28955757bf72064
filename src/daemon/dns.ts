/**
 * DNS from `dhcp-option DNS|DNS6|DOMAIN|DOMAIN-SEARCH` (the file's and the pushed ones), applied
 * the way the host manages its resolver, and reverted when the tunnel goes:
 *  - systemd-resolved running (`resolvectl` and /run/systemd/resolve): per-link servers and
 *    search domains on the tunnel device (`resolvectl dns|domain <dev>`), `resolvectl revert`;
 *  - else `resolvconf` (Debian's resolvconf or openresolv): a record `<dev>.openvpn` (the name
 *    Debian's update-resolv-conf uses), `resolvconf -d` at the end;
 *  - else nothing, and one warning says so.
 * OpenVPN 2.6 itself leaves this to an up script; so does kovpn when an `up` script is given.
 */
import { execFile } from 'node:child_process';
import { accessSync, constants, existsSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import type { DhcpOption } from '../config/dns.js';
import type { DaemonLog } from './log.js';

/** How long resolvectl/resolvconf may take. */
export const DNS_TOOL_TIMEOUT_MS = 15_000;

export type DnsBackend = { kind: 'resolvectl' | 'resolvconf'; path: string };

export class DnsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DnsError';
  }
}

function findProgram(name: string): string | undefined {
  const dirs = [...(process.env['PATH'] ?? '').split(delimiter), '/usr/sbin', '/sbin', '/usr/bin', '/bin'];
  for (const d of dirs) {
    if (!d) continue;
    const p = join(d, name);
    try {
      accessSync(p, constants.X_OK);
      return p;
    } catch {
      // next
    }
  }
  return undefined;
}

/** The resolver manager of this host, if kovpn knows one. */
export function detectDnsBackend(): DnsBackend | undefined {
  const resolvectl = findProgram('resolvectl');
  if (resolvectl && existsSync('/run/systemd/resolve/io.systemd.Resolve')) return { kind: 'resolvectl', path: resolvectl };
  const resolvconf = findProgram('resolvconf');
  if (resolvconf) return { kind: 'resolvconf', path: resolvconf };
  return undefined;
}

function run(path: string, args: string[], input?: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = execFile(path, args, { timeout: DNS_TOOL_TIMEOUT_MS, encoding: 'utf8' }, (err, _stdout, stderr) => {
      if (!err) return resolve();
      const why = err.killed ? `no answer within ${DNS_TOOL_TIMEOUT_MS / 1000} s` : (stderr.trim().split('\n').pop() || err.message);
      reject(new DnsError(`${path} ${args.join(' ')}: ${why}`));
    });
    child.stdin?.end(input ?? '');
  });
}

export interface DnsSettings {
  servers: string[];
  domains: string[];
}

export function dnsSettings(options: readonly DhcpOption[]): DnsSettings {
  const servers: string[] = [];
  const domains: string[] = [];
  for (const o of options) {
    if ((o.type === 'DNS' || o.type === 'DNS6') && o.value && !servers.includes(o.value)) servers.push(o.value);
    if ((o.type === 'DOMAIN' || o.type === 'DOMAIN-SEARCH') && o.value && !domains.includes(o.value)) domains.push(o.value);
  }
  return { servers, domains };
}

/** The resolv.conf lines a resolvconf record carries. */
export function resolvConfRecord(s: DnsSettings): string {
  return `${s.domains.length > 0 ? `search ${s.domains.join(' ')}\n` : ''}${s.servers.map((n) => `nameserver ${n}\n`).join('')}`;
}

export interface AppliedDns {
  undo(): Promise<void>;
}

/**
 * Applies `options` for `dev`; undefined when there was nothing to apply or no way to (then
 * warned). A failing tool is an error (DnsError): the tunnel would otherwise run with DNS
 * outside it without the user knowing.
 */
export async function applyDns(dev: string, options: readonly DhcpOption[], log: DaemonLog, backend = detectDnsBackend()): Promise<AppliedDns | undefined> {
  const s = dnsSettings(options);
  if (s.servers.length === 0 && s.domains.length === 0) return undefined;
  const what = [...s.servers.map((x) => `DNS ${x}`), ...s.domains.map((x) => `DOMAIN ${x}`)].join(', ');
  if (!backend) {
    log.log('warn', `dhcp-option ${what} not applied: neither resolvectl (systemd-resolved) nor resolvconf is installed, ` +
      'DNS stays as it is (install one, or give an `up` script such as update-resolv-conf)');
    return undefined;
  }
  if (backend.kind === 'resolvectl') {
    if (s.servers.length > 0) await run(backend.path, ['dns', dev, ...s.servers]);
    if (s.domains.length > 0) await run(backend.path, ['domain', dev, ...s.domains]).catch(async (err: unknown) => {
      await run(backend.path, ['revert', dev]).catch(() => undefined);
      throw err;
    });
  } else {
    await run(backend.path, ['-a', `${dev}.openvpn`], resolvConfRecord(s));
  }
  log.log('info', `DNS through ${backend.kind}: ${what} on ${dev}`);
  let undone = false;
  return {
    async undo() {
      if (undone) return;
      undone = true;
      const args = backend.kind === 'resolvectl' ? ['revert', dev] : ['-d', `${dev}.openvpn`];
      await run(backend.path, args).catch((err: unknown) => log.log('error', `DNS not reverted: ${(err as Error).message}`));
    },
  };
}
