/**
 * The transport directives: `proto`, `remote`, `local` and `bind [ipv6only]`, with OpenVPN
 * 2.6's address-family rules (socket.c, options.c):
 *  - `proto udp`: no family forced. A client resolves each remote to both families and tries
 *    the addresses in getaddrinfo's order; a server without `local` binds `::` with
 *    IPV6_V6ONLY off, so IPv4 clients arrive as v4-mapped addresses (dual-stack).
 *  - `proto udp4`: IPv4 only; `proto udp6`: IPv6 only for remotes, and a server still binds
 *    `::` dual-stack unless `bind ipv6only` (OpenVPN sets IPV6_V6ONLY only then).
 *  - `remote host [port] [udp|udp4|udp6|tcp|tcp4|tcp6|tcp-client]`: the suffix sets that
 *    remote's family and protocol (a client tries each remote with its own: UDP and TCP
 *    remotes can be mixed, as in profiles that fall back to TCP 443).
 *  - `local <address>`: the bind address (either family); its family decides the socket's.
 *  - `proto tcp|tcp4|tcp6` (-client / -server): TCP (issue #11); plain `tcp` is tcp-client for
 *    a client and tcp-server for a server (`server`, `mode server`), as OpenVPN's options.c
 *    maps it.
 * A remote literal of the other family than the one forced is an error
 * here (OpenVPN fails to resolve it at run time), naming the remote's line.
 */
import { isIP } from 'node:net';
import type { Directive } from './tokenize.js';
import type { Remote, TransportConfig } from './types.js';

/** `proto` values and the family each forces (undefined: both). */
const PROTOS: Record<string, 4 | 6 | undefined> = { udp: undefined, udp4: 4, udp6: 6 };
const TCP = /^tcp[46]?(-client|-server)?$/;

/** A problem with one directive: the caller adds file and line. */
export class TransportProblem extends Error {
  override readonly name = 'TransportProblem';
  constructor(readonly line: number, message: string) {
    super(message);
  }
}

/** What the transport directives of one file said, collected line by line. */
export interface TransportDirectives {
  family?: 4 | 6;
  protoLine?: number;
  ipv6Only?: boolean;
  local?: { address: string; line: number };
  remotes: Remote[];
  /** `proto tcp*`: which side; 'auto' for plain tcp/tcp4/tcp6 (decided by the mode). */
  tcp?: 'client' | 'server' | 'auto';
  /** Line of each remote (same index). */
  remoteLines: number[];
}

export function newTransportDirectives(): TransportDirectives {
  return { remotes: [], remoteLines: [] };
}

function protoFamily(d: Directive, value: string, what: string, t?: TransportDirectives, r?: Remote): 4 | 6 | undefined {
  if (value in PROTOS) {
    if (t) t.tcp = undefined;
    if (r) r.proto = 'udp';
    return PROTOS[value];
  }
  if (TCP.test(value)) {
    if (r) {
      if (value.endsWith('-server')) throw new TransportProblem(d.line, `${d.name}: ${what}'${value}': a remote is connected to (tcp, tcp4, tcp6 or tcp-client); a server listens with 'proto ${value}' on its own line`);
      r.proto = 'tcp';
    }
    if (t) t.tcp = value.endsWith('-client') ? 'client' : value.endsWith('-server') ? 'server' : 'auto';
    const f = value.charAt(3);
    return f === '4' ? 4 : f === '6' ? 6 : undefined;
  }
  throw new TransportProblem(d.line, `${d.name}: ${what}'${value}' is not udp, udp4, udp6, tcp, tcp4, tcp6, tcp-client or tcp-server`);
}

/**
 * Takes `d` if it is a transport directive (true), else leaves it (false). `port` parses a
 * port argument as the caller does for `port`. Throws TransportProblem.
 */
export function parseTransportDirective(d: Directive, t: TransportDirectives, port: (s: string) => number): boolean {
  const count = (min: number, max: number) => {
    if (d.args.length < min || d.args.length > max) {
      throw new TransportProblem(d.line, `${d.name}: expects ${min === max ? min : `${min} to ${max}`} argument${max === 1 ? '' : 's'}, got ${d.args.length}`);
    }
  };
  switch (d.name) {
    case 'proto':
      count(1, 1);
      t.family = protoFamily(d, d.args[0]!, '', t);
      t.protoLine = d.line;
      return true;
    case 'remote': {
      count(1, 3);
      const r: Remote = { host: d.args[0]!, port: d.args[1] ? port(d.args[1]) : -1 };
      if (d.args[2] !== undefined) {
        const f = protoFamily(d, d.args[2], 'protocol ', undefined, r);
        if (f) r.family = f;
      }
      const lit = isIP(r.host);
      if (lit && r.family && lit !== r.family) {
        throw new TransportProblem(d.line, `remote: '${r.host}' is an IPv${lit} address but the line says ${d.args[2]} (IPv${r.family} only)`);
      }
      t.remotes.push(r);
      t.remoteLines.push(d.line);
      return true;
    }
    case 'local':
      count(1, 1);
      if (!isIP(d.args[0]!) || d.args[0]!.includes('%')) {
        throw new TransportProblem(d.line, `local: '${d.args[0]}' is not an IPv4 or IPv6 address (kovpn binds an address literal, not a name)`);
      }
      t.local = { address: d.args[0]!, line: d.line };
      return true;
    case 'bind':
      count(0, 1);
      if (d.args[0] !== undefined && d.args[0] !== 'ipv6only') throw new TransportProblem(d.line, `bind: '${d.args[0]}' is not ipv6only`);
      if (d.args[0] === 'ipv6only') t.ipv6Only = true;
      return false; // the caller records that binding was asked for
    default:
      return false;
  }
}

/**
 * Checks across lines (the order of `proto`, `remote` and `local` is free) and returns the
 * transport settings. A remote or local literal of a family the protocol excludes is an error
 * at its line.
 */
export function resolveTransport(t: TransportDirectives, mode: 'client' | 'server' | 'p2p'): TransportConfig {
  const forced = t.family;
  const proto = forced === 4 ? 'udp4' : forced === 6 ? 'udp6' : 'udp';
  for (const [i, r] of t.remotes.entries()) {
    const lit = isIP(r.host);
    if (lit && !r.family && forced && lit !== forced) {
      throw new TransportProblem(t.remoteLines[i]!, `remote: '${r.host}' is an IPv${lit} address but \`proto ${proto}\`` +
        `${t.protoLine ? ` (line ${t.protoLine})` : ''} allows only IPv${forced}; use proto udp (both families) or proto udp${lit}`);
    }
  }
  const out: TransportConfig = { family: forced ?? 'any' };
  if (t.local) {
    const lf = isIP(t.local.address) as 4 | 6;
    if (forced && lf !== forced) {
      throw new TransportProblem(t.local.line, `local: '${t.local.address}' is an IPv${lf} address but \`proto ${proto}\`` +
        `${t.protoLine ? ` (line ${t.protoLine})` : ''} allows only IPv${forced}`);
    }
    if (mode !== 'server') {
      for (const [i, r] of t.remotes.entries()) {
        const lit = isIP(r.host);
        if ((lit && lit !== lf) || (r.family && r.family !== lf)) {
          throw new TransportProblem(t.local.line, `local: '${t.local.address}' is an IPv${lf} address, remote '${r.host}' (line ${t.remoteLines[i]}) is IPv${lit || r.family}: the socket cannot reach it`);
        }
      }
    }
  }
  if (t.ipv6Only) out.ipv6Only = true;
  if (mode === 'p2p') {
    const i = t.remotes.findIndex((r) => r.proto === 'tcp');
    if (i >= 0) throw new TransportProblem(t.remoteLines[i]!, 'remote: TCP in peer-to-peer mode is not supported yet (use a client and a server)');
  }
  if (t.tcp) {
    const side = t.tcp === 'auto' ? (mode === 'server' ? 'server' : 'client') : t.tcp;
    if (mode === 'p2p') throw new TransportProblem(t.protoLine ?? 0, `proto: TCP in peer-to-peer mode is not supported yet (use a client and a server)`);
    if (side !== mode) throw new TransportProblem(t.protoLine ?? 0, `proto: tcp-${side} in a ${mode} configuration (a client connects: tcp-client; a server listens: tcp-server)`);
    out.tcp = side;
  }
  return out;
}

/**
 * The family a remote may resolve to (undefined: both): its own suffix, else the protocol's,
 * else that of `local` (a socket bound to an address of one family reaches only that family).
 */
export function remoteFamily(r: Remote, transport: TransportConfig | undefined, local?: string): 4 | 6 | undefined {
  if (r.family) return r.family;
  const f = transport?.family;
  if (f === 4 || f === 6) return f;
  const lf = local ? isIP(local) : 0;
  return lf === 4 || lf === 6 ? lf : undefined;
}
