/**
 * The userspace engine: the devices (TUN + peers) and UDP sockets it serves in this
 * process, their notifications, and the keepalive clock. Operations are synchronous and
 * throw DatapathError like the kernel's genl family answers errors.
 */
import { readFileSync } from 'node:fs';
import { native, type NativeAddon } from '../../native.js';
import { DATA_V2_OVERHEAD } from '../../wire/index.js';
import type { DeviceEvent, DeviceMode, Endpoint } from '../types.js';
import { Rtnl } from '../../link/rtnl.js';
import { RouteWatch } from '../../link/route-watch.js';
import { EngineDevice, type DeviceHost } from './device.js';
import { DatapathError, einval, fromSystemError } from './errors.js';
import { EngineSocket } from './socket.js';
import { EngineTcp } from './tcp.js';
import { connectTcp, EngineTcpListener } from './tcp-listen.js';
import type { EngineTransport } from './transport.js';
import { decodeSockaddr } from '../../util/sockaddr.js';

/** Kernel interface names: 1..15 bytes, no '/', ':' or whitespace, not '.' or '..'. */
const IFNAME = /^[^\s/:]{1,15}$/;
const TICK_MS = 250;
/**
 * TUN devices with a virtio_net_hdr, so that received TCP segments are written coalesced
 * (coalesce.ts). KOVPN_TUN_OFFLOAD=0 in the engine's environment turns it off (comparisons).
 */
const TUN_OFFLOAD = process.env.KOVPN_TUN_OFFLOAD !== '0';
/**
 * Default MTU of a new device, the kernel module's: an inner packet plus the worst-case
 * overhead (DATA_V2 header and tag 24, TCP header 20 > UDP 8, IPv6 header 40) fits 1500.
 */
export const DEFAULT_MTU = 1500 - (DATA_V2_OVERHEAD + 20 + 40);
/**
 * Packets the TUN device holds for the engine to read (the kernel's TUN default is 500).
 * When the engine falls behind a burst the TUN driver drops (tx_dropped) and inner TCP
 * retransmits; OpenVPN sets 1000 on its TUN devices by default. Measured with
 * bench/datapath.sh (path kovpn-user-aes).
 */
export const TUN_TXQUEUELEN = 1000;

export interface DeviceDesc {
  name: string;
  ifindex: number;
  mode: DeviceMode;
}

export type EventListener = (event: DeviceEvent) => void;

export interface EngineOptions {
  /** First transmit packet id of every new key (tests of exhaustion only; default 1). */
  firstTxPacketId?: number;
}

function ifindexOf(name: string): number {
  try {
    return Number(readFileSync(`/sys/class/net/${name}/ifindex`, 'utf8').trim());
  } catch (err) {
    throw fromSystemError(err, `cannot find the ifindex of ${name} in /sys/class/net`);
  }
}

export class Engine {
  readonly devices = new Map<string, EngineDevice>();
  readonly sockets = new Map<number, EngineTransport>();
  readonly listeners_ = new Map<number, EngineTcpListener>();
  private readonly listeners = new Set<EventListener>();
  private nextSocketId = 1;
  private readonly timer: NodeJS.Timeout;
  private readonly host: DeviceHost;
  /** rtnetlink requests (setting devices up, route lookups), opened on first use. */
  private rtnlSocket: Rtnl | undefined;
  /** Route changes, for the next-hop caches of MP devices (opened with the first). */
  private routeWatch: RouteWatch | undefined;

  constructor(
    readonly addon: NativeAddon = native(),
    opts: EngineOptions = {},
  ) {
    this.host = {
      addon,
      emit: (ev: DeviceEvent) => this.emit(ev),
      routes: () => ({
        lookup: (dst) => this.rtnl().getRoute(dst),
        watch: () => (this.routeWatch ??= new RouteWatch()),
      }),
      firstTxPacketId: opts.firstTxPacketId,
    };
    this.timer = setInterval(() => this.tick(), TICK_MS);
    this.timer.unref();
  }

  private rtnl(): Rtnl {
    return (this.rtnlSocket ??= new Rtnl());
  }

  async createDevice(name: string, mode: DeviceMode): Promise<DeviceDesc> {
    if (!IFNAME.test(name) || name === '.' || name === '..') {
      throw einval(`IFLA_IFNAME: '${name}' is not a valid interface name (1..15 characters, no '/', ':' or spaces)`);
    }
    if (mode !== 'p2p' && mode !== 'mp') throw einval(`IFLA_OVPN_MODE: '${String(mode)}' is not p2p or mp`);
    if (this.devices.has(name)) throw new DatapathError('EEXIST', `device ${name} already exists`);
    let tun: { fd: number; name: string };
    try {
      tun = this.addon.tunOpen(name, TUN_OFFLOAD);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'EBUSY' || code === 'EEXIST' || code === 'EINVAL') {
        throw new DatapathError('EEXIST', `device ${name} already exists (a non-ovpn interface has that name)`);
      }
      throw fromSystemError(err, `cannot create TUN device ${name}`);
    }
    let dev: EngineDevice;
    try {
      const ifindex = ifindexOf(tun.name);
      // ready like a kernel device: up, with the ovpn default MTU and a longer queue
      await this.rtnl()
        .configureLink(ifindex, { up: true, mtu: DEFAULT_MTU, txqlen: TUN_TXQUEUELEN })
        .catch((err: unknown) => {
          throw fromSystemError(err, `setting ${tun.name} up`);
        });
      dev = new EngineDevice(this.host, tun.name, ifindex, mode, tun.fd, TUN_OFFLOAD);
    } catch (err) {
      this.addon.close(tun.fd);
      throw err;
    }
    this.devices.set(dev.name, dev);
    return { name: dev.name, ifindex: dev.ifindex, mode };
  }

  device(name: string): EngineDevice {
    const dev = this.devices.get(name);
    if (!dev) throw new DatapathError('ENODEV', `no ovpn device ${name} (userspace engine, pid ${process.pid})`);
    return dev;
  }

  describe(name: string): DeviceDesc {
    const d = this.device(name);
    return { name: d.name, ifindex: d.ifindex, mode: d.mode };
  }

  deleteDevice(name: string): void {
    const dev = this.device(name);
    for (const s of this.sockets.values()) if (s.device === dev) s.device = undefined;
    dev.close();
    this.devices.delete(name);
  }

  openSocket(local: Endpoint, mark = 0, v6only = true): EngineSocket {
    const sock = EngineSocket.open(this.addon, this.nextSocketId++, local, mark, v6only);
    this.sockets.set(sock.id, sock);
    return sock;
  }

  /** Connects a TCP transport (issue #11); rejects with a typed error naming the address. */
  async tcpConnect(remote: Endpoint, local: { address: string; port?: number } | undefined, mark: number, timeoutMs: number): Promise<EngineTcp> {
    const fd = await connectTcp(this.addon, remote, local, mark, timeoutMs);
    return this.adoptTcp(fd);
  }

  /** Listens for TCP transports; `onAccept` gets each accepted connection (already registered). */
  tcpListen(local: Endpoint, mark: number, v6only: boolean, onAccept: (conn: EngineTcp) => void): EngineTcpListener {
    const l = EngineTcpListener.open(this.addon, this.nextSocketId++, local, mark, v6only, (fd) => {
      let conn: EngineTcp;
      try {
        conn = this.adoptTcp(fd);
      } catch {
        return; // reset before we looked at it
      }
      onAccept(conn);
    });
    this.listeners_.set(l.id, l);
    return l;
  }

  closeListener(id: number): void {
    this.listeners_.get(id)?.close();
    this.listeners_.delete(id);
  }

  private adoptTcp(fd: number): EngineTcp {
    let conn: EngineTcp;
    try {
      conn = new EngineTcp(this.addon, this.nextSocketId++, fd, decodeSockaddr(this.addon.sockName(fd)));
    } catch (err) {
      this.addon.close(fd);
      throw fromSystemError(err, 'TCP connection');
    }
    this.sockets.set(conn.id, conn);
    return conn;
  }

  socket(id: number): EngineTransport {
    const s = this.sockets.get(id);
    if (!s) throw einval(`PEER.SOCKET: no open socket ${id} in the userspace engine`);
    return s;
  }

  /** Closes a transport socket; its peers are deleted (reason transport-disconnect). */
  closeSocket(id: number): void {
    const s = this.sockets.get(id);
    if (!s) return;
    s.device?.socketClosed(s);
    s.close();
    this.sockets.delete(id);
  }

  on(listener: EventListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private emit(event: DeviceEvent): void {
    for (const l of this.listeners) {
      try {
        l(event);
      } catch {
        // a listener's failure must not break the data path
      }
    }
  }

  private tick(): void {
    const now = performance.now();
    for (const dev of this.devices.values()) dev.tick(now);
  }

  close(): void {
    clearInterval(this.timer);
    for (const name of [...this.devices.keys()]) this.deleteDevice(name);
    for (const id of [...this.sockets.keys()]) this.closeSocket(id);
    for (const id of [...this.listeners_.keys()]) this.closeListener(id);
    this.routeWatch?.close();
    this.routeWatch = undefined;
    this.rtnlSocket?.close();
    this.rtnlSocket = undefined;
  }
}
