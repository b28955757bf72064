/**
 * PUSH_REPLY: the options a server pushes to a client, comma separated after `PUSH_REPLY,`.
 * Parsing keeps what the data path and the client need and lists everything else as ignored.
 * Building produces one or more messages (split with `push-continuation` when long).
 */
import { ControlError } from './errors.js';
import { framingDirective, parseCompression } from '../config/compression.js';
import type { CompFraming } from '../wire/comp-framing.js';
import { canonicalIpv6, maskIpv6, parseIpv6Prefix } from '../config/ipv6-tunnel.js';

export type Topology = 'subnet' | 'net30' | 'p2p';

export interface PushedRoute {
  network: string;
  netmask: string;
  gateway?: string;
  metric?: number;
}

/** `route-ipv6 network/bits [gateway] [metric]`. */
export interface PushedRoute6 {
  network: string;
  bits: number;
  gateway?: string;
  metric?: number;
}

export interface PushOptions {
  /** `ifconfig local netmask` (subnet) or `ifconfig local remote` (net30/p2p). */
  ifconfig?: { local: string; second: string };
  /** `ifconfig-ipv6 local/bits remote`: the client's IPv6 address and the server's. */
  ifconfigIpv6?: { local: string; bits: number; remote: string };
  routes: PushedRoute[];
  routesIpv6?: PushedRoute6[];
  routeGateway?: string;
  topology?: Topology;
  peerId?: number;
  cipher?: string;
  ping?: number;
  pingRestart?: number;
  tunMtu?: number;
  /** protocol-flags words, e.g. cc-exit, tls-ekm, dyn-tls-crypt. */
  protocolFlags: string[];
  /** 2.5-style `key-derivation tls-ekm`. */
  keyDerivation?: string;
  /** Pushed `comp-lzo no` / `compress [stub|stub-v2]`: the framing the server uses. */
  compression?: CompFraming;
  /** `auth-token`: a session token the client sends instead of its password from now on (never logged). */
  authToken?: string;
  /** `auth-token-user`: the username to send with the token (decoded from base64). */
  authTokenUser?: string;
  /** Options received verbatim that kovpn does not act on. */
  ignored: string[];
}

export const PUSH_REPLY = 'PUSH_REPLY';
export const PUSH_REQUEST = 'PUSH_REQUEST';
/** Keep each PUSH_REPLY message below this many bytes. */
export const MAX_PUSH_MESSAGE = 1024;

const IPV4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;

function ipv4(s: string | undefined, where: string): string {
  const m = s === undefined ? null : IPV4.exec(s);
  if (!m || m.slice(1).some((o) => Number(o) > 255)) {
    throw new ControlError('push', `PUSH_REPLY ${where}: '${s ?? ''}' is not an IPv4 address`);
  }
  return s!;
}

function ipv6(s: string | undefined, where: string): string {
  const p = parseIpv6Prefix(s, 'address');
  if (typeof p === 'string' || s!.includes('/')) throw new ControlError('push', `PUSH_REPLY ${where}: '${s ?? ''}' is not an IPv6 address`);
  return canonicalIpv6(p.address);
}

function uint(s: string | undefined, where: string, max = 0xffffffff): number {
  const n = s !== undefined && /^\d+$/.test(s) ? Number(s) : NaN;
  if (!(n >= 0 && n <= max)) throw new ControlError('push', `PUSH_REPLY ${where}: '${s ?? ''}' is not a number in 0..${max}`);
  return n;
}

export function emptyPushOptions(): PushOptions {
  return { routes: [], protocolFlags: [], ignored: [] };
}

/**
 * Applies one PUSH_REPLY message to `into` (pass the result of the previous part for
 * continuations). Returns whether more parts follow (`push-continuation 2`).
 */
export function parsePushReply(message: string, into: PushOptions = emptyPushOptions()): { options: PushOptions; more: boolean } {
  if (!message.startsWith(PUSH_REPLY)) throw new ControlError('push', `expected PUSH_REPLY, got '${message.slice(0, 40)}'`);
  let more = false;
  for (const raw of message.slice(PUSH_REPLY.length).split(',')) {
    const opt = raw.trim();
    if (!opt) continue;
    const [name, ...a] = opt.split(/\s+/);
    switch (name) {
      case 'ifconfig':
        into.ifconfig = { local: ipv4(a[0], 'ifconfig'), second: ipv4(a[1], 'ifconfig') };
        break;
      case 'ifconfig-ipv6': {
        const p = parseIpv6Prefix(a[0], 'address');
        if (typeof p === 'string' || p.bits < 64 || p.bits > 124) {
          throw new ControlError('push', `PUSH_REPLY ifconfig-ipv6: ${typeof p === 'string' ? p : `/bits must be between 64 and 124, not /${p.bits}`}`);
        }
        into.ifconfigIpv6 = { local: p.address, bits: p.bits, remote: ipv6(a[1], 'ifconfig-ipv6 remote') };
        break;
      }
      case 'route-ipv6': {
        const p = parseIpv6Prefix(a[0], 'network');
        if (typeof p === 'string') throw new ControlError('push', `PUSH_REPLY route-ipv6: ${p}`);
        const r: PushedRoute6 = { network: maskIpv6(p.address, p.bits), bits: p.bits };
        if (a[1] && a[1] !== 'default' && a[1] !== 'vpn_gateway') r.gateway = ipv6(a[1], 'route-ipv6 gateway');
        if (a[2] && a[2] !== 'default') r.metric = uint(a[2], 'route-ipv6 metric');
        (into.routesIpv6 ??= []).push(r);
        break;
      }
      case 'route': {
        const r: PushedRoute = { network: ipv4(a[0], 'route'), netmask: a[1] ? ipv4(a[1], 'route netmask') : '255.255.255.255' };
        if (a[2] && a[2] !== 'default' && a[2] !== 'vpn_gateway') r.gateway = ipv4(a[2], 'route gateway');
        if (a[3]) r.metric = uint(a[3], 'route metric');
        into.routes.push(r);
        break;
      }
      case 'route-gateway':
        into.routeGateway = ipv4(a[0], 'route-gateway');
        break;
      case 'topology':
        if (a[0] !== 'subnet' && a[0] !== 'net30' && a[0] !== 'p2p') {
          throw new ControlError('push', `PUSH_REPLY topology: '${a[0] ?? ''}' is not subnet, net30 or p2p`);
        }
        into.topology = a[0];
        break;
      case 'peer-id': into.peerId = uint(a[0], 'peer-id', 0xffffff); break;
      case 'cipher': into.cipher = a[0] ?? ''; break;
      case 'ping': into.ping = uint(a[0], 'ping'); break;
      case 'ping-restart': into.pingRestart = uint(a[0], 'ping-restart'); break;
      case 'tun-mtu': into.tunMtu = uint(a[0], 'tun-mtu', 65535); break;
      case 'protocol-flags': into.protocolFlags.push(...a); break;
      case 'key-derivation': into.keyDerivation = a[0] ?? ''; break;
      case 'comp-lzo': case 'compress': {
        const c = parseCompression({ name, args: a });
        if (typeof c === 'string') throw new ControlError('push', `PUSH_REPLY '${opt}': ${c}`);
        if (c.framing) into.compression = c.framing;
        break;
      }
      case 'push-continuation': more = a[0] === '2'; break;
      case 'auth-token': if (a[0]) into.authToken = a[0]; break;
      case 'auth-token-user': {
        const user = a[0] ? Buffer.from(a[0], 'base64').toString('utf8') : '';
        if (user) into.authTokenUser = user;
        break;
      }
      default: into.ignored.push(opt);
    }
  }
  return { options: into, more };
}

/** The option strings of a reply, in the order a stock server sends them. */
export function pushOptionStrings(o: PushOptions): string[] {
  const out: string[] = [];
  for (const r of o.routes) {
    out.push(`route ${r.network} ${r.netmask}${r.gateway ? ` ${r.gateway}` : ''}${r.metric !== undefined ? `${r.gateway ? '' : ' vpn_gateway'} ${r.metric}` : ''}`);
  }
  // a metric without a gateway: '::' (a stock client takes no 'default' in a pushed route-ipv6; on tun the gateway is unused)
  for (const r of o.routesIpv6 ?? []) {
    out.push(`route-ipv6 ${r.network}/${r.bits}${r.gateway || r.metric !== undefined ? ` ${r.gateway ?? '::'}` : ''}${r.metric !== undefined ? ` ${r.metric}` : ''}`);
  }
  if (o.routeGateway) out.push(`route-gateway ${o.routeGateway}`);
  if (o.topology) out.push(`topology ${o.topology}`);
  if (o.ping !== undefined) out.push(`ping ${o.ping}`);
  if (o.pingRestart !== undefined) out.push(`ping-restart ${o.pingRestart}`);
  if (o.ifconfigIpv6) out.push(`ifconfig-ipv6 ${o.ifconfigIpv6.local}/${o.ifconfigIpv6.bits} ${o.ifconfigIpv6.remote}`);
  if (o.ifconfig) out.push(`ifconfig ${o.ifconfig.local} ${o.ifconfig.second}`);
  if (o.peerId !== undefined) out.push(`peer-id ${o.peerId}`);
  if (o.cipher) out.push(`cipher ${o.cipher}`);
  if (o.protocolFlags.length > 0) out.push(`protocol-flags ${o.protocolFlags.join(' ')}`);
  if (o.keyDerivation) out.push(`key-derivation ${o.keyDerivation}`);
  if (o.tunMtu !== undefined) out.push(`tun-mtu ${o.tunMtu}`);
  if (o.compression) out.push(framingDirective(o.compression));
  return out;
}

/** Builds the PUSH_REPLY message(s), `ignored` options last; more than one only if they would exceed MAX_PUSH_MESSAGE. */
export function buildPushReply(o: PushOptions, max = MAX_PUSH_MESSAGE): string[] {
  // every option the server was given is sent, those it does not parse itself verbatim
  const opts = [...pushOptionStrings(o), ...o.ignored];
  const whole = [PUSH_REPLY, ...opts].join(',');
  if (whole.length <= max) return [whole];
  const parts: string[] = [];
  const tail = ',push-continuation 2';
  let cur = PUSH_REPLY;
  for (const opt of opts) {
    if (cur.length + 1 + opt.length + tail.length > max && cur !== PUSH_REPLY) {
      parts.push(cur + tail);
      cur = PUSH_REPLY;
    }
    cur += `,${opt}`;
  }
  parts.push(`${cur},push-continuation 1`);
  return parts;
}
