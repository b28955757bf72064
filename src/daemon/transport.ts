/**
 * The daemon's transport addresses, by OpenVPN 2.6's rules (config/transport.ts):
 *  - a server binds `local` if given, else `::` with IPV6_V6ONLY off (dual-stack: IPv4
 *    clients arrive as v4-mapped addresses, which the data paths turn into IPv4 peers), or
 *    `0.0.0.0` for `proto udp4`/`tcp4` (and where the kernel has no IPv6 at all); UDP
 *    socket and TCP listener alike;
 *  - a client resolves each remote (getaddrinfo order, both families unless one is forced)
 *    and tries its addresses one after the other, then the next remote; its socket has the
 *    family of the address it talks to.
 * Addresses are written the way users read them: `a.b.c.d:port` (v4-mapped too) and
 * `[v6]:port`.
 */
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { remoteFamily } from '../config/transport.js';
import type { KovpnConfig, Remote } from '../config/types.js';
import type { Datapath, Endpoint, PeerTransport, TransportSocket } from '../datapath/types.js';
import { unmapAddress } from '../util/sockaddr.js';

export { endpointText } from '../util/sockaddr.js';

/** Where a server binds: an address, its port, and IPV6_V6ONLY for an IPv6 one. */
export interface ServerBind {
  address: string;
  port: number;
  v6only?: boolean;
}

/**
 * Binds a server's socket with `open` (UDP socket or TCP listener alike): `local`, else
 * dual-stack `::` (`bind ipv6only`: IPv6 only), `0.0.0.0` for udp4/tcp4 and, for plain
 * udp/tcp, where the kernel has no IPv6 at all.
 */
export async function bindServer<T>(cfg: KovpnConfig, open: (at: ServerBind) => Promise<T>): Promise<T> {
  const family = cfg.transport?.family ?? 'any';
  const v6only = cfg.transport?.ipv6Only === true;
  if (cfg.local) {
    return open({ address: cfg.local, port: cfg.port, ...(isIP(cfg.local) === 6 ? { v6only } : {}) });
  }
  if (family === 4) return open({ address: '0.0.0.0', port: cfg.port });
  try {
    return await open({ address: '::', port: cfg.port, v6only });
  } catch (err) {
    // a kernel without IPv6 (ipv6.disable=1): IPv4 only, as OpenVPN's bind falls back
    if (family === 'any' && (err as NodeJS.ErrnoException).code === 'EAFNOSUPPORT') {
      return open({ address: '0.0.0.0', port: cfg.port });
    }
    throw err;
  }
}

/** The server's UDP socket (bindServer's rules). */
export function openServerSocket(cfg: KovpnConfig, dp: Datapath): Promise<TransportSocket> {
  return bindServer(cfg, (at) => dp.openUdpSocket(at));
}

/** The client's socket for talking to `to`: `local` (or any address) of that family. */
export function openClientSocket(cfg: KovpnConfig, dp: Datapath, to: Endpoint): Promise<TransportSocket> {
  const six = isIP(to.address) === 6;
  const port = cfg.bind ? cfg.port : 0;
  return dp.openUdpSocket({ address: cfg.local ?? (six ? '::' : '0.0.0.0'), port, ...(six ? { v6only: true } : {}) });
}

/** OpenVPN's server-poll-timeout default: how long to wait for a server's first answer. */
export const CONNECT_TIMEOUT_S = 120;

/** Where a client's transport delivers what arrives on it. */
export interface ClientTransportHandlers {
  onControlPacket(buf: Buffer, from: Endpoint): void;
  onTcpClosed(conn: PeerTransport, reason: string, detail?: string): void;
}

/**
 * The client's transport for one attempt at `target`. TCP (the remote's own protocol, else
 * `proto`): a new connection every attempt, the previous transport closed. UDP: `current`
 * is kept while it is a UDP socket of the target's family (one handler for its life, feeding
 * whichever session is current), else replaced.
 */
export async function clientTransport(cfg: KovpnConfig, dp: Datapath, target: Target, current: PeerTransport | undefined,
  h: ClientTransportHandlers): Promise<PeerTransport> {
  const tcp = target.remote.proto !== undefined ? target.remote.proto === 'tcp' : cfg.transport?.tcp === 'client';
  const family = isIP(target.endpoint.address) === 6 ? 6 : 4;
  if (current && !tcp && current.kind === 'udp' && socketFamily(current) === family) return current;
  await current?.close().catch(() => undefined);
  if (!tcp) {
    const socket = await openClientSocket(cfg, dp, target.endpoint);
    socket.onControlPacket((buf, from) => h.onControlPacket(buf, from));
    return socket;
  }
  const timeoutMs = (cfg.connectTimeout ?? CONNECT_TIMEOUT_S) * 1000;
  const local = clientTcpLocal(cfg, target.endpoint);
  const conn = await dp.tcpConnect(target.endpoint, { timeoutMs, ...(local ? { local } : {}) });
  const to = target.endpoint;
  conn.onControlPacket((buf) => h.onControlPacket(buf, to));
  conn.onClose((reason, detail) => h.onTcpClosed(conn, reason, detail));
  return conn;
}

/**
 * Where a TCP client's connection starts from: `local` and, with `bind`/`lport`, the port, as
 * for the UDP client; undefined (the kernel picks by the route) when neither is given.
 */
export function clientTcpLocal(cfg: KovpnConfig, to: Endpoint): { address: string; port?: number } | undefined {
  if (!cfg.local && !cfg.bind) return undefined;
  const address = cfg.local ?? (isIP(to.address) === 6 ? '::' : '0.0.0.0');
  return cfg.bind ? { address, port: cfg.port } : { address };
}

/** The address family of a socket's local address. */
export function socketFamily(s: TransportSocket): 4 | 6 {
  return isIP(s.local.address) === 6 ? 6 : 4;
}

/** A remote that resolved to no address (or failed to resolve). */
export class ResolveError extends Error {
  override readonly name = 'ResolveError';
}

/** One attempt's target: which remote entry, which of its addresses. */
export interface Target {
  remote: Remote;
  endpoint: Endpoint;
  /** The last address of this remote: a failure now counts as one failed attempt at the remote. */
  last: boolean;
  /** Position among the remote's addresses (1-based) and their number, for the log. */
  index: number;
  count: number;
}

/**
 * Walks the remotes in turn and, within each, the addresses its name resolved to (resolved
 * again each time the remote comes round, as OpenVPN does without `persist-remote-ip`).
 */
export class RemoteCursor {
  private remoteIndex = 0;
  private addrs: Endpoint[] = [];
  private addrIndex = 0;
  private current: Remote | undefined;

  constructor(
    private readonly cfg: KovpnConfig,
    private readonly resolve: (host: string, family: 4 | 6 | undefined) => Promise<string[]> = resolveHost,
  ) {}

  /** The next address to try; a remote that does not resolve throws (and is skipped next time). */
  async next(): Promise<Target> {
    if (this.current === undefined || this.addrIndex >= this.addrs.length) {
      const r = this.cfg.remotes[this.remoteIndex % this.cfg.remotes.length]!;
      this.remoteIndex++;
      this.current = r;
      this.addrs = [];
      this.addrIndex = 0;
      const family = remoteFamily(r, this.cfg.transport, this.cfg.local);
      let list: string[];
      try {
        list = await this.resolve(r.host, family);
      } catch (err) {
        throw new ResolveError(`cannot resolve ${r.host}${family ? ` (IPv${family})` : ''}: ${(err as Error).message}`);
      }
      if (list.length === 0) throw new ResolveError(`${r.host} has no IPv${family ?? '4 or IPv6'} address`);
      this.addrs = list.map((address) => ({ address, port: r.port }));
    }
    const i = this.addrIndex++;
    return { remote: this.current, endpoint: this.addrs[i]!, last: this.addrIndex >= this.addrs.length, index: i + 1, count: this.addrs.length };
  }
  /** The next call of next() gives the address it gave last again (OpenVPN's no_advance). */
  again(): void {
    if (this.addrIndex > 0) this.addrIndex--;
  }
}

/** getaddrinfo's addresses for `host`, in its order, of one family or both; duplicates removed. */
export async function resolveHost(host: string, family: 4 | 6 | undefined): Promise<string[]> {
  const lit = isIP(host);
  if (lit) return !family || lit === family ? [host] : [];
  const found = await lookup(host, { all: true, family: family ?? 0, verbatim: true });
  return [...new Set(found.map((a) => unmapAddress(a.address)))];
}
