/**
 * The engine's control socket server (protocol.ts). Each connection owns the UDP sockets it
 * opened: when it closes, they are closed and their peers deleted (transport-disconnect).
 */
import { createServer, type Server, type Socket } from 'node:net';
import { chmodSync, mkdirSync, rmdirSync, unlinkSync } from 'node:fs';
import { dirname } from 'node:path';
import { connect } from 'node:net';
import type { DeviceMode, Endpoint, KeySlot, TcpCloseReason } from '../types.js';
import { DatapathError, einval } from './errors.js';
import type { Engine } from './engine.js';
import type { EngineTcp } from './tcp.js';
import {
  keyConfigFromWire,
  peerInfoToWire,
  type OpName,
  type Ops,
  type Push,
  type Request,
  type Response,
  type WireKeyConfig,
  type WirePeerSpec,
} from './protocol.js';
import type { PeerSpec } from './device.js';

/** Largest request line accepted (keys and control packets are small). */
const MAX_LINE = 1 << 20;
/** Unread bytes queued to one client beyond which control packets are dropped. */
const MAX_BACKLOG = 4 << 20;

function str(v: unknown, what: string): string {
  if (typeof v !== 'string') throw einval(`${what}: expected a string`);
  return v;
}
function int(v: unknown, what: string): number {
  if (typeof v !== 'number' || !Number.isInteger(v)) throw einval(`${what}: expected an integer`);
  return v;
}
function obj(v: unknown, what: string): Record<string, unknown> {
  if (typeof v !== 'object' || v === null) throw einval(`${what}: expected an object`);
  return v as Record<string, unknown>;
}
function endpoint(v: unknown, what: string): Endpoint {
  const o = obj(v, what);
  const ep: Endpoint = { address: str(o.address, `${what}.address`), port: int(o.port, `${what}.port`) };
  if (o.scopeId !== undefined) ep.scopeId = int(o.scopeId, `${what}.scopeId`);
  return ep;
}
function slot(v: unknown): KeySlot {
  if (v !== 'primary' && v !== 'secondary') throw einval(`KEYCONF.SLOT: '${String(v)}' is not primary or secondary`);
  return v;
}

class Connection {
  readonly sockets = new Set<number>();
  readonly listeners = new Set<number>();
  /** Control packets dropped because this client did not read fast enough. */
  controlDropped = 0;
  private unsubscribe: (() => void) | undefined;
  private buffered = '';
  private closed = false;

  constructor(
    private readonly server: ControlServer,
    private readonly engine: Engine,
    private readonly stream: Socket,
  ) {
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => this.onData(chunk));
    stream.on('error', () => stream.destroy());
    stream.on('close', () => this.onClose());
  }

  destroy(): void {
    this.stream.destroy();
  }

  private onData(chunk: string): void {
    this.buffered += chunk;
    if (this.buffered.length > MAX_LINE && !this.buffered.includes('\n')) {
      this.stream.destroy();
      return;
    }
    let nl: number;
    while ((nl = this.buffered.indexOf('\n')) >= 0) {
      const line = this.buffered.slice(0, nl);
      this.buffered = this.buffered.slice(nl + 1);
      if (line.trim() !== '') void this.handleLine(line);
    }
  }

  private send(msg: Response | Push): void {
    if (!this.stream.destroyed) this.stream.write(`${JSON.stringify(msg)}\n`);
  }

  /**
   * Control packets are pushed only while the client keeps up: past MAX_BACKLOG unread
   * bytes they are dropped (a flood of junk at a UDP port must not grow the engine).
   */
  private pushControl(sock: number, packet: Buffer, from: Endpoint): void {
    if (this.stream.writableLength > MAX_BACKLOG) {
      this.controlDropped++;
      return;
    }
    this.send({ control: { sock, from, data: packet.toString('base64') } });
  }

  private async handleLine(line: string): Promise<void> {
    let req: Request;
    try {
      req = JSON.parse(line) as Request;
    } catch {
      this.send({ id: -1, ok: false, error: { code: 'EINVAL', message: 'request is not valid JSON' } });
      return;
    }
    const id = typeof req.id === 'number' ? req.id : -1;
    try {
      const result = await this.dispatch(req.op, obj(req.args ?? {}, 'args'));
      this.send({ id, ok: true, result: result ?? null });
    } catch (err) {
      const e =
        err instanceof DatapathError
          ? err
          : new DatapathError('EINVAL', err instanceof Error ? err.message : String(err));
      this.send({ id, ok: false, error: { code: e.code, message: e.message } });
    }
  }

  private dev(a: Record<string, unknown>) {
    return this.engine.device(str(a.dev, 'dev'));
  }

  private peerSpec(v: unknown): { spec: PeerSpec; socket: number | undefined } {
    const w = obj(v, 'PEER') as unknown as WirePeerSpec;
    const { socket, ...spec } = w;
    if (spec.remote !== undefined) spec.remote = endpoint(spec.remote, 'PEER.REMOTE');
    return { spec, socket: socket === undefined ? undefined : int(socket, 'PEER.SOCKET') };
  }

  private ownedSocket(id: number | undefined) {
    if (id === undefined) return undefined;
    if (!this.sockets.has(id)) throw einval(`PEER.SOCKET: socket ${id} was not opened on this connection`);
    return this.engine.socket(id);
  }

  private async dispatch(op: OpName, a: Record<string, unknown>): Promise<Ops[OpName]['result']> {
    const e = this.engine;
    switch (op) {
      case 'hello':
        return { pid: process.pid };
      case 'createDevice':
        return e.createDevice(str(a.name, 'name'), str(a.mode, 'mode') as DeviceMode);
      case 'openDevice':
        return e.describe(str(a.name, 'name'));
      case 'deleteDevice':
        e.deleteDevice(str(a.name, 'name'));
        this.server.maybeIdle();
        return null;
      case 'listDevices':
        return [...e.devices.keys()].map((n) => e.describe(n));
      case 'openUdp': {
        const mark = a.mark === undefined ? 0 : int(a.mark, 'mark');
        if (mark < 0 || mark > 0xffffffff) throw einval('mark: expected 0..4294967295');
        if (a.v6only !== undefined && typeof a.v6only !== 'boolean') throw einval('v6only: expected a boolean');
        const s = e.openSocket({ address: str(a.address, 'address'), port: int(a.port, 'port') }, mark, a.v6only !== false);
        this.sockets.add(s.id);
        s.onControl = (packet, from) => this.pushControl(s.id, packet, from);
        return { sock: s.id, local: s.local };
      }
      case 'tcpConnect': {
        const mark = a.mark === undefined ? 0 : int(a.mark, 'mark');
        const timeoutMs = a.timeoutMs === undefined ? 120_000 : int(a.timeoutMs, 'timeoutMs');
        let local: { address: string; port?: number } | undefined;
        if (a.local !== undefined) {
          const o = obj(a.local, 'local');
          local = { address: str(o.address, 'local.address') };
          if (o.port !== undefined) local.port = int(o.port, 'local.port');
        }
        const c = await e.tcpConnect(endpoint(a.remote, 'remote'), local, mark, timeoutMs);
        if (this.closed) {
          e.closeSocket(c.id);
          throw new DatapathError('EIO', 'control connection closed during the TCP connect');
        }
        this.adoptTcp(c);
        return { sock: c.id, local: c.local, remote: c.remote };
      }
      case 'tcpListen': {
        const mark = a.mark === undefined ? 0 : int(a.mark, 'mark');
        if (a.v6only !== undefined && typeof a.v6only !== 'boolean') throw einval('v6only: expected a boolean');
        const l = e.tcpListen({ address: str(a.address, 'address'), port: int(a.port, 'port') }, mark, a.v6only !== false, (c) => {
          if (this.closed) {
            e.closeSocket(c.id);
            return;
          }
          this.adoptTcp(c);
          this.send({ accept: { listener: l.id, sock: c.id, local: c.local, remote: c.remote } });
        });
        this.listeners.add(l.id);
        return { listener: l.id, local: l.local };
      }
      case 'closeTcpListener': {
        const id = int(a.listener, 'listener');
        if (this.listeners.delete(id)) e.closeListener(id);
        return null;
      }
      case 'sendTcp': {
        const s = this.ownedSocket(int(a.sock, 'sock'))!;
        if (s.kind !== 'tcp') throw einval(`sock: socket ${s.id} is not a TCP connection`);
        s.sendRaw(Buffer.from(str(a.data, 'data'), 'base64'));
        return null;
      }
      case 'closeTcp':
      case 'closeUdp': {
        const id = int(a.sock, 'sock');
        if (this.sockets.delete(id)) e.closeSocket(id);
        return null;
      }
      case 'sendUdp': {
        const s = this.ownedSocket(int(a.sock, 'sock'))!;
        if (s.kind !== 'udp') throw einval(`sock: socket ${s.id} is not a UDP socket`);
        s.sendRaw(Buffer.from(str(a.data, 'data'), 'base64'), endpoint(a.to, 'to'));
        return null;
      }
      case 'newPeer': {
        const { spec, socket } = this.peerSpec(a.peer);
        this.dev(a).newPeer(spec, this.ownedSocket(socket), performance.now());
        return null;
      }
      case 'setPeer': {
        const { spec, socket } = this.peerSpec(a.peer);
        if (socket !== undefined) throw einval('PEER.SOCKET: the socket of a peer cannot be changed');
        this.dev(a).setPeer(spec);
        return null;
      }
      case 'getPeer':
        return peerInfoToWire(this.dev(a).getPeer(int(a.id, 'PEER.ID')));
      case 'dumpPeers':
        return this.dev(a).dumpPeers().map(peerInfoToWire);
      case 'delPeer':
        this.dev(a).delPeer(int(a.id, 'PEER.ID'), 'userspace');
        return null;
      case 'newKey': {
        let key;
        try {
          key = keyConfigFromWire(obj(a.key, 'KEYCONF') as unknown as WireKeyConfig);
        } catch (err) {
          throw einval((err as Error).message);
        }
        this.dev(a).newKey(key);
        return null;
      }
      case 'getKey':
        return this.dev(a).getKey(int(a.peerId, 'KEYCONF.PEER_ID'), slot(a.slot));
      case 'swapKeys':
        this.dev(a).swapKeys(int(a.peerId, 'KEYCONF.PEER_ID'));
        return null;
      case 'delKey':
        this.dev(a).delKey(int(a.peerId, 'KEYCONF.PEER_ID'), slot(a.slot));
        return null;
      case 'subscribe':
        this.unsubscribe ??= e.on((event) => this.send({ event }));
        return null;
      case 'drops':
        return { ...this.dev(a).drops };
      default:
        throw new DatapathError('EOPNOTSUPP', `unknown operation '${String(op)}'`);
    }
  }

  /** A TCP connection now owned by this control connection: its end is reported and it goes. */
  private adoptTcp(c: EngineTcp): void {
    this.sockets.add(c.id);
    c.onControl = (packet, from) => this.pushControl(c.id, packet, from);
    c.onEnd = (reason, detail) => {
      this.sockets.delete(c.id);
      this.engine.closeSocket(c.id);
      const m: { sock: number; reason: TcpCloseReason; detail?: string } = { sock: c.id, reason };
      if (detail !== undefined) m.detail = detail;
      this.send({ tcpClosed: m });
    };
  }

  private onClose(): void {
    this.closed = true;
    this.unsubscribe?.();
    for (const id of this.listeners) this.engine.closeListener(id);
    this.listeners.clear();
    for (const id of this.sockets) this.engine.closeSocket(id);
    this.sockets.clear();
    this.server.connectionClosed(this);
  }
}

export interface ControlServerOptions {
  /** Called when the engine has no device and no connection (engine-main exits then). */
  onIdle?: () => void;
}

export class ControlServer {
  private readonly server: Server;
  private readonly connections = new Set<Connection>();

  private constructor(
    private readonly engine: Engine,
    readonly path: string,
    private readonly opts: ControlServerOptions,
  ) {
    this.server = createServer((stream) => {
      this.connections.add(new Connection(this, engine, stream));
    });
  }

  /** Listens on `path`; a stale socket file (no engine behind it) is replaced. */
  static async listen(engine: Engine, path: string, opts: ControlServerOptions = {}): Promise<ControlServer> {
    const s = new ControlServer(engine, path, opts);
    for (let attempt = 0; ; attempt++) {
      mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
      try {
        await s.bind();
        break;
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        // ENOENT: a stopping engine removed the directory between mkdir and bind
        if (code === 'ENOENT' && attempt < 3) continue;
        if (code !== 'EADDRINUSE' || (await isAlive(path))) {
          throw new DatapathError('EADDRINUSE', `an engine already listens on ${path}`);
        }
        unlinkSync(path);
      }
    }
    chmodSync(path, 0o600);
    return s;
  }

  private bind(): Promise<void> {
    return new Promise((resolve, reject) => {
      const onError = (err: Error) => reject(err);
      this.server.once('error', onError);
      this.server.listen(this.path, () => {
        this.server.off('error', onError);
        resolve();
      });
    });
  }

  get connectionCount(): number {
    return this.connections.size;
  }

  connectionClosed(c: Connection): void {
    this.connections.delete(c);
    this.maybeIdle();
  }

  maybeIdle(): void {
    if (this.connections.size === 0 && this.engine.devices.size === 0) this.opts.onIdle?.();
  }

  /**
   * Stops listening, drops every connection and removes the socket file. libuv unlinks the
   * file as close() is called; unlinking it again later could remove the socket of an engine
   * that has started since (the race a recreated device lost its engine to).
   */
  close(): Promise<void> {
    return new Promise((resolve) => {
      this.server.close(() => {
        try {
          rmdirSync(dirname(this.path)); // the namespace's directory, only if empty
        } catch {
          // still in use
        }
        resolve();
      });
      for (const c of this.connections) c.destroy();
    });
  }
}

/** Whether something accepts connections on the unix socket `path`. */
export function isAlive(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(path);
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}
