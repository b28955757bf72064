/**
 * TCP transports of the kernel data path (issue #11). A connected TCP socket is handed to
 * the module as PEER_SOCKET; from then on the module reads the stream: DATA_V2 stays in the
 * kernel and every other packet (the control channel) is queued for this process, which
 * reads one packet per recvmsg() with its 2-byte length prefix kept, as mainline's driver
 * hands them; a write must then be one whole frame (length prefix and packet).
 *
 * Before the hand-over this process reads the plain stream itself. The module's parser
 * starts on whatever the socket holds when the peer is added, so the stream must be at a
 * frame boundary then: before the hand-over, reads take exactly the rest of the current
 * frame (never a byte of the next one), writes are finished, and `attach()` waits until no
 * frame is half read or half written. After the peer is gone (`detach()`), the socket is
 * the plain stream again.
 */
import { tcpCloseOf } from './tcp-errors.js';
import type { NativeAddon, Poller } from '../native.js';
import { decodeSockaddr, encodeSockaddr, endpointText, unmapAddress } from '../util/sockaddr.js';
import { setSocketMark } from '../util/sockopt.js';
import { isDataV2 } from '../wire/constants.js';
import { connectTcp } from './userspace/tcp-listen.js';
import { fromSystemError } from './userspace/errors.js';
import type { Endpoint, TcpCloseReason, TcpListener, TcpTransport } from './types.js';

/** The largest frame: 2-byte length and 65,535 bytes of packet. */
const MAX_FRAME = 0xffff + 2;
/** Bytes queued before the hand-over (or while the module refuses a write) beyond which packets are dropped. */
const MAX_QUEUE = 1 << 20;
/** How long attach() waits for a half-read or half-written frame to complete. */
const BOUNDARY_WAIT_MS = 10_000;
const BACKLOG = 128;
/** Control packets kept until a handler is set (the first ones of a fresh connection). */
const EARLY_MAX = 64;

type CloseHandler = (reason: TcpCloseReason, detail?: string) => void;

export class KernelTcpConnection implements TcpTransport {
  readonly kind = 'tcp' as const;
  readonly local: Endpoint;
  readonly remote: Endpoint;
  /** Packets not sent: the queue was full, or the packet was empty or too large for a frame. */
  txDropped = 0;
  private readonly poller: Poller;
  private controlHandler: ((packet: Buffer) => void) | undefined;
  private readonly early: Buffer[] = [];
  private readonly closeHandlers: CloseHandler[] = [];
  private ended: { reason: TcpCloseReason; detail: string | undefined } | undefined;
  /** The module reads the stream (between attached() and detach()). */
  private attached_ = false;
  /** prepareAttach(): stop at the next frame boundary, hold packets to send. */
  private pausing = false;
  private closed = false;
  /** Bytes read and not yet delivered: at most the frame being read (before the hand-over). */
  private readonly rx = Buffer.allocUnsafeSlow(2 * MAX_FRAME);
  private rxLen = 0;
  /** Frames (whole, framed) waiting to be written; the head may be partly written. */
  private readonly queue: Buffer[] = [];
  private queued = 0;
  private headSent = 0;
  /** Frames sent while prepareAttach() holds the stream still. */
  private readonly held: Buffer[] = [];
  private polling: 'readable' | 'both' | undefined;
  private boundaryWaiters: (() => void)[] = [];

  constructor(
    private readonly addon: NativeAddon,
    /** The fd passed as PEER_SOCKET. */
    readonly fd: number,
  ) {
    // a dual-stack listener's IPv4 clients: reported as IPv4, as the kernel keeps such peers
    const local = decodeSockaddr(addon.sockName(fd));
    const remote = decodeSockaddr(addon.peerName(fd));
    this.local = { ...local, address: unmapAddress(local.address) };
    this.remote = { ...remote, address: unmapAddress(remote.address) };
    this.poller = new addon.Poller(fd);
    this.poll();
  }

  static async connect(addon: NativeAddon, remote: Endpoint, opts: { local?: { address: string; port?: number }; mark?: number; timeoutMs?: number }): Promise<KernelTcpConnection> {
    const fd = await connectTcp(addon, remote, opts.local, opts.mark ?? 0, opts.timeoutMs ?? 120_000);
    try {
      return new KernelTcpConnection(addon, fd);
    } catch (err) {
      addon.close(fd);
      throw fromSystemError(err, `TCP connection to ${endpointText(remote)}`);
    }
  }

  /** Control packets (every frame that is not DATA_V2), without their length. */
  onControlPacket(handler: (packet: Buffer) => void): void {
    this.controlHandler = handler;
    for (const p of this.early.splice(0)) handler(p);
  }

  /** Runs once when the connection ends (at once if it already has). */
  onClose(handler: CloseHandler): void {
    if (this.ended) handler(this.ended.reason, this.ended.detail);
    else this.closeHandlers.push(handler);
  }

  /** At a frame boundary both ways: nothing half read, nothing waiting to be written. */
  private get atBoundary(): boolean {
    return this.rxLen === 0 && this.queue.length === 0;
  }

  /**
   * Called before the socket is handed to the module: resolves once the stream is at a frame
   * boundary both ways (rejects after BOUNDARY_WAIT_MS, or if the connection ends), with
   * reading stopped and packets sent meanwhile held, so that no byte moves until
   * attached() (the peer was added) or detach() (it was not).
   */
  async prepareAttach(): Promise<void> {
    if (this.closed) throw new Error(`TCP connection ${this.describe()} is closed`);
    this.pausing = true;
    if (!this.atBoundary) {
      try {
        await new Promise<void>((resolve, reject) => {
          const timer = setTimeout(() => reject(new Error(`TCP connection ${this.describe()}: a frame stayed half read or half written for ${BOUNDARY_WAIT_MS / 1000} s`)), BOUNDARY_WAIT_MS);
          this.boundaryWaiters.push(() => {
            clearTimeout(timer);
            if (this.closed) reject(new Error(`TCP connection ${this.describe()} ended before the peer was added`));
            else resolve();
          });
        });
      } catch (err) {
        this.detach();
        throw err;
      }
    }
    this.poller.stop();
    this.polling = undefined;
  }

  /** The module reads the stream now: packets held by prepareAttach() go out as whole frames. */
  attached(): void {
    this.attached_ = true;
    this.pausing = false;
    const held = this.held.splice(0);
    this.queued = 0;
    for (const frame of held) this.writeFrame(frame);
    this.poll();
  }

  /** The peer was not added, or is gone: this process reads the plain stream again. */
  detach(): void {
    this.attached_ = false;
    this.pausing = false;
    this.queue.push(...this.held.splice(0));
    this.flush();
  }

  private poll(): void {
    if (this.closed) return;
    const want = this.queue.length > 0 && !this.attached_ ? 'both' : 'readable';
    if (this.polling === want) return;
    this.polling = want;
    this.poller.start((err?: Error) => this.onEvent(err), want);
  }

  private onEvent(err?: Error): void {
    if (err) {
      this.end('error', err.message);
      return;
    }
    if (!this.attached_ && this.queue.length > 0) this.flush();
    this.read();
  }

  private read(): void {
    for (let round = 0; round < 64 && !this.closed; round++) {
      if (this.pausing && this.rxLen === 0) {
        this.poller.stop(); // at a boundary: nothing more until attached() or detach()
        this.polling = undefined;
        return;
      }
      // Attached: whatever is there (the module hands one whole framed packet per call).
      // Before: exactly what the current frame still lacks (header first), never a byte of
      // the next frame. Both are deframed alike, so a stream the module gave back on its own
      // (a peer it deleted) still reads right.
      const want = this.attached_ ? this.rx.length - this.rxLen
        : this.rxLen < 2 ? 2 - this.rxLen : 2 + this.rx.readUInt16BE(0) - this.rxLen;
      let n: number;
      try {
        n = this.addon.streamRead(this.fd, this.rx.subarray(this.rxLen, this.rxLen + want));
      } catch (e) {
        const c = tcpCloseOf(e);
        this.end(c.reason, c.detail);
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
  }

  /** Delivers every whole frame at the start of rx (zero-length ones skipped), keeps the rest. */
  private deframe(): void {
    let off = 0;
    while (this.rxLen - off >= 2 && this.rxLen - off >= 2 + this.rx.readUInt16BE(off)) {
      const len = this.rx.readUInt16BE(off);
      // DATA_V2 read before the module has the socket is the module's business
      if (len > 0 && !isDataV2(this.rx, off + 2, len)) this.deliver(Buffer.from(this.rx.subarray(off + 2, off + 2 + len)));
      off += 2 + len;
      if (this.closed) return;
    }
    if (off > 0) {
      this.rx.copy(this.rx, 0, off, this.rxLen);
      this.rxLen -= off;
      this.boundaryReached();
    }
  }

  private deliver(packet: Buffer): void {
    if (this.controlHandler) this.controlHandler(packet);
    else if (this.early.length < EARLY_MAX) this.early.push(packet);
  }

  /**
   * Sends one packet, framed; dropped (counted) when it cannot be framed or the queue is
   * full, as a UDP datagram would be; nothing once the connection has ended.
   */
  send(packet: Buffer): void {
    if (this.closed) return;
    if (packet.length === 0 || packet.length > 0xffff || this.queued + packet.length + 2 > MAX_QUEUE) {
      this.txDropped++;
      return;
    }
    const frame = Buffer.allocUnsafe(packet.length + 2);
    frame.writeUInt16BE(packet.length, 0);
    packet.copy(frame, 2);
    if (this.attached_) {
      this.writeFrame(frame);
      return;
    }
    this.queued += frame.length;
    if (this.pausing) {
      this.held.push(frame);
      return;
    }
    this.queue.push(frame);
    this.flush();
  }

  /** Attached: one whole frame per write (the module takes nothing else); refused now: dropped. */
  private writeFrame(frame: Buffer): void {
    try {
      if (this.addon.streamWrite(this.fd, frame, frame.length) < 0) this.txDropped++;
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'EPIPE' || code === 'ECONNRESET') this.end('reset', code);
      else this.txDropped++;
    }
  }

  private flush(): void {
    while (this.queue.length > 0 && !this.closed) {
      const head = this.queue[0]!;
      let n: number;
      try {
        n = this.addon.streamWrite(this.fd, head.subarray(this.headSent), head.length - this.headSent);
      } catch (e) {
        const c = tcpCloseOf(e);
        this.end(c.reason, c.detail);
        return;
      }
      if (n < 0) break;
      this.headSent += n;
      if (this.headSent < head.length) break;
      this.queue.shift();
      this.queued -= head.length;
      this.headSent = 0;
    }
    if (this.queue.length === 0) this.boundaryReached();
    this.poll();
  }

  private boundaryReached(): void {
    if (!this.atBoundary || this.boundaryWaiters.length === 0) return;
    const waiters = this.boundaryWaiters;
    this.boundaryWaiters = [];
    for (const w of waiters) w();
  }

  /** Closes the fd (the module then deletes a peer on it) and reports the reason once. */
  private end(reason: TcpCloseReason, detail?: string): void {
    if (this.closed) return;
    this.closed = true;
    this.ended = { reason, detail };
    this.poller.close();
    this.addon.close(this.fd);
    this.queue.length = 0;
    this.held.length = 0;
    this.queued = 0;
    const waiters = this.boundaryWaiters;
    this.boundaryWaiters = [];
    for (const w of waiters) w();
    for (const h of this.closeHandlers.splice(0)) h(reason, detail);
  }

  /** Closes the socket: the module deletes a peer on it (TRANSPORT_DISCONNECT). */
  async close(): Promise<void> {
    this.end('local');
  }

  private describe(): string {
    return `${endpointText(this.local)} -> ${endpointText(this.remote)}`;
  }
}

/** A listening TCP socket of the kernel path: each accepted connection is a KernelTcpConnection. */
export class KernelTcpListener implements TcpListener {
  readonly local: Endpoint;
  private readonly poller: Poller;
  private handler: ((conn: TcpTransport) => void) | undefined;
  private readonly early: KernelTcpConnection[] = [];
  private closed = false;

  private constructor(
    private readonly addon: NativeAddon,
    private readonly fd: number,
  ) {
    this.local = decodeSockaddr(addon.sockName(fd));
    this.poller = new addon.Poller(fd);
    this.poller.start(() => this.accept());
  }

  static open(addon: NativeAddon, local: { address: string; port: number; mark?: number; v6only?: boolean }): KernelTcpListener {
    let fd: number;
    try {
      fd = addon.tcpListen(encodeSockaddr(local), BACKLOG, local.v6only !== false);
    } catch (err) {
      throw fromSystemError(err, `cannot listen on TCP ${endpointText(local)}`);
    }
    try {
      if (local.mark) setSocketMark(addon, fd, local.mark);
      return new KernelTcpListener(addon, fd);
    } catch (err) {
      addon.close(fd);
      throw fromSystemError(err, `TCP listener on ${endpointText(local)}`);
    }
  }

  /** Each accepted connection; those accepted before a handler was set are handed to it now. */
  onAccept(handler: (conn: TcpTransport) => void): void {
    this.handler = handler;
    for (const c of this.early.splice(0)) handler(c);
  }

  private accept(): void {
    for (let i = 0; i < 64 && !this.closed; i++) {
      let c: { fd: number; peer: Buffer } | null;
      try {
        c = this.addon.tcpAccept(this.fd);
      } catch {
        return; // EMFILE and the like: the next event tries again
      }
      if (c === null) return;
      let conn: KernelTcpConnection;
      try {
        conn = new KernelTcpConnection(this.addon, c.fd);
      } catch {
        this.addon.close(c.fd); // reset before we looked at it
        continue;
      }
      if (this.handler) this.handler(conn);
      else if (this.early.length < EARLY_MAX) this.early.push(conn);
      else void conn.close();
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.poller.close();
    this.addon.close(this.fd);
    for (const c of this.early.splice(0)) await c.close();
  }
}
