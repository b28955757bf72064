/**
 * Receive-side replay protection of one key: a sliding window of REPLAY_WINDOW_SIZE packet
 * ids behind the newest id accepted so far. Semantics (as mainline ovpn):
 *  - id 0 is never valid;
 *  - an id newer than every id seen is accepted and slides the window;
 *  - an older id is accepted once if it is still inside the window, else dropped;
 *  - after REPLAY_BACKTRACK_EXPIRE_MS without an accepted packet, ids at or below the newest
 *    one are refused (a long-silent peer cannot be fed old packets).
 * `check` is side-effect free (used before decryption to skip obvious replays cheaply);
 * `accept` commits an id and must only be called after the packet authenticated.
 */
import { REPLAY_BACKTRACK_EXPIRE_MS, REPLAY_WINDOW_SIZE } from './constants.js';

export const enum ReplayVerdict {
  Ok = 0,
  /** Packet id 0. */
  Zero = 1,
  /** Seen before. */
  Duplicate = 2,
  /** Older than the window (or backtrack after the expiry). */
  TooOld = 3,
}

const WORDS = REPLAY_WINDOW_SIZE / 32;
const MASK = REPLAY_WINDOW_SIZE - 1;

export class ReplayWindow {
  /** Bit (id mod SIZE) is set if id was accepted; valid for ids in (newest - SIZE, newest]. */
  private readonly bits = new Uint32Array(WORDS);
  /** Newest accepted id; 0 while nothing was accepted. */
  private newest = 0;
  /** Ids at or below this are refused (raised by the backtrack expiry). */
  private floor = 0;
  private lastAcceptMs = 0;

  /** Would `id` be accepted now? */
  check(id: number, nowMs: number): ReplayVerdict {
    if (id === 0) return ReplayVerdict.Zero;
    if (id > this.newest) return ReplayVerdict.Ok;
    const floor = nowMs - this.lastAcceptMs >= REPLAY_BACKTRACK_EXPIRE_MS ? this.newest : this.floor;
    if (id <= floor || this.newest - id >= REPLAY_WINDOW_SIZE) return ReplayVerdict.TooOld;
    const bit = id & MASK;
    return this.bits[bit >>> 5]! & (1 << (bit & 31)) ? ReplayVerdict.Duplicate : ReplayVerdict.Ok;
  }

  /** Checks and records `id`; returns the verdict (Ok means recorded). */
  accept(id: number, nowMs: number): ReplayVerdict {
    if (nowMs - this.lastAcceptMs >= REPLAY_BACKTRACK_EXPIRE_MS) this.floor = this.newest;
    const v = this.check(id, nowMs);
    if (v !== ReplayVerdict.Ok) return v;
    if (id > this.newest) {
      const delta = id - this.newest;
      if (delta >= REPLAY_WINDOW_SIZE) {
        this.bits.fill(0);
      } else {
        // Forget the ids that the window slides over (their bits now stand for newer ids).
        for (let i = this.newest + 1; i < id; i++) {
          const b = i & MASK;
          this.bits[b >>> 5]! &= ~(1 << (b & 31));
        }
      }
      this.newest = id;
    }
    const bit = id & MASK;
    this.bits[bit >>> 5]! |= 1 << (bit & 31);
    this.lastAcceptMs = nowMs;
    return ReplayVerdict.Ok;
  }

  /** Newest accepted packet id (0 if none). */
  get highest(): number {
    return this.newest;
  }
}
