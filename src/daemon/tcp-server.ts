/**
 * The server's transport (issue #11): one UDP socket for every client, or a TCP listener with
 * one connection per client. The server's control demultiplexer keys sessions by the
 * client's address either way: over TCP that is the connection's remote (unique per
 * connection), so packets to an address go to that connection and the client's peer uses it.
 */
import type { KovpnConfig } from '../config/types.js';
import type { Datapath, Endpoint, PeerTransport, TcpListener, TcpTransport, TransportSocket } from '../datapath/types.js';
import { bindServer, endpointText, openServerSocket } from './transport.js';

export interface ServerTransport {
  readonly kind: 'udp' | 'tcp';
  readonly local: Endpoint;
  send(packet: Buffer, to: Endpoint): void;
  onControlPacket(handler: (packet: Buffer, from: Endpoint) => void): void;
  /** TCP: a client's connection ended (its session should end). */
  onDisconnect(handler: (from: Endpoint) => void): void;
  /** What the peer of the client at `from` uses (undefined: its connection is gone). */
  peerSocket(from: Endpoint): PeerTransport | undefined;
  close(): Promise<void>;
}

class UdpServerTransport implements ServerTransport {
  readonly kind = 'udp' as const;
  constructor(private readonly socket: TransportSocket) {}
  get local(): Endpoint {
    return this.socket.local;
  }
  send(packet: Buffer, to: Endpoint): void {
    this.socket.send(packet, to);
  }
  onControlPacket(handler: (packet: Buffer, from: Endpoint) => void): void {
    this.socket.onControlPacket(handler);
  }
  onDisconnect(): void {}
  peerSocket(): PeerTransport {
    return this.socket;
  }
  close(): Promise<void> {
    return this.socket.close();
  }
}

class TcpServerTransport implements ServerTransport {
  readonly kind = 'tcp' as const;
  private readonly conns = new Map<string, TcpTransport>();
  private control: (packet: Buffer, from: Endpoint) => void = () => {};
  private disconnect: (from: Endpoint) => void = () => {};

  constructor(private readonly listener: TcpListener) {
    listener.onAccept((conn) => {
      const key = endpointText(conn.remote);
      this.conns.set(key, conn);
      conn.onControlPacket((p) => this.control(p, conn.remote));
      conn.onClose(() => {
        if (this.conns.get(key) === conn) this.conns.delete(key);
        this.disconnect(conn.remote);
      });
    });
  }
  get local(): Endpoint {
    return this.listener.local;
  }
  send(packet: Buffer, to: Endpoint): void {
    this.conns.get(endpointText(to))?.send(packet);
  }
  onControlPacket(handler: (packet: Buffer, from: Endpoint) => void): void {
    this.control = handler;
  }
  onDisconnect(handler: (from: Endpoint) => void): void {
    this.disconnect = handler;
  }
  peerSocket(from: Endpoint): PeerTransport | undefined {
    return this.conns.get(endpointText(from));
  }
  async close(): Promise<void> {
    await this.listener.close();
    await Promise.all([...this.conns.values()].map((c) => c.close().catch(() => undefined)));
    this.conns.clear();
  }
}

/**
 * UDP socket or TCP listener, by the same rules (transport.ts bindServer): `local`, else `::`
 * dual-stack (IPv4 clients too, as OpenVPN 2.6's `proto tcp-server` binds), `0.0.0.0` for
 * tcp4, `::` IPv6 only with `bind ipv6only`.
 */
export async function openServerTransport(cfg: KovpnConfig, dp: Datapath): Promise<ServerTransport> {
  if (!cfg.transport?.tcp) return new UdpServerTransport(await openServerSocket(cfg, dp));
  return new TcpServerTransport(await bindServer(cfg, (at) => dp.tcpListen(at)));
}
