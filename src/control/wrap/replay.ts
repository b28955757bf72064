/**
 * Replay protection of wrapped control packets, as OpenVPN's packet_id_test in UDP mode: a
 * packet id (counter, time) is new if its time is later than the newest seen, or if at the
 * same time its counter is above the newest or within the last 64 and not seen yet. Counter 0
 * is never valid.
 */
import type { WrapPacketId } from './codec.js';

export const REPLAY_WINDOW = 64;

export class WrapReplayWindow {
  private time = -1;
  private newest = 0;
  /** Counters seen at `time` within the window below `newest`. */
  private readonly seen = new Set<number>();

  /** True if `pid` is new; records it. */
  accept(pid: WrapPacketId): boolean {
    if (pid.id === 0) return false;
    if (pid.time < this.time) return false;
    if (pid.time > this.time) {
      this.time = pid.time;
      this.newest = pid.id;
      this.seen.clear();
      this.seen.add(pid.id);
      return true;
    }
    if (pid.id > this.newest) {
      this.newest = pid.id;
      this.seen.add(pid.id);
      for (const s of this.seen) if (s <= this.newest - REPLAY_WINDOW) this.seen.delete(s);
      return true;
    }
    if (this.newest - pid.id >= REPLAY_WINDOW || this.seen.has(pid.id)) return false;
    this.seen.add(pid.id);
    return true;
  }
}
