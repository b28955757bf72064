/**
 * A TCP transport connection served by the engine (issue #11): one connected socket that
 * carries one peer. The stream is a sequence of frames, each a packet preceded by its
 * length (2 bytes, big endian), as OpenVPN frames packets over TCP. Received DATA_V2
 * frames go to the device's data path exactly like UDP datagrams (EngineDevice.receive with
 * the connection's remote as the sender); every other frame goes to the owner (onControl).
 *
 * Sending: the data path writes encrypted packets into `tx` (reserve/commit, as on a UDP
 * socket) with room for the length in front; `flush` writes them to the stream. What the
 * kernel does not take at once waits in a queue of at most MAX_QUEUE bytes, written when
 * the socket becomes writable; a packet that does not fit is dropped and counted
 * (`txDropped`), so a peer that stops reading costs bounded memory and stalls no one.
 *
 * Bad input: a zero-length frame is counted (`rxBadFrames`) and skipped; anything else is
 * framing-valid and handled by the data path (drops by reason) or the owner's control
 * channel. End of stream (also in the middle of a frame), a reset or an error ends the
 * connection: `onEnd` runs once with the reason (the engine then deletes the peer).
 */
import { tcpCloseOf } from '../tcp-errors.js';
import type { NativeAddon, Poller } from '../../native.js';
import type { Endpoint, TcpCloseReason } from '../types.js';
import { decodeSockaddr, encodeSockaddr, SOCKADDR_LEN, unmapAddress, unmapSockaddr } from '../../util/sockaddr.js';
import { OP_DATA_V2, opcodeOf } from '../../wire/index.js';
import { BATCH, PacketBatch } from './batch.js';
import type { EngineDevice } from './device.js';
import type { Peer } from './peer.js';

/** Bytes queued for the stream beyond which packets are dropped. */
export const MAX_QUEUE = 1 << 20;
/** Largest framed packet. */
export const MAX_FRAME = 0xffff;
/** Bytes of frames gathered into one send() (a TSO-sized chunk). */
const COALESCE = 64 * 1024;
/** Read rounds per readable event (bounds the time one connection holds the loop). */
const RX_ROUNDS = 8;

export type TcpEndHandler = (reason: TcpCloseReason, detail?: string) => void;

export class EngineTcp {
  readonly kind = 'tcp' as const;
  /** Never needed: a connection from an IPv4 client to a dual-stack listener is unmapped
   *  (remote and local as IPv4), so its peer's remote has the family of `local` (check.ts). */
  readonly dualStack = false;
  readonly remote: Endpoint;
  readonly local: Endpoint;
  /** The remote as a sockaddr record: the "sender" of every received DATA_V2 packet. */
  readonly remoteRec: Buffer;
  device: EngineDevice | undefined;
  readonly peers = new Set<number>();
  onControl: ((packet: Buffer, from: Endpoint) => void) | undefined;
  onEnd: TcpEndHandler | undefined;
  readonly tx = new PacketBatch();
  dirty = false;
  closed = false;
  /** Packets dropped because the send queue was full (or too large to frame). */
  txDropped = 0;
  /** Zero-length frames received. */
  rxBadFrames = 0;
  private readonly rxBuf = Buffer.allocUnsafeSlow(2 * (MAX_FRAME + 2));
  /** The frames of one flush, gathered for one send(). */
  private readonly coalesce = Buffer.allocUnsafeSlow(COALESCE);
  private rxLen = 0;
  private readonly queue: Buffer[] = [];
  private queued = 0;
  private writing = false;
  private txSlot = 0;
  /** One poller for the fd (libuv allows one per fd): readable, or both while a queue waits. */
  private readonly poller: Poller;

  constructor(
    private readonly addon: NativeAddon,
    readonly id: number,
    readonly fd: number,
    local: Endpoint,
  ) {
    this.remoteRec = Buffer.from(addon.peerName(fd));
    if (this.remoteRec.length < SOCKADDR_LEN) throw new Error('TCP peer address record is short');
    // an IPv4 client of a dual-stack listener: an AF_INET record, as on a dual-stack UDP socket
    unmapSockaddr(this.remoteRec);
    this.remote = decodeSockaddr(this.remoteRec);
    this.local = { ...local, address: unmapAddress(local.address) };
    this.poller = new addon.Poller(fd);
    this.poller.start(this.onReadable);
  }

  private readonly onReadable = (): void => {
    for (let round = 0; round < RX_ROUNDS && !this.closed; round++) {
      let n: number;
      try {
        n = this.addon.streamRead(this.fd, this.rxBuf.subarray(this.rxLen));
      } catch (err) {
        const c = tcpCloseOf(err);
        this.end(c.reason, c.detail);
        return;
      }
      if (n < 0) break;
      if (n === 0) {
        this.end('eof', this.rxLen > 0 ? `stream ended inside a frame (${this.rxLen} bytes pending)` : undefined);
        return;
      }
      this.rxLen += n;
      this.deframe();
    }
  };

  /** Delivers every complete frame in rxBuf and keeps the partial rest at its start. */
  private deframe(): void {
    const b = this.rxBuf;
    let off = 0;
    const now = performance.now();
    const dev = this.device;
    while (!this.closed && this.rxLen - off >= 2) {
      const len = b.readUInt16BE(off);
      if (this.rxLen - off - 2 < len) break;
      const p = off + 2;
      off = p + len;
      if (len === 0) {
        this.rxBadFrames++;
        if (dev !== undefined) dev.drops.malformed++;
      } else if (dev !== undefined && opcodeOf(b[p]!) === OP_DATA_V2) {
        dev.receive(b, p, len, this.remoteRec, 0, this, now);
      } else if (this.onControl) {
        this.onControl(Buffer.from(b.subarray(p, p + len)), this.remote);
      }
    }
    if (dev !== undefined) dev.flushTun();
    if (off > 0) {
      b.copy(b, 0, off, this.rxLen);
      this.rxLen -= off;
    }
  }

  /** Where the next packet goes in tx.bufs[txSlotIndex]: after its 2-byte length. */
  reserve(_dest: Peer, _n: number): number {
    if (this.tx.count === BATCH) this.flush();
    this.txSlot = this.tx.count;
    return 2;
  }

  get txSlotIndex(): number {
    return this.txSlot;
  }

  commit(_dest: Peer, n: number): void {
    const k = this.txSlot;
    if (n > MAX_FRAME) {
      this.dropTx();
      return;
    }
    this.tx.bufs[k]!.writeUInt16BE(n, 0);
    this.tx.lens[k] = n + 2;
    this.tx.count = k + 1;
  }

  /** Counts a packet that did not go out: on the connection and, once attached, as the device's `send` drop. */
  private dropTx(): void {
    this.txDropped++;
    if (this.device !== undefined) this.device.drops.send++;
  }

  /**
   * Writes the batch to the stream (what does not go at once is queued, bounded): frames are
   * gathered into one buffer of up to COALESCE bytes per send(), not one send() each.
   */
  flush(): void {
    const tx = this.tx;
    const count = tx.count;
    tx.count = 0;
    this.dirty = false;
    const out = this.coalesce;
    let used = 0;
    let frames = 0;
    for (let i = 0; i < count && !this.closed; i++) {
      const len = tx.lens[i]!;
      if (used + len > out.length) {
        if (used > 0) this.write(out, used, false, frames);
        used = 0;
        frames = 0;
      }
      if (len > out.length) {
        this.write(tx.bufs[i]!, len, false);
        continue;
      }
      tx.bufs[i]!.copy(out, used, 0, len);
      used += len;
      frames++;
    }
    if (used > 0 && !this.closed) this.write(out, used, false, frames);
  }

  /** Sends one packet outside the data path (control channel), framed. */
  sendRaw(packet: Buffer): void {
    if (packet.length > MAX_FRAME || packet.length === 0) {
      this.dropTx();
      return;
    }
    const f = Buffer.allocUnsafe(packet.length + 2);
    f.writeUInt16BE(packet.length, 0);
    packet.copy(f, 2);
    this.write(f, f.length, true);
  }

  /** `frames` whole frames in buf[0..len): written now if nothing waits, else queued (owned: no copy). */
  private write(buf: Buffer, len: number, owned: boolean, frames = 1): void {
    if (this.closed) return;
    let done = 0;
    if (this.queue.length === 0) {
      try {
        const n = this.addon.streamWrite(this.fd, buf, len);
        if (n > 0) done = n;
      } catch (err) {
        const c = tcpCloseOf(err);
        this.end(c.reason, c.detail);
        return;
      }
      if (done === len) return;
    }
    // frames are queued whole or not at all (a partly written one must be completed)
    if (done === 0 && this.queued + len > MAX_QUEUE) {
      for (let f = 0; f < frames; f++) this.dropTx();
      return;
    }
    const rest = owned && done === 0 && len === buf.length ? buf : Buffer.from(buf.subarray(done, len));
    this.queue.push(rest);
    this.queued += rest.length;
    if (!this.writing) {
      this.writing = true;
      this.poller.start(this.onEither, 'both');
    }
  }

  private readonly onWritable = (): void => {
    while (this.queue.length > 0 && !this.closed) {
      const head = this.queue[0]!;
      let n: number;
      try {
        n = this.addon.streamWrite(this.fd, head, head.length);
      } catch (err) {
        const c = tcpCloseOf(err);
        this.end(c.reason, c.detail);
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

  private readonly onEither = (): void => {
    this.onWritable();
    this.onReadable();
  };

  /** The connection ended on its own: reported once; the engine deletes the peer and closes it. */
  private end(reason: TcpCloseReason, detail?: string): void {
    if (this.closed) return;
    const h = this.onEnd;
    this.onEnd = undefined;
    if (h) h(reason, detail);
    else this.close();
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.onEnd = undefined;
    this.poller.close();
    this.queue.length = 0;
    this.queued = 0;
    this.addon.close(this.fd);
  }
}

/** Encodes an endpoint as the record tcpConnect/tcpListen take. */
export function tcpSockaddr(ep: Endpoint): Buffer {
  return encodeSockaddr(ep);
}
