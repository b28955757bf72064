/**
 * The userspace data path: `Datapath` over the engine of this network namespace.
 * The engine (engine-main.ts) is a separate, long-lived process reached through its
 * control socket, so a device created by one command can be operated by the next, and
 * the transport sockets a process opens live exactly as long as its connection.
 *
 * Only the client side: the engine's modules (engine, server, device, the AEADs) stay out
 * of this module's imports, so that command-line tools start fast (index.ts has them all).
 */
import type { Datapath, Device, DeviceEvent, DeviceMode, Endpoint, TcpListener, TcpTransport, TransportSocket } from '../types.js';
import { EngineClient } from './client.js';
import { DatapathError } from './errors.js';
import { engineSocketPath } from './paths.js';
import { RemoteDevice, RemoteUdpSocket } from './remote.js';
import { RemoteTcp, RemoteTcpListener } from './remote-tcp.js';
import { spawnEngine } from './spawn.js';

export interface UserspaceDatapathOptions {
  /** The engine's control socket (default: the one of this process's network namespace). */
  socketPath?: string;
  /** Start an engine when none listens and the operation creates something (default true). */
  spawn?: boolean;
}

export class UserspaceDatapath implements Datapath {
  readonly kind = 'userspace' as const;
  private client: Promise<EngineClient> | undefined;
  private readonly path: string;

  private constructor(private readonly opts: UserspaceDatapathOptions) {
    this.path = opts.socketPath ?? engineSocketPath();
  }

  /** Nothing is connected until the first operation. */
  static async open(opts: UserspaceDatapathOptions = {}): Promise<UserspaceDatapath> {
    return new UserspaceDatapath(opts);
  }

  /** The engine connection; `start` spawns an engine if none listens. */
  private connection(start: boolean): Promise<EngineClient> {
    if (!this.client) {
      const attempt = this.connectOrSpawn(start);
      this.client = attempt;
      attempt.catch(() => {
        if (this.client === attempt) this.client = undefined;
      });
    }
    return this.client;
  }

  private async connectOrSpawn(start: boolean): Promise<EngineClient> {
    try {
      return await EngineClient.connect(this.path);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT' && code !== 'ECONNREFUSED') {
        throw new DatapathError('EIO', `cannot reach the userspace engine at ${this.path}: ${(err as Error).message}`);
      }
      if (!start || this.opts.spawn === false) {
        throw new DatapathError('ENODEV', `no userspace engine runs in this network namespace (${this.path})`);
      }
    }
    await spawnEngine(this.path);
    return EngineClient.connect(this.path);
  }

  async createDevice(name: string, mode: DeviceMode): Promise<Device> {
    const c = await this.connection(true);
    const d = await c.request('createDevice', { name, mode });
    return new RemoteDevice(c, d.name, d.ifindex, d.mode);
  }

  async openDevice(name: string): Promise<Device> {
    const c = await this.deviceConnection(name);
    const d = await c.request('openDevice', { name });
    return new RemoteDevice(c, d.name, d.ifindex, d.mode);
  }

  async deleteDevice(name: string): Promise<void> {
    const c = await this.deviceConnection(name);
    await c.request('deleteDevice', { name });
  }

  private async deviceConnection(name: string): Promise<EngineClient> {
    try {
      return await this.connection(false);
    } catch (err) {
      if (err instanceof DatapathError && err.code === 'ENODEV') {
        throw new DatapathError('ENODEV', `no ovpn device ${name}: ${err.message}`);
      }
      throw err;
    }
  }

  async openUdpSocket(local: { address: string; port: number; mark?: number; v6only?: boolean }): Promise<TransportSocket> {
    const c = await this.connection(true);
    const args = bindArgs(local);
    const r = await c.request('openUdp', args);
    return new RemoteUdpSocket(c, r.sock, r.local);
  }

  /** TCP transport (issue #11): the engine owns the connection, as it owns UDP sockets. */
  async tcpConnect(remote: Endpoint, opts: { local?: { address: string; port?: number }; mark?: number; timeoutMs?: number } = {}): Promise<TcpTransport> {
    const c = await this.connection(true);
    const args: { remote: Endpoint; local?: { address: string; port?: number }; mark?: number; timeoutMs?: number } = { remote };
    if (opts.local) args.local = opts.local.port ? { address: opts.local.address, port: opts.local.port } : { address: opts.local.address };
    if (opts.mark) args.mark = opts.mark;
    if (opts.timeoutMs !== undefined) args.timeoutMs = opts.timeoutMs;
    const r = await c.request('tcpConnect', args);
    return new RemoteTcp(c, r.sock, r.local, r.remote);
  }

  async tcpListen(local: { address: string; port: number; mark?: number; v6only?: boolean }): Promise<TcpListener> {
    const c = await this.connection(true);
    const args = bindArgs(local);
    const r = await c.request('tcpListen', args);
    return new RemoteTcpListener(c, r.listener, r.local);
  }

  async subscribe(handler: (event: DeviceEvent) => void): Promise<() => void> {
    const c = await this.connection(true);
    const off = c.onEvent(handler);
    await c.request('subscribe', {});
    return off;
  }

  /** Closes the connection: the sockets opened through it close and their peers go. */
  async close(): Promise<void> {
    const c = this.client;
    this.client = undefined;
    if (!c) return;
    try {
      await (await c).close();
    } catch {
      // never connected: nothing to close
    }
  }
}

type BindRequest = { address: string; port: number; mark?: number; v6only?: boolean };

/** The engine request for a local bind (openUdp, tcpListen): only the options that are set. */
function bindArgs(local: BindRequest): BindRequest {
  const args: BindRequest = { address: local.address, port: local.port };
  if (local.mark) args.mark = local.mark;
  if (local.v6only === false) args.v6only = false;
  return args;
}
