/**
 * One key state's control channel: a reliable, ordered message stream over datagrams.
 * It owns the sender/receiver of `reliable.ts`, builds packets (piggy-backing up to 4 acks,
 * standalone ACK_V1 with up to 8) and keeps one retransmit timer. Session ids and packet
 * routing are the session's business; this class trusts the packets it is given.
 */
import type { Clock, Timer } from './clock.js';
import { Opcode, type ReliableOpcode } from './opcodes.js';
import { controlHeaderLength, encodeControlPacket, type ControlPacket } from './packet.js';
import {
  MAX_ACKS_ACK_V1, MAX_ACKS_PIGGYBACK, ReliableReceiver, ReliableSender, type ReceiveVerdict,
} from './reliable.js';

/** Whole control packets stay at or under this size (OpenVPN's default tls-mtu). */
export const MAX_CONTROL_PACKET = 1250;
export const MAX_CONTROL_PAYLOAD = MAX_CONTROL_PACKET - controlHeaderLength(MAX_ACKS_PIGGYBACK);
/** Give up on a peer that acknowledged nothing for this long (OpenVPN's handshake window). */
export const STALL_MS = 60_000;

export interface InboundMessage {
  opcode: ReliableOpcode;
  payload: Buffer;
}

export interface KeyChannelOptions {
  keyId: number;
  localSessionId: Buffer;
  clock: Clock;
  transmit(packet: Buffer): void;
  onMessage(message: InboundMessage): void;
  /** Called once an acknowledgement arrives for a message we sent (any id). */
  onAcked?(id: number): void;
  /**
   * Called (once) when a message stayed unacknowledged for `stallMs`: the peer is gone or
   * deaf. The channel stops retransmitting.
   */
  onStall?(unackedMs: number): void;
  /** Default STALL_MS. */
  stallMs?: number;
  /**
   * Bytes the packets grow by on the wire after encoding (tls-auth/tls-crypt, a tls-crypt-v2
   * client's WKc): payloads are that much smaller, so packets stay within MAX_CONTROL_PACKET.
   */
  wireOverhead?: number;
  /** First message id to assign / expect (1 after a stateless server reset, else 0). */
  firstSendId?: number;
  firstReceiveId?: number;
}

export interface ChannelStats {
  packetsOut: number;
  retransmits: number;
  acksOut: number;
  duplicates: number;
  outOfWindow: number;
}

export class KeyChannel {
  readonly keyId: number;
  remoteSessionId: Buffer | undefined;
  readonly stats: ChannelStats = { packetsOut: 0, retransmits: 0, acksOut: 0, duplicates: 0, outOfWindow: 0 };
  private readonly sender: ReliableSender;
  private readonly receiver: ReliableReceiver<InboundMessage>;
  private timer: Timer | undefined;
  private timerAt = Infinity;
  private flushScheduled = false;
  private closed = false;

  constructor(private readonly opts: KeyChannelOptions) {
    this.keyId = opts.keyId;
    this.sender = new ReliableSender(opts.firstSendId ?? 0);
    this.receiver = new ReliableReceiver(opts.firstReceiveId ?? 0);
  }

  /** Largest payload of one message (MAX_CONTROL_PAYLOAD less the wire overhead). */
  get maxPayload(): number {
    return Math.max(64, MAX_CONTROL_PAYLOAD - (this.opts.wireOverhead ?? 0));
  }

  /** Queues a reliable message; payload must fit maxPayload. Sent on the next flush. */
  send(opcode: ReliableOpcode, payload: Buffer = Buffer.alloc(0)): void {
    if (this.closed) return;
    if (payload.length > this.maxPayload) {
      throw new RangeError(`control payload of ${payload.length} bytes exceeds ${this.maxPayload}`);
    }
    this.sender.enqueue(opcode, payload);
    this.scheduleFlush();
  }

  /** Handles a packet already matched to this key state and session. */
  receive(packet: ControlPacket): ReceiveVerdict | 'ack-only' {
    if (this.closed) return 'ack-only';
    let progressed = false;
    for (const id of packet.acks) {
      if (this.sender.ack(id)) {
        progressed = true;
        this.opts.onAcked?.(id);
      }
    }
    if (progressed) this.scheduleFlush();
    if (packet.opcode === Opcode.ACK_V1 || packet.messageId === undefined) return 'ack-only';
    const verdict = this.receiver.offer(packet.messageId, {
      opcode: packet.opcode as ReliableOpcode, payload: packet.payload,
    });
    if (verdict === 'duplicate') this.stats.duplicates++;
    if (verdict === 'out-of-window') this.stats.outOfWindow++;
    if (verdict !== 'out-of-window') this.scheduleFlush();
    for (const m of this.receiver.takeInOrder()) {
      if (this.closed) break;
      this.opts.onMessage(m);
    }
    return verdict;
  }

  /** Puts everything due on the wire now and re-arms the retransmit timer. */
  flush(): void {
    this.flushScheduled = false;
    if (this.closed) return;
    const now = this.opts.clock.now();
    const since = this.sender.oldestUnackedSince();
    const stallMs = this.opts.stallMs ?? STALL_MS;
    if (since !== undefined && now - since >= stallMs) {
      this.close();
      this.opts.onStall?.(now - since);
      return;
    }
    for (const m of this.sender.due(now)) {
      const acks = this.remoteSessionId ? this.receiver.takeAcks(MAX_ACKS_PIGGYBACK) : [];
      const packet: ControlPacket = {
        opcode: m.opcode, keyId: this.keyId, sessionId: this.opts.localSessionId,
        acks, messageId: m.id, payload: m.payload,
      };
      if (acks.length > 0) packet.remoteSessionId = this.remoteSessionId!;
      if (m.attempt > 1) this.stats.retransmits++;
      this.stats.packetsOut++;
      this.opts.transmit(encodeControlPacket(packet));
    }
    while (this.remoteSessionId && this.receiver.acksOwed > 0) {
      const acks = this.receiver.takeAcks(MAX_ACKS_ACK_V1);
      this.stats.acksOut++;
      this.opts.transmit(encodeControlPacket({
        opcode: Opcode.ACK_V1, keyId: this.keyId, sessionId: this.opts.localSessionId,
        acks, remoteSessionId: this.remoteSessionId, payload: Buffer.alloc(0),
      }));
    }
    this.armTimer();
  }

  private scheduleFlush(): void {
    if (this.flushScheduled || this.closed) return;
    this.flushScheduled = true;
    this.opts.clock.setTimer(0, () => this.flush());
  }

  private armTimer(): void {
    const since = this.sender.oldestUnackedSince();
    const retry = this.sender.nextDeadline();
    const at = retry === undefined ? undefined : Math.min(retry, since! + (this.opts.stallMs ?? STALL_MS));
    if (at === undefined) {
      this.timer?.cancel();
      this.timer = undefined;
      this.timerAt = Infinity;
      return;
    }
    if (this.timer && this.timerAt === at) return;
    this.timer?.cancel();
    this.timerAt = at;
    this.timer = this.opts.clock.setTimer(at - this.opts.clock.now(), () => {
      this.timer = undefined;
      this.timerAt = Infinity;
      this.flush();
    });
  }

  /** Nothing in flight or queued in either direction. */
  get idle(): boolean {
    return this.sender.idle && this.receiver.acksOwed === 0;
  }

  /** How many times the most-retried unacked message has been sent. */
  get maxSends(): number {
    return this.sender.maxSends();
  }

  close(): void {
    this.closed = true;
    this.timer?.cancel();
    this.timer = undefined;
  }
}
