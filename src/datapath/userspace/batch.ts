/** Preallocated packet batches for the addon's batched I/O calls (no allocation per packet). */
import { SOCKADDR_LEN } from '../../util/sockaddr.js';
import { DATA_V2_OVERHEAD } from '../../wire/index.js';

/** Packets per batched system call. */
export const BATCH = 32;
/** Largest IP packet (TUN side) plus the DATA_V2 overhead, rounded up. */
export const PACKET_BUF = 65536 + DATA_V2_OVERHEAD + 40;

export class PacketBatch {
  readonly bufs: Buffer[] = [];
  readonly lens = new Uint32Array(BATCH);
  /** UDP only: GSO/GRO segment size per entry (0: one datagram), see NativeAddon.udpSendBatch. */
  readonly segs = new Uint32Array(BATCH);
  /** Socket address records (UDP only), SOCKADDR_LEN bytes each. */
  readonly addrs = Buffer.alloc(BATCH * SOCKADDR_LEN);
  /** Entries filled (outgoing batches). */
  count = 0;

  constructor() {
    for (let i = 0; i < BATCH; i++) this.bufs.push(Buffer.allocUnsafeSlow(PACKET_BUF));
    this.lens.fill(PACKET_BUF);
  }

  /** Restores every capacity (before a receive call). */
  resetCapacity(): void {
    this.lens.fill(PACKET_BUF);
  }
}
