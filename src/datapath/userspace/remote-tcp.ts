/** `TcpTransport` and `TcpListener` implemented over an engine connection (issue #11). */
import type { Endpoint, TcpCloseReason, TcpListener, TcpTransport } from '../types.js';
import type { EngineClient } from './client.js';

export class RemoteTcp implements TcpTransport {
  readonly kind = 'tcp' as const;
  private closed = false;
  private readonly closeHandlers: ((reason: TcpCloseReason, detail?: string) => void)[] = [];
  private ended: { reason: TcpCloseReason; detail: string | undefined } | undefined;

  constructor(
    readonly client: EngineClient,
    readonly sock: number,
    readonly local: Endpoint,
    readonly remote: Endpoint,
  ) {
    client.onTcpClosed(sock, (reason, detail) => this.finish(reason, detail));
  }

  private finish(reason: TcpCloseReason, detail?: string): void {
    if (this.ended) return;
    this.ended = { reason, detail };
    this.closed = true;
    for (const h of this.closeHandlers) h(reason, detail);
  }

  onControlPacket(handler: (packet: Buffer) => void): void {
    this.client.onControl(this.sock, (packet) => handler(packet));
  }

  /** Runs once when the connection ends (at once if it already has). */
  onClose(handler: (reason: TcpCloseReason, detail?: string) => void): void {
    if (this.ended) handler(this.ended.reason, this.ended.detail);
    else this.closeHandlers.push(handler);
  }

  /** Queued by the engine (bounded); failures are not reported, as on UDP. */
  send(packet: Buffer): void {
    if (this.closed) return;
    this.client.request('sendTcp', { sock: this.sock, data: packet.toString('base64') }).catch(() => {});
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.client.dropControl(this.sock);
    this.finish('local');
    await this.client.request('closeTcp', { sock: this.sock }).catch(() => {});
  }
}

export class RemoteTcpListener implements TcpListener {
  private handler: ((conn: TcpTransport) => void) | undefined;
  private readonly early: TcpTransport[] = [];
  private closed = false;

  constructor(
    readonly client: EngineClient,
    readonly listener: number,
    readonly local: Endpoint,
  ) {
    client.onAccept(listener, (a) => {
      const conn = new RemoteTcp(client, a.sock, a.local, a.remote);
      if (this.handler) this.handler(conn);
      else this.early.push(conn);
    });
  }

  onAccept(handler: (conn: TcpTransport) => void): void {
    this.handler = handler;
    for (const c of this.early.splice(0)) handler(c);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.client.onAccept(this.listener, undefined);
    await this.client.request('closeTcpListener', { listener: this.listener }).catch(() => {});
  }
}
