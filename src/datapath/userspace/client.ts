/** A connection to an engine's control socket: requests with ids, pushed events and control packets. */
import { connect, type Socket } from 'node:net';
import type { DeviceEvent, Endpoint, TcpCloseReason } from '../types.js';
import { DatapathError } from './errors.js';
import type { OpName, Ops, Push, Response } from './protocol.js';

interface Pending {
  resolve: (v: unknown) => void;
  reject: (e: Error) => void;
  op: OpName;
}

export class EngineClient {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private buffered = '';
  private readonly eventHandlers = new Set<(e: DeviceEvent) => void>();
  private readonly controlHandlers = new Map<number, (packet: Buffer, from: Endpoint) => void>();
  private readonly acceptHandlers = new Map<number, (a: { sock: number; local: Endpoint; remote: Endpoint }) => void>();
  private readonly tcpClosedHandlers = new Map<number, (reason: TcpCloseReason, detail?: string) => void>();
  private closedError: Error | undefined;

  private constructor(
    private readonly stream: Socket,
    readonly path: string,
  ) {
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => this.onData(chunk));
    stream.on('error', () => {});
    stream.on('close', () => {
      this.closedError ??= new DatapathError('EIO', `userspace engine at ${path} closed the connection`);
      for (const p of this.pending.values()) p.reject(this.closedError);
      this.pending.clear();
      this.endAllTcp();
    });
  }

  /** Connects to the engine listening on `path`; rejects with the socket error (code kept). */
  static connect(path: string): Promise<EngineClient> {
    return new Promise((resolve, reject) => {
      const s = connect(path);
      const onError = (err: Error) => reject(err);
      s.once('error', onError);
      s.once('connect', () => {
        s.off('error', onError);
        resolve(new EngineClient(s, path));
      });
    });
  }

  request<K extends OpName>(op: K, args: Ops[K]['args']): Promise<Ops[K]['result']> {
    if (this.closedError) return Promise.reject(this.closedError);
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject, op });
      this.stream.write(`${JSON.stringify({ id, op, args })}\n`);
    });
  }

  onEvent(handler: (e: DeviceEvent) => void): () => void {
    this.eventHandlers.add(handler);
    return () => this.eventHandlers.delete(handler);
  }

  onControl(sock: number, handler: (packet: Buffer, from: Endpoint) => void): void {
    this.controlHandlers.set(sock, handler);
  }

  dropControl(sock: number): void {
    this.controlHandlers.delete(sock);
    this.tcpClosedHandlers.delete(sock);
  }

  onAccept(listener: number, handler: ((a: { sock: number; local: Endpoint; remote: Endpoint }) => void) | undefined): void {
    if (handler) this.acceptHandlers.set(listener, handler);
    else this.acceptHandlers.delete(listener);
  }

  onTcpClosed(sock: number, handler: (reason: TcpCloseReason, detail?: string) => void): void {
    this.tcpClosedHandlers.set(sock, handler);
  }

  /** Every TCP connection of this client ends with it: their close handlers run ('local'). */
  private endAllTcp(): void {
    const hs = [...this.tcpClosedHandlers.values()];
    this.tcpClosedHandlers.clear();
    for (const h of hs) h('local', 'engine connection closed');
  }

  private onData(chunk: string): void {
    this.buffered += chunk;
    let nl: number;
    while ((nl = this.buffered.indexOf('\n')) >= 0) {
      const line = this.buffered.slice(0, nl);
      this.buffered = this.buffered.slice(nl + 1);
      if (line !== '') this.onMessage(JSON.parse(line) as Response | Push);
    }
  }

  private onMessage(msg: Response | Push): void {
    if ('event' in msg) {
      for (const h of this.eventHandlers) h(msg.event);
      return;
    }
    if ('accept' in msg) {
      const a = msg.accept;
      this.acceptHandlers.get(a.listener)?.(a);
      return;
    }
    if ('tcpClosed' in msg) {
      const t = msg.tcpClosed;
      const h = this.tcpClosedHandlers.get(t.sock);
      this.tcpClosedHandlers.delete(t.sock);
      this.controlHandlers.delete(t.sock);
      h?.(t.reason, t.detail);
      return;
    }
    if ('control' in msg) {
      const c = msg.control;
      this.controlHandlers.get(c.sock)?.(Buffer.from(c.data, 'base64'), c.from);
      return;
    }
    const p = this.pending.get(msg.id);
    if (!p) return;
    this.pending.delete(msg.id);
    if (msg.ok) p.resolve(msg.result);
    else p.reject(new DatapathError(msg.error.code, msg.error.message));
  }

  /** Closes the connection; the engine then closes the sockets this connection opened. */
  close(): Promise<void> {
    if (this.stream.destroyed) return Promise.resolve();
    this.closedError ??= new DatapathError('EIO', 'engine connection closed by this process');
    return new Promise((resolve) => {
      this.stream.once('close', () => resolve());
      this.stream.end();
    });
  }
}
