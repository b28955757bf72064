/**
 * Reads the common subset of OpenVPN 2.x client and server configuration files
 * (`.conf`/`.ovpn`, inline `<ca>`/`<cert>`/`<key>`/`<crl-verify>` blocks) into a KovpnConfig.
 * Directives that do not change what kovpn does are listed in `ignored` with the reason;
 * directives kovpn cannot honour safely (tls-auth, tap, tcp, ...) are errors, since ignoring
 * them would silently change security or fail later. A directive OpenVPN does not know either
 * (a misspelling such as `remote-cert-tsl`) is an error, as in OpenVPN, unless named by
 * `ignore-unknown-option` before it or given as `setenv opt <directive>`. Files are read up to a
 * size limit (a `ca /dev/zero` fails at once).
 */
import { randomInt } from 'node:crypto';
import { closeSync, openSync, readSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { DEFAULT_DATA_CIPHERS, parseCipherList, type DataCipher } from '../control/ciphers.js';
import { IGNORED, UNSUPPORTED, WARNED } from './directive-table.js';
import { OPENVPN_DIRECTIVES } from './directives.js';
import { AUTH_DIRECTIVES, AuthDirectiveError, AuthDirectives, LineError } from './auth-user-pass.js';
import { checkCredentials } from './check-credentials.js';
import { parseCompression } from './compression.js';
import { ConfigError } from './errors.js';
import { FULL_TUNNEL_DIRECTIVES, FullTunnelDirectives } from './full-tunnel.js';
import { pushLineProblem } from './push-check.js';
import { parseIpv6TunnelDirective, resolveIpv6Tunnel, type Ipv6TunnelDirectives } from './ipv6-tunnel.js';
import { tokenize, type Directive } from './tokenize.js';
import { WrapConfigProblem, parseKeyDirection, resolveTlsWrap, type WrapDirectives } from './tls-wrap.js';
import { TransportProblem, newTransportDirectives, parseTransportDirective, resolveTransport } from './transport.js';
import type { IgnoredDirective, KovpnConfig } from './types.js';

const IPV4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;

/** Largest file read (a configuration with inline blocks, a CRL, a certificate chain). */
export const MAX_FILE_BYTES = 16 << 20;

/** Reads a text file of at most `max` bytes; a larger one (or an endless device) is an error. */
export function readLimited(path: string, max = MAX_FILE_BYTES): string {
  const fd = openSync(path, 'r');
  try {
    const chunks: Buffer[] = [];
    let total = 0;
    for (;;) {
      const buf = Buffer.alloc(Math.min(1 << 20, max + 1 - total));
      const n = readSync(fd, buf, 0, buf.length, null);
      if (n === 0) break;
      chunks.push(buf.subarray(0, n));
      total += n;
      if (total > max) throw new Error(`larger than ${max} bytes`);
    }
    return Buffer.concat(chunks).toString('utf8');
  } finally {
    closeSync(fd);
  }
}

export interface LoadOptions {
  /** Read referenced files (default: readLimited). */
  readFile?(path: string): string;
}

export function loadOpenVpnConfig(file: string, opts: LoadOptions = {}): KovpnConfig {
  let text: string;
  try {
    text = (opts.readFile ?? readLimited)(file);
  } catch (err) {
    throw new ConfigError(file, 0, `cannot read: ${(err as Error).message}`);
  }
  const cfg = parseOpenVpnConfig(text, file, opts);
  checkCredentials(cfg);
  if (cfg.remoteRandom) shuffle(cfg.remotes);
  return cfg;
}

/** Fisher-Yates, in place (`remote-random`: a new order at each start, as OpenVPN). */
function shuffle<T>(list: T[]): void {
  for (let i = list.length - 1; i > 0; i--) {
    const j = randomInt(i + 1);
    [list[i], list[j]] = [list[j]!, list[i]!];
  }
}

/** Levenshtein distance, for suggesting the directive a misspelt one meant. */
function distance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = cur;
  }
  return prev[b.length]!;
}

/** " (did you mean 'x'?)" for the nearest known directive within two edits, else "". */
function suggestion(name: string): string {
  let best: string | undefined;
  let bestD = 3;
  for (const known of [...OPENVPN_DIRECTIVES, 'kovpn-psk', 'kovpn-psk-identity']) {
    const d = distance(name, known);
    if (d < bestD) { bestD = d; best = known; }
  }
  return best ? ` (did you mean '${best}'?)` : '';
}

/**
 * The key of `kovpn-psk`: hex, or canonical base64, of at least 32 bytes. Anything else (a
 * passphrase, a certificate, some other file) is refused rather than read leniently.
 */
function parsePsk(text: string): Buffer | string {
  const body = text.replace(/^\s*#.*$/gm, '').replace(/\s+/g, '');
  if (body === '') return 'the pre-shared key is empty';
  let bytes: Buffer;
  if (/^[0-9a-fA-F]+$/.test(body) && body.length % 2 === 0) {
    bytes = Buffer.from(body, 'hex');
  } else if (/^[A-Za-z0-9+/]+={0,2}$/.test(body) && body.length % 4 === 0 && Buffer.from(body, 'base64').toString('base64') === body) {
    bytes = Buffer.from(body, 'base64');
  } else {
    return 'the pre-shared key is neither hex nor base64 (a passphrase, a certificate or another file?)';
  }
  if (bytes.length < 32) return `the pre-shared key has ${bytes.length} bytes`;
  return bytes;
}

export function parseOpenVpnConfig(text: string, file: string, opts: LoadOptions = {}): KovpnConfig {
  const read = opts.readFile ?? ((p: string) => readLimited(p));
  const baseDir = dirname(resolve(file));
  const ignored: IgnoredDirective[] = [];
  const err = (d: Directive, msg: string) => new ConfigError(file, d.line, `${d.name}: ${msg}`);
  const nargs = (d: Directive, min: number, max = min) => {
    if (d.args.length < min || d.args.length > max) {
      throw err(d, `expects ${min === max ? min : `${min} to ${max}`} argument${max === 1 ? '' : 's'}, got ${d.args.length}`);
    }
  };
  const ipv4 = (d: Directive, s: string, what: string) => {
    const m = IPV4.exec(s);
    if (!m || m.slice(1).some((o) => Number(o) > 255)) throw err(d, `${what} '${s}' is not an IPv4 address`);
    return s;
  };
  const int = (d: Directive, s: string, what: string, min: number, max: number) => {
    const n = /^\d+$/.test(s) ? Number(s) : NaN;
    if (!(n >= min && n <= max)) throw err(d, `${what} '${s}' is not a number in ${min}..${max}`);
    return n;
  };
  const pem = (d: Directive): string => {
    if (d.inline !== undefined) return d.inline;
    nargs(d, 1);
    const p = resolve(baseDir, d.args[0]!);
    try {
      return read(p);
    } catch (e) {
      throw err(d, `cannot read ${p}: ${(e as Error).message}`);
    }
  };

  let mode: 'client' | 'server' | 'p2p' | undefined;
  let tlsRole: 'client' | 'server' | undefined;
  let pull = false;
  let ifconfig: { local: string; remote: string } | undefined;
  let dev: string | undefined;
  const transport = newTransportDirectives();
  const remotes = transport.remotes;
  let port = 1194;
  let portSet = false;
  let bind: boolean | undefined;
  let ca: string | undefined;
  let cert: string | undefined;
  let key: string | undefined;
  let crl: string | undefined;
  let dataCiphers: DataCipher[] = DEFAULT_DATA_CIPHERS;
  let keepalive: KovpnConfig['keepalive'];
  const ping: { interval?: number; restart?: number; line?: number } = {};
  let remoteRandom = false;
  let server: KovpnConfig['server'];
  let pool: KovpnConfig['pool'];
  const push: string[] = [];
  let maxClients: number | undefined;
  let renegSec = 3600;
  let handWindow = 60;
  let remoteCertTls: KovpnConfig['remoteCertTls'];
  let verifyX509Name: KovpnConfig['verifyX509Name'];
  let verb = 1;
  let clientConfigDir: string | undefined;
  let ccdExclusive = false;
  let psk: { identity: string; key: Buffer } | undefined;
  let pskIdentity: string | undefined;
  let rport: number | undefined;
  let writepid: string | undefined;
  const wrap: WrapDirectives = {};
  let compression: KovpnConfig['compression'];
  let devAuto = false;
  let connectRetry: KovpnConfig['connectRetry'];
  let connectRetryMax: number | undefined;
  let connectTimeout: number | undefined;
  let authRetry: KovpnConfig['authRetry'];
  let routes: KovpnConfig['routes'];
  let routeNopull = false;
  let pullFilter: KovpnConfig['pullFilter'];
  const ipv6Lines: Ipv6TunnelDirectives = { routes: [] };
  const takeIpv6 = (d: Directive): boolean => {
    let r;
    try { r = parseIpv6TunnelDirective(d, ipv6Lines, file); } catch (e) { throw err(d, (e as Error).message); }
    if (typeof r === 'object') ignored.push({ line: d.line, directive: [d.name, ...d.args].join(' '), why: r.ignored, level: 'info' });
    return r !== false;
  };
  const fullTunnel = new FullTunnelDirectives();

  /** Unknown directives to ignore (ignore-unknown-option), as OpenVPN: for lines after it. */
  const ignoreUnknown = new Set<string>();
  const credentialLines: NonNullable<KovpnConfig['credentialLines']> = {};
  const auth = new AuthDirectives(file, baseDir);
  for (let d of tokenize(text, file)) {
    // `setenv opt <directive>`: the directive, ignored if unknown.
    let optional = false;
    if (d.name === 'setenv' && d.args[0] === 'opt' && d.args.length >= 2) {
      d = { ...d, name: d.args[1]!, args: d.args.slice(2) };
      optional = true;
    }
    if (AUTH_DIRECTIVES.has(d.name)) {
      try {
        auth.take(d);
      } catch (e) {
        throw err(d, (e as Error).message);
      }
      // script-security: the verify script's and the client scripts' level, both take it
      if (!FULL_TUNNEL_DIRECTIVES.has(d.name)) continue;
    }
    if (d.inline !== undefined && !['ca', 'cert', 'key', 'crl-verify', 'kovpn-psk', 'tls-auth', 'tls-crypt', 'tls-crypt-v2'].includes(d.name)) {
      if (UNSUPPORTED[d.name]) throw err(d, UNSUPPORTED[d.name]!);
      if (!OPENVPN_DIRECTIVES.has(d.name) && d.name !== 'connection') throw err({ ...d, name: `<${d.name}>` }, `unknown inline block${suggestion(d.name)}`);
      ignored.push({ line: d.line, directive: `<${d.name}>`, why: 'inline block kovpn does not use', level: 'warn' });
      continue;
    }
    if (FULL_TUNNEL_DIRECTIVES.has(d.name)) {
      const problem = fullTunnel.add(d, `${file}:${d.line}`);
      if (problem) throw err(d, problem);
      continue;
    }
    try {
      if (parseTransportDirective(d, transport, (s) => int(d, s, 'port', 1, 65535))) continue;
    } catch (e) {
      if (e instanceof TransportProblem) throw new ConfigError(file, e.line, e.message);
      throw e;
    }
    switch (d.name) {
      case 'client': nargs(d, 0); mode = 'client'; break;
      case 'mode':
        nargs(d, 1);
        if (d.args[0] === 'server') mode = 'server';
        else if (d.args[0] !== 'p2p') throw err(d, `mode '${d.args[0]}' is not server or p2p`);
        break;
      case 'tls-client': case 'tls-server':
        nargs(d, 0);
        tlsRole = d.name === 'tls-client' ? 'client' : 'server';
        break;
      case 'pull': nargs(d, 0); pull = true; break;
      case 'ifconfig':
        nargs(d, 2);
        ifconfig = { local: ipv4(d, d.args[0]!, 'local address'), remote: ipv4(d, d.args[1]!, 'remote address') };
        break;
      case 'server': {
        nargs(d, 2, 3);
        server = { network: ipv4(d, d.args[0]!, 'network'), netmask: ipv4(d, d.args[1]!, 'netmask') };
        mode = 'server';
        break;
      }
      case 'dev':
        nargs(d, 1);
        if (d.args[0]!.startsWith('tap')) throw err(d, `'${d.args[0]}' is a TAP device; only tun is supported`);
        dev = d.args[0] === 'tun' ? 'tun0' : d.args[0]!;
        devAuto = d.args[0] === 'tun';
        if (!/^[A-Za-z0-9_.-]{1,15}$/.test(dev)) throw err(d, `'${dev}' is not a valid interface name (1-15 characters)`);
        break;
      case 'dev-type':
        nargs(d, 1);
        if (d.args[0] !== 'tun') throw err(d, `'${d.args[0]}': only tun is supported`);
        break;
      case 'port': case 'lport': case 'rport': {
        nargs(d, 1);
        const p = int(d, d.args[0]!, 'port', 1, 65535);
        if (d.name !== 'rport') { port = p; portSet = true; }
        if (d.name !== 'lport') for (const r of remotes) if (r.port === -1) r.port = p;
        if (d.name === 'rport') rport = p;
        break;
      }
      case 'nobind': nargs(d, 0); bind = false; break;
      case 'bind': bind = true; break;
      case 'ca': ca = pem(d); credentialLines.ca = d.line; break;
      case 'cert': cert = pem(d); credentialLines.cert = d.line; break;
      case 'key': key = pem(d); credentialLines.key = d.line; break;
      case 'crl-verify':
        credentialLines.crl = d.line;
        if (d.args[1] === 'dir') throw err(d, 'a CRL directory is not supported; give a CRL file');
        crl = d.inline ?? pem({ ...d, args: d.args.slice(0, 1) });
        break;
      case 'data-ciphers': case 'ncp-ciphers': {
        nargs(d, 1);
        const { known, unknown } = parseCipherList(d.args[0]!);
        if (known.length === 0) throw err(d, `none of '${d.args[0]}' is supported (AES-128/192/256-GCM, CHACHA20-POLY1305)`);
        if (unknown.length > 0) ignored.push({ line: d.line, directive: `data-ciphers ${unknown.join(':')}`, why: 'ciphers kovpn does not implement' });
        dataCiphers = known;
        break;
      }
      case 'keepalive': {
        nargs(d, 2);
        const interval = int(d, d.args[0]!, 'interval', 1, 86400);
        const timeout = int(d, d.args[1]!, 'timeout', 1, 86400);
        if (timeout < interval * 2) throw err(d, `timeout ${timeout} s should be at least twice the interval ${interval} s`);
        keepalive = { interval, timeout };
        break;
      }
      case 'ping': nargs(d, 1); ping.interval = int(d, d.args[0]!, 'seconds', 0, 86400); ping.line = d.line; break;
      case 'ping-restart': nargs(d, 1); ping.restart = int(d, d.args[0]!, 'seconds', 0, 86400); ping.line = d.line; break;
      case 'remote-random': nargs(d, 0); remoteRandom = true; break;
      case 'topology':
        nargs(d, 1);
        if (d.args[0] !== 'subnet') throw err(d, `topology '${d.args[0]}' is not supported; use topology subnet`);
        break;
      case 'ifconfig-pool':
        nargs(d, 2, 3);
        pool = { start: ipv4(d, d.args[0]!, 'start'), end: ipv4(d, d.args[1]!, 'end') };
        break;
      case 'push': {
        nargs(d, 1);
        const problem = pushLineProblem(d.args[0]!);
        if (problem) throw err(d, `"${d.args[0]}": ${problem}`);
        push.push(d.args[0]!);
        break;
      }
      case 'client-config-dir': nargs(d, 1); clientConfigDir = resolve(baseDir, d.args[0]!); break;
      case 'ccd-exclusive': nargs(d, 0); ccdExclusive = true; break;
      case 'max-clients': nargs(d, 1); maxClients = int(d, d.args[0]!, 'count', 1, 0xffffff); break;
      case 'reneg-sec': nargs(d, 1, 2); renegSec = int(d, d.args[0]!, 'seconds', 0, 0x7fffffff); break;
      case 'hand-window': nargs(d, 1); handWindow = int(d, d.args[0]!, 'seconds', 1, 0x7fffffff); break;
      case 'remote-cert-tls':
        nargs(d, 1);
        if (d.args[0] !== 'server' && d.args[0] !== 'client') throw err(d, `'${d.args[0]}' is not server or client`);
        remoteCertTls = d.args[0];
        break;
      case 'verify-x509-name': {
        nargs(d, 1, 2);
        const type = d.args[1] ?? 'subject';
        if (type !== 'name' && type !== 'name-prefix' && type !== 'subject') throw err(d, `type '${type}' is not name, name-prefix or subject`);
        verifyX509Name = { name: d.args[0]!, type };
        break;
      }
      case 'kovpn-psk': {
        const bytes = parsePsk(pem(d));
        if (typeof bytes === 'string') {
          throw err(d, `${bytes}; at least 32 random bytes are needed, hex or base64, e.g. \`openssl rand -hex 32\``);
        }
        psk = { identity: psk?.identity ?? 'kovpn', key: bytes };
        break;
      }
      case 'ignore-unknown-option':
        if (d.args.length === 0) throw err(d, 'expects at least 1 argument, got 0');
        for (const a of d.args) ignoreUnknown.add(a);
        break;
      case 'kovpn-psk-identity':
        nargs(d, 1);
        pskIdentity = d.args[0]!;
        break;
      case 'tls-auth': {
        if (d.inline === undefined) nargs(d, 1, 2);
        let direction: 0 | 1 | undefined;
        try {
          direction = parseKeyDirection(d.inline === undefined ? d.args[1] : undefined);
        } catch (e) {
          throw err(d, (e as Error).message);
        }
        wrap.tlsAuth = { text: pem({ ...d, args: d.args.slice(0, 1) }), line: d.line, ...(direction !== undefined ? { direction } : {}) };
        break;
      }
      case 'tls-crypt': wrap.tlsCrypt = { text: pem(d), line: d.line }; break;
      case 'tls-crypt-v2':
        if (d.inline === undefined && d.args[1] === 'force-cookie') d = { ...d, args: d.args.slice(0, 1) };
        else if (d.inline === undefined && d.args[1] === 'allow-noncookie') throw err(d, 'allow-noncookie is not supported: kovpn answers only clients that can resend their key (OpenVPN 2.6+)');
        wrap.tlsCryptV2 = { text: pem(d), line: d.line };
        break;
      case 'key-direction':
        nargs(d, 1);
        try {
          wrap.keyDirection = parseKeyDirection(d.args[0]);
        } catch (e) {
          throw err(d, (e as Error).message);
        }
        break;
      case 'auth': nargs(d, 1); wrap.auth = { name: d.args[0]!, line: d.line }; break;
      case 'verb': nargs(d, 1); verb = int(d, d.args[0]!, 'level', 0, 11); break;
      case 'route': {
        nargs(d, 1, 4);
        const gw = d.args[2];
        const r: NonNullable<KovpnConfig['routes']>[number] = {
          network: ipv4(d, d.args[0]!, 'network'), netmask: d.args[1] && d.args[1] !== 'default' ? ipv4(d, d.args[1], 'netmask') : '255.255.255.255',
          where: `${file}:${d.line}`,
        };
        if (gw && gw !== 'vpn_gateway' && gw !== 'default') {
          if (gw === 'net_gateway' || gw === 'remote_host') throw err(d, `gateway '${gw}' (a route outside the tunnel) is not supported; kovpn routes only through the tunnel`);
          r.gateway = ipv4(d, gw, 'gateway');
        }
        if (d.args[3] && d.args[3] !== 'default') r.metric = int(d, d.args[3], 'metric', 0, 0x7fffffff);
        (routes ??= []).push(r);
        break;
      }
      case 'route-nopull': nargs(d, 0); routeNopull = true; break;
      case 'pull-filter':
        nargs(d, 2);
        if (d.args[0] !== 'accept' && d.args[0] !== 'ignore' && d.args[0] !== 'reject') throw err(d, `'${d.args[0]}' is not accept, ignore or reject`);
        (pullFilter ??= []).push({ action: d.args[0], text: d.args[1]! });
        break;
      case 'connect-retry':
        nargs(d, 1, 2);
        connectRetry = { seconds: int(d, d.args[0]!, 'seconds', 0, 86400), maxSeconds: d.args[1] ? int(d, d.args[1], 'max seconds', 1, 86400) : 300 };
        break;
      case 'connect-retry-max': nargs(d, 1); connectRetryMax = int(d, d.args[0]!, 'attempts', 1, 0x7fffffff); break;
      case 'connect-timeout': case 'server-poll-timeout': nargs(d, 1); connectTimeout = int(d, d.args[0]!, 'seconds', 1, 86400); break;
      case 'auth-retry':
        nargs(d, 1);
        if (d.args[0] !== 'none' && d.args[0] !== 'nointeract' && d.args[0] !== 'interact') throw err(d, `'${d.args[0]}' is not none, nointeract or interact`);
        authRetry = d.args[0];
        break;
      case 'comp-lzo': case 'compress': case 'allow-compression': {
        const c = parseCompression(d);
        if (typeof c === 'string') throw err(d, c);
        if (c.framing) compression = { framing: c.framing, where: `${file}:${d.line}` };
        if (c.warn) ignored.push({ line: d.line, directive: [d.name, ...d.args].join(' '), why: c.warn, level: 'warn' });
        break;
      }
      case 'writepid': nargs(d, 1); writepid = resolve(baseDir, d.args[0]!); break;
      default: {
        if (takeIpv6(d)) break;
        if (UNSUPPORTED[d.name]) throw err(d, UNSUPPORTED[d.name]!);
        const directive = [d.name, ...d.args].join(' ');
        if (WARNED[d.name]) {
          ignored.push({ line: d.line, directive, why: WARNED[d.name]!, level: 'warn' });
        } else if (IGNORED[d.name]) {
          ignored.push({ line: d.line, directive, why: IGNORED[d.name]!, level: 'info' });
        } else if (OPENVPN_DIRECTIVES.has(d.name)) {
          ignored.push({ line: d.line, directive, why: 'an OpenVPN option kovpn does not implement', level: 'warn' });
        } else if (optional || ignoreUnknown.has(d.name)) {
          ignored.push({ line: d.line, directive, why: `unknown option, ignored (${optional ? 'setenv opt' : 'ignore-unknown-option'})`, level: 'warn' });
        } else {
          throw err(d, `unknown directive${suggestion(d.name)}; OpenVPN refuses it too (\`ignore-unknown-option ${d.name}\` before it ignores it)`);
        }
      }
    }
  }

  const top = (msg: string) => new ConfigError(file, 0, msg);
  if (!mode && tlsRole === 'client' && pull) mode = 'client';
  if (!mode && tlsRole) mode = 'p2p';
  if (!mode) throw top('neither `client`, `server`/`mode server` nor `tls-client`/`tls-server` (peer-to-peer) is set');
  if (psk) {
    if (ca || cert || key) throw top('give either `kovpn-psk` or ca/cert/key, not both');
    if (pskIdentity) psk.identity = pskIdentity;
  } else {
    if (!ca) throw top('no `ca` (CA certificate) given');
    // A client with auth-user-pass may go without a certificate (the server's verify-client-cert none).
    const certless = mode === 'client' && auth.clientWithoutCert && !cert && !key;
    if (!cert && !certless) throw top('no `cert` (own certificate) given');
    if (!key && !certless) throw top('no `key` (own private key) given');
  }
  if (mode === 'client') {
    if (remotes.length === 0) throw top('client without any `remote`');
    for (const r of remotes) if (r.port === -1) r.port = rport ?? (portSet ? port : 1194);
  } else if (mode === 'p2p') {
    if (!tlsRole) throw top('peer-to-peer mode needs `tls-client` on one side and `tls-server` on the other');
    if (!ifconfig) throw top('peer-to-peer mode needs `ifconfig <local> <remote>`');
    if (remotes.length !== 1) throw top(`peer-to-peer mode needs exactly one \`remote\`, got ${remotes.length}`);
    for (const r of remotes) if (r.port === -1) r.port = rport ?? port;
  } else if (!server) {
    throw top('server without `server <network> <netmask>`');
  }
  let transportCfg;
  try {
    transportCfg = resolveTransport(transport, mode);
  } catch (e) {
    if (e instanceof TransportProblem) throw new ConfigError(file, e.line, e.message);
    throw e;
  }
  let tlsWrap;
  try {
    tlsWrap = resolveTlsWrap(wrap, mode === 'server' ? 'server' : mode === 'client' ? 'client' : tlsRole!);
  } catch (e) {
    if (e instanceof WrapConfigProblem) throw new ConfigError(file, e.line, e.message);
    throw e;
  }
  const cfg: KovpnConfig = {
    file, mode, dev: dev ?? 'tun0', proto: 'udp', remotes, port,
    bind: bind ?? mode !== 'client', dataCiphers, topology: 'subnet', push, renegSec, handWindow, verb, ignored,
  };
  if (clientConfigDir) cfg.clientConfigDir = clientConfigDir;
  if (ccdExclusive) {
    if (!clientConfigDir) throw top('`ccd-exclusive` needs `client-config-dir`');
    cfg.ccdExclusive = true;
  }
  if (psk) cfg.psk = psk;
  else Object.assign(cfg, { ca, cert, key, credentialLines });
  if (mode === 'p2p') cfg.p2p = { tlsRole: tlsRole!, ifconfig: ifconfig! };
  if (transport.local) cfg.local = transport.local.address;
  if (transportCfg.family !== 'any' || transportCfg.ipv6Only || transportCfg.tcp) cfg.transport = transportCfg;
  if (crl) cfg.crl = crl;
  if (ping.line !== undefined) {
    if (keepalive) {
      throw new ConfigError(file, ping.line, 'keepalive conflicts with ping/ping-restart (keepalive sets both), as in OpenVPN; keep one of them');
    }
    if (mode === 'server') {
      ignored.push({ line: ping.line, directive: 'ping/ping-restart', level: 'warn',
        why: 'a kovpn server takes its timers from `keepalive` (which it also pushes to clients)' });
    } else {
      // As OpenVPN: `keepalive a b` is `ping a` + `ping-restart b`; 0 (or absent) is off.
      keepalive = { interval: ping.interval ?? 0, timeout: ping.restart ?? 0 };
    }
  }
  if (keepalive && (keepalive.interval > 0 || keepalive.timeout > 0)) cfg.keepalive = keepalive;
  if (remoteRandom && mode === 'client') cfg.remoteRandom = true;
  if (server) cfg.server = server;
  if (pool) cfg.pool = pool;
  if (maxClients !== undefined) cfg.maxClients = maxClients;
  if (remoteCertTls) cfg.remoteCertTls = remoteCertTls;
  if (verifyX509Name) cfg.verifyX509Name = verifyX509Name;
  if (writepid) cfg.writepid = writepid;
  if (tlsWrap) cfg.tlsWrap = tlsWrap;
  if (wrap.auth && tlsWrap?.kind !== 'tls-auth') {
    ignored.push({ line: wrap.auth.line, directive: `auth ${wrap.auth.name}`, why: 'data channel ciphers are AEAD; auth only sets the tls-auth digest', level: 'info' });
  }
  if (compression) cfg.compression = compression;
  if (devAuto) cfg.devAuto = true;
  if (connectRetry) cfg.connectRetry = connectRetry;
  if (connectRetryMax !== undefined) cfg.connectRetryMax = connectRetryMax;
  if (connectTimeout !== undefined) cfg.connectTimeout = connectTimeout;
  if (authRetry) cfg.authRetry = authRetry;
  if (routes && mode === 'server') {
    for (const r of routes) {
      ignored.push({ line: Number(r.where.slice(r.where.lastIndexOf(':') + 1)), directive: `route ${r.network} ${r.netmask}`, level: 'warn',
        why: "a kovpn server installs a route for each client's iroute (client-config-dir) when it connects; this line adds none" });
    }
  } else if (routes) cfg.routes = routes;
  if (routeNopull) cfg.routeNopull = true;
  if (pullFilter) cfg.pullFilter = pullFilter;
  try { const v6 = resolveIpv6Tunnel(ipv6Lines, mode, ignored); if (v6) cfg.ipv6 = v6; } catch (e) { throw top((e as Error).message); }
  const fullTunnelProblem = fullTunnel.finish(cfg);
  if (fullTunnelProblem) throw new ConfigError(file, fullTunnelProblem.line, fullTunnelProblem.message);
  try {
    const a = auth.finish(mode);
    if (a.client) cfg.authUserPass = a.client;
    if (a.server) cfg.authVerify = a.server;
    ignored.push(...a.ignored);
  } catch (e) {
    if (e instanceof LineError) throw new ConfigError(file, e.line, e.message);
    if (e instanceof AuthDirectiveError) throw top(e.message);
    throw e;
  }
  return cfg;
}
