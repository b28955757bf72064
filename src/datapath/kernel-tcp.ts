/**
 * The TCP transport of the kernel data path (issue #11): a connected TCP socket whose fd is
 * handed to the kernel as PEER_SOCKET (one peer per socket). The stream carries frames, each
 * a packet preceded by its 2-byte big-endian length, as OpenVPN frames packets over TCP.
 *
 * Before PEER_NEW the socket is a plain stream, read and deframed here. Once the kernel has
 * it, DATA_V2 frames stay in the kernel and every other frame is handed to this side one
 * per read, with its length still in front (mainline's semantics), so the same deframing
 * serves both. Sending: a framed write; on an attached socket the kernel queues the frame
 * whole, in order with its data packets (a full queue drops it, as UDP would). A plain
 * stream may take part of a frame: the rest waits in a bounded queue until writable.
 * End of stream, a reset or an error ends the connection (onClose, once).
 */
import type { NativeAddon, Poller } from '../native.js';
import { native } from '../native.js';
import { decodeSockaddr, encodeSockaddr, endpointText } from '../util/sockaddr.js';
import { setSocketMark } from '../util/sockopt.js';
import { isDataV2 } from '../wire/constants.js';
import { connectTcp } from './userspace/tcp-listen.js';
import { DatapathError, fromSystemError } from './userspace/errors.js';
import type { Endpoint, TcpCloseReason, TcpListener, TcpTransport } from './types.js';

/** Largest packet in a frame. */
const MAX_FRAME = 0xffff;
/** Bytes waiting for the stream beyond which frames are dropped. */
const MAX_QUEUE = 1 << 20;
/** Connect deadline when the caller gives none (as the userspace path). */
const CONNECT_TIMEOUT_MS = 120_000;
const BACKLOG = 128;
/** Control packets kept until a handler is set (the first ones of a fresh connection). */
const EARLY_MAX = 64;

type CloseHandler = (reason: TcpCloseReason, detail?: string) => void;

/** A connected TCP socket for one kernel peer. */
export class KernelTcpTransport implements TcpTransport {
  readonly kind = 'tcp' as const;
  readonly local: Endpoint;
  readonly remote: Endpoint;
  private readonly poller: Poller;
  private handler: ((packet: Buffer) => void) | undefined;
  private readonly early: Buffer[] = [];
  private readonly closeHandlers: CloseHandler[] = [];
  private ended: { reason: TcpCloseReason; detail: string | undefined } | undefined;
  private readonly rxBuf = Buffer.allocUnsafeSlow(2 * (MAX_FRAME + 2));
  private rxLen = 0;
  private readonly queue: Buffer[] = [];
  private queued = 0;
  private writing = false;
  private closed = false;

  constructor(
    private readonly addon: NativeAddon,
    /** The fd passed as PEER_SOCKET. */
    readonly fd: number,
  ) {
    this.local = decodeSockaddr(addon.sockName(fd));
    this.remote = decodeSockaddr(addon.peerName(fd));
    this.poller = new addon.Poller(fd);
    this.poller.start(this.onReadable);
  }

  /** Connects to `remote`; rejects ECONNREFUSED / ETIMEDOUT / EIO naming the address. */
  static async connect(remote: Endpoint, opts: { mark?: number; timeoutMs?: number } = {}, addon: NativeAddon = native()): Promise<KernelTcpTransport> {
    const fd = await connectTcp(addon, remote, undefined, opts.mark ?? 0, opts.timeoutMs ?? CONNECT_TIMEOUT_MS);
    try {
      return new KernelTcpTransport(addon, fd);
    } catch (err) {
      addon.close(fd);
      throw fromSystemError(err, `TCP connection to ${endpointText(remote)}`);
    }
  }

  /** Control packets (every frame that is not DATA_V2), without their length. */
  onControlPacket(handler: (packet: Buffer) => void): void {
    this.handler = handler;
    for (const p of this.early.splice(0)) handler(p);
  }

  /** Runs once when the connection ends (at once if it already has). */
  onClose(handler: CloseHandler): void {
    if (this.ended) handler(this.ended.reason, this.ended.detail);
    else this.closeHandlers.push(handler);
  }

  /** Sends one packet framed; failures end the connection or drop it, as on UDP. */
  send(packet: Buffer): void {
    if (this.closed || packet.length === 0 || packet.length > MAX_FRAME) return;
    const f = Buffer.allocUnsafe(packet.length + 2);
    f.writeUInt16BE(packet.length, 0);
    packet.copy(f, 2);
    let done = 0;
    if (this.queue.length === 0) {
      try {
        const n = this.addon.streamWrite(this.fd, f, f.length);
        if (n > 0) done = n;
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        // the kernel's send queue for this peer is full: the frame is dropped
        if (code === 'ENOBUFS') return;
        this.end(code === 'ECONNRESET' || code === 'EPIPE' ? 'reset' : 'error', code ?? (err as Error).message);
        return;
      }
      if (done === f.length) return;
    }
    if (done === 0 && this.queued + f.length > MAX_QUEUE) return;
    const rest = done === 0 ? f : f.subarray(done);
    this.queue.push(rest);
    this.queued += rest.length;
    if (!this.writing) {
      this.writing = true;
      this.poller.start(this.onEither, 'both');
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.finish('local');
  }

  private readonly onReadable = (err?: Error): void => {
    if (err) {
      const code = (err as NodeJS.ErrnoException).code;
      this.end(code === 'ECONNRESET' ? 'reset' : 'error', code ?? err.message);
      return;
    }
    for (let round = 0; round < 8 && !this.closed; round++) {
      let n: number;
      try {
        n = this.addon.streamRead(this.fd, this.rxBuf.subarray(this.rxLen));
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        this.end(code === 'ECONNRESET' ? 'reset' : 'error', code ?? (e as Error).message);
        return;
      }
      if (n < 0) return;
      if (n === 0) {
        this.end('eof', this.rxLen > 0 ? `stream ended inside a frame (${this.rxLen} bytes pending)` : undefined);
        return;
      }
      this.rxLen += n;
      this.deframe();
    }
  };

  private readonly onWritable = (): void => {
    while (this.queue.length > 0 && !this.closed) {
      const head = this.queue[0]!;
      let n: number;
      try {
        n = this.addon.streamWrite(this.fd, head, head.length);
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code === 'ENOBUFS') {
          // attached meanwhile and the kernel's queue is full: this frame is lost
          this.queued -= head.length;
          this.queue.shift();
          continue;
        }
        this.end(code === 'ECONNRESET' || code === 'EPIPE' ? 'reset' : 'error', code ?? (err as Error).message);
        return;
      }
      if (n < 0) return;
      this.queued -= n;
      if (n === head.length) this.queue.shift();
      else this.queue[0] = head.subarray(n);
    }
    if (this.writing && !this.closed) {
      this.writing = false;
      this.poller.start(this.onReadable);
    }
  };

  private readonly onEither = (err?: Error): void => {
    if (err) {
      this.onReadable(err);
      return;
    }
    this.onWritable();
    this.onReadable();
  };

  /** Delivers every complete frame and keeps the partial rest at the start of rxBuf. */
  private deframe(): void {
    const b = this.rxBuf;
    let off = 0;
    while (!this.closed && this.rxLen - off >= 2) {
      const len = b.readUInt16BE(off);
      if (this.rxLen - off - 2 < len) break;
      const p = off + 2;
      off = p + len;
      // DATA_V2 read before the kernel had the socket is the kernel's business
      if (len === 0 || isDataV2(b, p, len)) continue;
      const packet = Buffer.from(b.subarray(p, p + len));
      if (this.handler) this.handler(packet);
      else if (this.early.length < EARLY_MAX) this.early.push(packet);
    }
    if (off > 0) {
      b.copy(b, 0, off, this.rxLen);
      this.rxLen -= off;
    }
  }

  private end(reason: TcpCloseReason, detail?: string): void {
    this.finish(reason, detail);
  }

  /** Closes the fd (the kernel then deletes the peer) and reports the reason once. */
  private finish(reason: TcpCloseReason, detail?: string): void {
    if (this.closed) return;
    this.closed = true;
    this.ended = { reason, detail };
    this.poller.close();
    this.queue.length = 0;
    this.queued = 0;
    this.addon.close(this.fd);
    for (const h of this.closeHandlers.splice(0)) h(reason, detail);
  }
}

/** A listening TCP socket: every accepted connection is a KernelTcpTransport. */
export class KernelTcpListener implements TcpListener {
  readonly local: Endpoint;
  private readonly poller: Poller;
  private handler: ((conn: TcpTransport) => void) | undefined;
  private readonly early: TcpTransport[] = [];
  private closed = false;

  private constructor(
    private readonly addon: NativeAddon,
    private readonly fd: number,
  ) {
    this.local = decodeSockaddr(addon.sockName(fd));
    this.poller = new addon.Poller(fd);
    this.poller.start(this.onReadable);
  }

  /** `v6only` false (dual-stack) is refused: the addon's listen sets IPV6_V6ONLY. */
  static open(local: { address: string; port: number; mark?: number; v6only?: boolean }, addon: NativeAddon = native()): KernelTcpListener {
    const where = `TCP ${endpointText(local)}`;
    if (local.v6only === false && local.address.includes(':')) {
      throw new DatapathError('EOPNOTSUPP', `TCP listen on ${endpointText(local)}: dual-stack (v6only off) is not supported`);
    }
    let fd: number;
    try {
      fd = addon.tcpListen(encodeSockaddr(local), BACKLOG);
    } catch (err) {
      throw fromSystemError(err, `cannot listen on ${where}`);
    }
    try {
      if (local.mark) setSocketMark(addon, fd, local.mark);
      return new KernelTcpListener(addon, fd);
    } catch (err) {
      addon.close(fd);
      throw fromSystemError(err, `TCP listener on ${endpointText(local)}`);
    }
  }

  onAccept(handler: (conn: TcpTransport) => void): void {
    this.handler = handler;
    for (const c of this.early.splice(0)) handler(c);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.poller.close();
    this.addon.close(this.fd);
    for (const c of this.early.splice(0)) await c.close();
  }

  private readonly onReadable = (): void => {
    for (let i = 0; i < 64 && !this.closed; i++) {
      let c: { fd: number; peer: Buffer } | null;
      try {
        c = this.addon.tcpAccept(this.fd);
      } catch {
        return; // EMFILE and the like: try again on the next event
      }
      if (c === null) return;
      let conn: KernelTcpTransport;
      try {
        conn = new KernelTcpTransport(this.addon, c.fd);
      } catch {
        this.addon.close(c.fd); // reset before we looked at it
        continue;
      }
      if (this.handler) this.handler(conn);
      else this.early.push(conn);
    }
  };
}
