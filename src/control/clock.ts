/** Time source and timers, injectable so that protocol timing is testable without waiting. */

export interface Timer {
  cancel(): void;
}

export interface Clock {
  /** Milliseconds, monotonic. */
  now(): number;
  setTimer(ms: number, fn: () => void): Timer;
}

export const systemClock: Clock = {
  now: () => performance.now(),
  setTimer(ms, fn) {
    const t = setTimeout(fn, Math.max(0, ms));
    return { cancel: () => clearTimeout(t) };
  },
};

/** A clock that only moves when told to; timers fire in deadline order during `advance`. */
export class ManualClock implements Clock {
  private t = 0;
  private seq = 0;
  private readonly timers = new Map<number, { at: number; fn: () => void }>();

  now(): number {
    return this.t;
  }

  setTimer(ms: number, fn: () => void): Timer {
    const id = this.seq++;
    this.timers.set(id, { at: this.t + Math.max(0, ms), fn });
    return { cancel: () => this.timers.delete(id) };
  }

  /** Moves time forward by `ms`, firing every timer that falls due (including ones they set). */
  advance(ms: number): void {
    const end = this.t + ms;
    for (;;) {
      let nextId: number | undefined;
      let nextAt = Infinity;
      for (const [id, e] of this.timers) {
        if (e.at <= end && (e.at < nextAt || (e.at === nextAt && id < nextId!))) {
          nextId = id;
          nextAt = e.at;
        }
      }
      if (nextId === undefined) break;
      const e = this.timers.get(nextId)!;
      this.timers.delete(nextId);
      this.t = Math.max(this.t, e.at);
      e.fn();
    }
    this.t = end;
  }

  get pendingTimers(): number {
    return this.timers.size;
  }
}
