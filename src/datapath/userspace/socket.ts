/**
 * A UDP transport socket served by the engine: batched receive (recvmmsg) and send
 * (sendmmsg) through the addon. DATA_V2 packets go to the device the socket is attached
 * to; everything else (the control channel) goes to the socket's owner.
 */
import type { NativeAddon, Poller } from '../../native.js';
import type { Endpoint } from '../types.js';
import { decodeSockaddr, encodeSockaddr, SOCKADDR_LEN } from '../../util/sockaddr.js';
import { isDataV2 } from '../../wire/index.js';
import { BATCH, PacketBatch } from './batch.js';
import { fromSystemError } from './errors.js';
import type { EngineDevice } from './device.js';

export type ControlHandler = (packet: Buffer, from: Endpoint) => void;

/** Receive rounds per readable event (bounds the time one socket holds the loop). */
const RX_ROUNDS = 8;

export class EngineSocket {
  readonly local: Endpoint;
  /** Device whose peers use this socket (a socket serves one device, as in the kernel). */
  device: EngineDevice | undefined;
  readonly peers = new Set<number>();
  onControl: ControlHandler | undefined;
  readonly tx = new PacketBatch();
  /** Queued in the engine's list of sockets with packets to flush. */
  dirty = false;
  closed = false;
  private readonly rx = new PacketBatch();
  private readonly poller: Poller;
  private readonly sendOne: { bufs: Buffer[]; lens: Uint32Array; addr: Buffer } = {
    bufs: [Buffer.alloc(0)],
    lens: new Uint32Array(1),
    addr: Buffer.alloc(SOCKADDR_LEN),
  };

  private constructor(
    private readonly addon: NativeAddon,
    readonly id: number,
    readonly fd: number,
  ) {
    this.local = decodeSockaddr(addon.sockName(fd));
    this.poller = new addon.Poller(fd);
    this.poller.start(this.onReadable);
  }

  static open(addon: NativeAddon, id: number, local: Endpoint): EngineSocket {
    let fd: number;
    try {
      fd = addon.udpOpen(encodeSockaddr(local));
    } catch (err) {
      throw fromSystemError(err, `cannot bind UDP ${local.address} port ${local.port}`);
    }
    try {
      return new EngineSocket(addon, id, fd);
    } catch (err) {
      addon.close(fd);
      throw fromSystemError(err, `UDP socket on ${local.address} port ${local.port}`);
    }
  }

  private readonly onReadable = (): void => {
    const rx = this.rx;
    for (let round = 0; round < RX_ROUNDS && !this.closed; round++) {
      rx.resetCapacity();
      let n: number;
      try {
        n = this.addon.udpRecvBatch(this.fd, rx.bufs, rx.lens, rx.addrs);
      } catch {
        // ICMP errors (ECONNREFUSED...) surface as failed receives: nothing to read this round.
        continue;
      }
      if (n === 0) break;
      const dev = this.device;
      const now = performance.now();
      for (let i = 0; i < n; i++) {
        const buf = rx.bufs[i]!;
        const len = rx.lens[i]!;
        if (dev !== undefined && isDataV2(buf, 0, len)) {
          dev.receive(buf, len, rx.addrs, i * SOCKADDR_LEN, this, now);
        } else if (len > 0 && this.onControl) {
          this.onControl(Buffer.from(buf.subarray(0, len)), decodeSockaddr(rx.addrs, i * SOCKADDR_LEN));
        }
      }
      if (dev !== undefined) dev.flushTun();
      if (n < BATCH) break;
    }
  };

  /** Sends the queued batch; packets the kernel does not take (full queue) are dropped. */
  flush(): void {
    const tx = this.tx;
    const count = tx.count;
    tx.count = 0;
    this.dirty = false;
    if (count === 0 || this.closed) return;
    let done = 0;
    while (done < count) {
      let sent: number;
      try {
        sent = this.addon.udpSendBatch(this.fd, done === 0 ? tx.bufs : tx.bufs.slice(done), done === 0 ? tx.lens : tx.lens.subarray(done), done === 0 ? tx.addrs : tx.addrs.subarray(done * SOCKADDR_LEN), count - done);
      } catch {
        // An unreachable destination fails the entry at the head: skip it.
        sent = 1;
      }
      if (sent === 0) break;
      done += sent;
    }
  }

  /** Sends one packet outside the data path (control channel). */
  sendRaw(packet: Buffer, to: Endpoint): void {
    const s = this.sendOne;
    s.bufs[0] = packet;
    s.lens[0] = packet.length;
    encodeSockaddr(to, s.addr);
    try {
      this.addon.udpSendBatch(this.fd, s.bufs, s.lens, s.addr, 1);
    } catch (err) {
      throw fromSystemError(err, `send to ${to.address} port ${to.port}`);
    }
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.poller.close();
    this.addon.close(this.fd);
  }
}
