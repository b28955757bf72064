/**
 * The reliability layer of the OpenVPN control channel, one instance per key state:
 * message ids from 0, a send window of 6 unacknowledged messages retransmitted with
 * exponential backoff, a receive window of 12 that reorders and suppresses duplicates,
 * and the list of acks owed to the peer. Pure: time comes in as `now` (milliseconds).
 */
import type { ReliableOpcode } from './opcodes.js';

export const SEND_WINDOW = 6;
export const RECV_WINDOW = 12;
/** Acks in one ACK_V1 / piggy-backed on a reliable packet. */
export const MAX_ACKS_ACK_V1 = 8;
export const MAX_ACKS_PIGGYBACK = 4;
export const INITIAL_RETRANSMIT_MS = 2000;
/** Backoff stops doubling here; the handshake window bounds the total wait. */
export const MAX_RETRANSMIT_MS = 32000;

export interface ReliableMessage {
  id: number;
  opcode: ReliableOpcode;
  payload: Buffer;
  /** 1 for the first transmission, 2 for the first retransmission, ... */
  attempt: number;
}

interface InFlight {
  id: number;
  opcode: ReliableOpcode;
  payload: Buffer;
  /** When it was first sent (for giving up on a peer that stopped acknowledging). */
  firstSent: number;
  nextTry: number;
  interval: number;
  sends: number;
}

export class ReliableSender {
  private nextId: number;
  private readonly inFlight = new Map<number, InFlight>();
  private readonly waiting: { opcode: ReliableOpcode; payload: Buffer }[] = [];

  constructor(firstId = 0, private readonly initialInterval = INITIAL_RETRANSMIT_MS) {
    this.nextId = firstId;
  }

  /** Queues a message; it gets its id when it enters the send window. */
  enqueue(opcode: ReliableOpcode, payload: Buffer): void {
    this.waiting.push({ opcode, payload });
  }

  /** Records the peer's ack of `id`. Returns false for ids not in flight (late or bogus acks). */
  ack(id: number): boolean {
    return this.inFlight.delete(id);
  }

  /** Oldest unacknowledged id, or the next id to assign when nothing is in flight. */
  private windowBase(): number {
    let base = this.nextId;
    for (const id of this.inFlight.keys()) if (id < base) base = id;
    return base;
  }

  /**
   * Messages to put on the wire at `now`: those that enter the window (first send) and those
   * whose retransmit time has come (their interval doubles). Sorted by message id.
   */
  due(now: number): ReliableMessage[] {
    const base = this.windowBase();
    while (this.waiting.length > 0 && this.nextId < base + SEND_WINDOW) {
      const m = this.waiting.shift()!;
      this.inFlight.set(this.nextId, {
        id: this.nextId, opcode: m.opcode, payload: m.payload,
        firstSent: now, nextTry: now, interval: this.initialInterval, sends: 0,
      });
      this.nextId++;
    }
    const out: ReliableMessage[] = [];
    for (const e of this.inFlight.values()) {
      if (e.nextTry > now) continue;
      if (e.sends > 0) e.interval = Math.min(e.interval * 2, MAX_RETRANSMIT_MS);
      e.sends++;
      e.nextTry = now + e.interval;
      out.push({ id: e.id, opcode: e.opcode, payload: e.payload, attempt: e.sends });
    }
    return out.sort((a, b) => a.id - b.id);
  }

  /** When `due` next has something to send (undefined: nothing in flight or waiting). */
  nextDeadline(): number | undefined {
    let t: number | undefined;
    for (const e of this.inFlight.values()) if (t === undefined || e.nextTry < t) t = e.nextTry;
    return t;
  }

  /** True if there is queued work that can enter the window now. */
  canAdmit(): boolean {
    return this.waiting.length > 0 && this.nextId < this.windowBase() + SEND_WINDOW;
  }

  get idle(): boolean {
    return this.inFlight.size === 0 && this.waiting.length === 0;
  }

  get unacked(): number {
    return this.inFlight.size;
  }

  get queued(): number {
    return this.waiting.length;
  }

  /** First-send time of the oldest unacknowledged message, or undefined when all are acked. */
  oldestUnackedSince(): number | undefined {
    let t: number | undefined;
    for (const e of this.inFlight.values()) if (t === undefined || e.firstSent < t) t = e.firstSent;
    return t;
  }

  /** How often the oldest in-flight message has been sent (0 when none). */
  maxSends(): number {
    let n = 0;
    for (const e of this.inFlight.values()) n = Math.max(n, e.sends);
    return n;
  }
}

export type ReceiveVerdict = 'accepted' | 'duplicate' | 'out-of-window';

export class ReliableReceiver<T> {
  private nextExpected: number;
  private readonly buffered = new Map<number, T>();
  private readonly owedAcks: number[] = [];

  constructor(firstId = 0) {
    this.nextExpected = firstId;
  }

  /**
   * Offers message `id`. New ids inside the window are buffered and acked; duplicates (already
   * delivered or already buffered) are acked again, since our earlier ack may have been lost;
   * ids beyond the window are dropped unacknowledged so the peer retransmits them later.
   */
  offer(id: number, item: T): ReceiveVerdict {
    if (id >= this.nextExpected + RECV_WINDOW) return 'out-of-window';
    this.owe(id);
    if (id < this.nextExpected || this.buffered.has(id)) return 'duplicate';
    this.buffered.set(id, item);
    return 'accepted';
  }

  /** Takes the messages that are now in sequence. */
  takeInOrder(): T[] {
    const out: T[] = [];
    for (let item = this.buffered.get(this.nextExpected); item !== undefined;
      item = this.buffered.get(this.nextExpected)) {
      this.buffered.delete(this.nextExpected);
      this.nextExpected++;
      out.push(item);
    }
    return out;
  }

  private owe(id: number): void {
    if (!this.owedAcks.includes(id)) this.owedAcks.push(id);
  }

  /** Removes and returns up to `max` owed acks, oldest first. */
  takeAcks(max: number): number[] {
    return this.owedAcks.splice(0, max);
  }

  get acksOwed(): number {
    return this.owedAcks.length;
  }

  get expected(): number {
    return this.nextExpected;
  }

  get pending(): number {
    return this.buffered.size;
  }
}
