/**
 * The stateless first reply of a UDP server: the server's session id is an HMAC over the
 * client's address, the client's session id and a coarse time slot, so the server keeps no
 * state until the client proves it can receive at its address by echoing that id back.
 *
 * A reset and its retransmission must get the same server session id, even when they arrive
 * on both sides of a slot boundary: a client that saw two ids took the later one while the
 * server built its session on the earlier, and the handshake stalled ("Unroutable control
 * packet"). So the cookies handed out in the last slot are remembered, in a bounded table
 * (RECENT_MAX entries, oldest first out): memory stays flat under a flood of spoofed resets,
 * which at worst evict an entry, and then a retransmission is answered as before.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Endpoint } from '../datapath/types.js';
import { SESSION_ID_LEN } from './packet.js';

/** A cookie is valid in the slot it was made in and the next one: 30 to 60 s. */
export const COOKIE_SLOT_MS = 30_000;

/** Cookies remembered for retransmitted resets (about 100 bytes each). */
export const RECENT_MAX = 4096;

export class SessionCookies {
  private readonly key: Buffer;
  /** Cookies made recently, by client (address, port, session id), in the order made. */
  private readonly recent = new Map<string, { cookie: Buffer; slot: number }>();

  constructor(key: Buffer = randomBytes(32), private readonly slotMs = COOKIE_SLOT_MS, private readonly recentMax = RECENT_MAX) {
    this.key = key;
  }

  private compute(slot: number, from: Endpoint, clientSessionId: Buffer): Buffer {
    const h = createHmac('sha256', this.key);
    const s = Buffer.alloc(4);
    s.writeUInt32BE(slot >>> 0);
    h.update(s).update(`${from.address}|${from.port}|`).update(clientSessionId);
    return h.digest().subarray(0, SESSION_ID_LEN);
  }

  /**
   * The server session id to answer `clientSessionId` from `from` with at time `now` (ms):
   * the one given to the same reset before if that still verifies, else a new one.
   */
  make(now: number, from: Endpoint, clientSessionId: Buffer): Buffer {
    const slot = Math.floor(now / this.slotMs);
    const id = `${from.address}|${from.port}|${clientSessionId.toString('hex')}`;
    const known = this.recent.get(id);
    if (known && known.slot >= slot - 1) return known.cookie;
    // Entries are in the order made: drop the expired ones from the front, then the oldest
    // while the table is full.
    for (const [k, v] of this.recent) {
      if (v.slot >= slot - 1 && this.recent.size < this.recentMax) break;
      this.recent.delete(k);
    }
    const cookie = this.compute(slot, from, clientSessionId);
    this.recent.set(id, { cookie, slot });
    return cookie;
  }

  /** Cookies remembered now (tests, status). */
  get remembered(): number {
    return this.recent.size;
  }

  /** True if `serverSessionId` is a cookie this server made for that client recently. */
  verify(now: number, from: Endpoint, clientSessionId: Buffer, serverSessionId: Buffer): boolean {
    if (serverSessionId.length !== SESSION_ID_LEN) return false;
    const slot = Math.floor(now / this.slotMs);
    for (const s of [slot, slot - 1]) {
      if (timingSafeEqual(this.compute(s, from, clientSessionId), serverSessionId)) return true;
    }
    return false;
  }
}
