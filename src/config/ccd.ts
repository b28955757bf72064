/**
 * Per-client records of a server (`client-config-dir`): a file named after the client's
 * certificate common name with `ifconfig-push <address> <netmask>` (fixed address),
 * `iroute <network> <netmask>` (networks behind the client), `push "<option>"` (extra options
 * for this client) and `disable` (refuse it). Read when the client connects.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError } from './errors.js';
import { pushLineProblem } from './push-check.js';
import { tokenize } from './tokenize.js';
import { parseClientIpv6Directive, type ClientIpv6Record } from './ipv6-tunnel.js';

export interface ClientRecord {
  file: string;
  ifconfigPush?: { address: string; netmask: string };
  iroutes: { network: string; netmask: string }[];
  push: string[];
  disable: boolean;
  /** `ifconfig-ipv6-push`, `iroute-ipv6` (src/config/ipv6-tunnel.ts). */
  ipv6: ClientIpv6Record;
}

const IPV4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;
/** Names OpenVPN would accept as a file name: no path separators, no leading dot. */
const SAFE_NAME = /^[A-Za-z0-9_@][A-Za-z0-9_.@=-]*$/;

/**
 * The record of `commonName` in `dir`, or undefined if there is none. A name that cannot
 * be a file name, or a file that does not parse, is a ConfigError (the client is refused).
 */
export function loadClientRecord(dir: string, commonName: string, read = (p: string) => readFileSync(p, 'utf8')): ClientRecord | undefined {
  if (!SAFE_NAME.test(commonName)) {
    throw new ConfigError(dir, 0, `client name '${commonName}' cannot name a client-config-dir file`);
  }
  const file = join(dir, commonName);
  let text: string;
  try {
    text = read(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new ConfigError(file, 0, `cannot read: ${(err as Error).message}`);
  }
  const rec: ClientRecord = { file, iroutes: [], push: [], disable: false, ipv6: { iroutes: [] } };
  for (const d of tokenize(text, file)) {
    const e = (msg: string) => new ConfigError(file, d.line, `${d.name}: ${msg}`);
    const ip = (s: string | undefined, what: string) => {
      const m = s === undefined ? null : IPV4.exec(s);
      if (!m || m.slice(1).some((o) => Number(o) > 255)) throw e(`${what} '${s ?? ''}' is not an IPv4 address`);
      return s!;
    };
    switch (d.name) {
      case 'ifconfig-push':
        if (d.args.length !== 2) throw e(`expects <address> <netmask>, got ${d.args.length} arguments`);
        rec.ifconfigPush = { address: ip(d.args[0], 'address'), netmask: ip(d.args[1], 'netmask') };
        break;
      case 'iroute':
        if (d.args.length < 1 || d.args.length > 2) throw e(`expects <network> [netmask], got ${d.args.length} arguments`);
        rec.iroutes.push({ network: ip(d.args[0], 'network'), netmask: d.args[1] ? ip(d.args[1], 'netmask') : '255.255.255.255' });
        break;
      case 'push':
        if (d.args.length !== 1) throw e('expects one quoted option');
        {
          const problem = pushLineProblem(d.args[0]!);
          if (problem) throw e(`"${d.args[0]}": ${problem}`);
        }
        rec.push.push(d.args[0]!);
        break;
      case 'disable':
        rec.disable = true;
        break;
      default:
        try {
          if (parseClientIpv6Directive(d, rec.ipv6)) break;
        } catch (x) {
          throw e((x as Error).message);
        }
        throw e('not supported in a client-config-dir file (ifconfig-push, iroute, ifconfig-ipv6-push, iroute-ipv6, push, disable)');
    }
  }
  return rec;
}
