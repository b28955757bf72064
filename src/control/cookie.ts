/**
 * The stateless first reply of a UDP server: the server's session id is an HMAC over the
 * client's address, the client's session id and a coarse time slot, so the server keeps no
 * state until the client proves it can receive at its address by echoing that id back.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Endpoint } from '../datapath/types.js';
import { SESSION_ID_LEN } from './packet.js';

/** A cookie is valid in the slot it was made in and the next one: 30 to 60 s. */
export const COOKIE_SLOT_MS = 30_000;

export class SessionCookies {
  private readonly key: Buffer;

  constructor(key: Buffer = randomBytes(32), private readonly slotMs = COOKIE_SLOT_MS) {
    this.key = key;
  }

  private compute(slot: number, from: Endpoint, clientSessionId: Buffer): Buffer {
    const h = createHmac('sha256', this.key);
    const s = Buffer.alloc(4);
    s.writeUInt32BE(slot >>> 0);
    h.update(s).update(`${from.address}|${from.port}|`).update(clientSessionId);
    return h.digest().subarray(0, SESSION_ID_LEN);
  }

  /** The server session id to answer `clientSessionId` from `from` with at time `now` (ms). */
  make(now: number, from: Endpoint, clientSessionId: Buffer): Buffer {
    return this.compute(Math.floor(now / this.slotMs), from, clientSessionId);
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
