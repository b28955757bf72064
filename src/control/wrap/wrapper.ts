/**
 * Control-channel wrapping per peer: a codec (tls-auth or tls-crypt with the right keys), the
 * packet id counter of what we send and the replay window of what we receive. Client side
 * and, on the server, each session own one; the server's first reply is sealed without state
 * (see server-wrap.ts).
 */
import { Opcode } from '../opcodes.js';
import { OP_SID_LEN, type WrapCodec, type WrapPacketId } from './codec.js';
import { UnwrapError } from './errors.js';
import { WrapReplayWindow } from './replay.js';
import { TlsCryptCodec } from './tls-crypt.js';
import { EARLY_NEG_START, asksResendWkc, splitWkc, type ClientKey } from './tls-crypt-v2.js';

export interface WrapperOptions {
  /** First packet id counter we send (1; 2 on a server session after the stateless reply). */
  firstId?: number;
  /** Seconds now (tests). */
  nowSeconds?: () => number;
}

const seconds = (): number => Math.floor(Date.now() / 1000);

export class ControlWrapper {
  private next: number;
  private readonly time: number;
  private readonly replay = new WrapReplayWindow();

  constructor(readonly codec: WrapCodec, opts: WrapperOptions = {}) {
    this.next = opts.firstId ?? 1;
    this.time = (opts.nowSeconds ?? seconds)();
  }

  get kind(): string {
    return this.codec.name;
  }

  /** Bytes wrapping adds to a control packet. */
  get overhead(): number {
    return this.codec.overhead;
  }

  protected nextPid(): WrapPacketId {
    const pid = { id: this.next >>> 0, time: this.time };
    this.next++;
    return pid;
  }

  /** Wraps an encoded control packet for the wire. */
  wrap(plain: Buffer): Buffer {
    return this.codec.seal(plain, this.nextPid());
  }

  /** Records a packet id received before this wrapper existed (the packet that created the session). */
  markSeen(pid: WrapPacketId): void {
    this.replay.accept(pid);
  }

  /** Unwraps a received packet; throws UnwrapError (wrong key, forged, replayed). */
  unwrap(wire: Buffer): Buffer {
    const { plain, pid } = this.codec.open(wire);
    if (!this.replay.accept(pid)) throw new UnwrapError('replay', `${this.codec.name} packet id ${pid.id}/${pid.time} replayed`);
    return plain;
  }
}

/** Sets the opcode of an encoded control packet, keeping its key id. */
export function withOpcode(packet: Buffer, opcode: number): Buffer {
  const out = Buffer.from(packet);
  out[0] = (opcode << 3) | (packet[0]! & 7);
  return out;
}

/**
 * tls-crypt-v2, client side: tls-crypt with Kc; the reset goes out as HARD_RESET_CLIENT_V3
 * with WKc appended, and if the server's reset asks for it, the first CONTROL_V1 (message id
 * 1) as CONTROL_WKC_V1 with WKc again.
 */
export class TlsCryptV2ClientWrapper extends ControlWrapper {
  private resendWkc = false;

  constructor(private readonly client: ClientKey, opts: WrapperOptions = {}) {
    super(TlsCryptCodec.forRole(client.key, 'client'), { ...opts, firstId: EARLY_NEG_START + 1 });
  }

  override get kind(): string {
    return 'tls-crypt-v2';
  }

  /** The WKc rides on CONTROL_WKC_V1: counted for every packet, as the simplest bound. */
  override get overhead(): number {
    return this.codec.overhead + this.client.wkc.length;
  }

  override wrap(plain: Buffer): Buffer {
    const op = plain[0]! >> 3;
    if (op === Opcode.HARD_RESET_CLIENT_V2) {
      return Buffer.concat([super.wrap(withOpcode(plain, Opcode.HARD_RESET_CLIENT_V3)), this.client.wkc]);
    }
    if (op === Opcode.CONTROL_V1 && this.resendWkc && (plain[0]! & 7) === 0 && messageIdOf(plain) === 1) {
      return Buffer.concat([super.wrap(withOpcode(plain, Opcode.CONTROL_WKC_V1)), this.client.wkc]);
    }
    return super.wrap(plain);
  }

  override unwrap(wire: Buffer): Buffer {
    const plain = super.unwrap(wire);
    if (plain[0]! >> 3 === Opcode.HARD_RESET_SERVER_V2) {
      const payload = payloadOf(plain);
      if (payload && asksResendWkc(payload)) this.resendWkc = true;
    }
    return plain;
  }
}

/**
 * tls-crypt-v2, a server session: tls-crypt with the client's Kc; a retransmitted
 * HARD_RESET_CLIENT_V3 or CONTROL_WKC_V1 has its WKc stripped and is handed on as
 * HARD_RESET_CLIENT_V2 / CONTROL_V1.
 */
export class TlsCryptV2ServerWrapper extends ControlWrapper {
  constructor(readonly clientKey: Buffer, readonly metadata: Buffer, opts: WrapperOptions = {}) {
    super(TlsCryptCodec.forRole(clientKey, 'server'), opts);
  }

  override get kind(): string {
    return 'tls-crypt-v2';
  }

  override unwrap(wire: Buffer): Buffer {
    const op = wire.length > 0 ? wire[0]! >> 3 : -1;
    if (op === Opcode.HARD_RESET_CLIENT_V3 || op === Opcode.CONTROL_WKC_V1) return normalizeV2(super.unwrap(splitWkc(wire).packet));
    return super.unwrap(wire);
  }
}

/** HARD_RESET_CLIENT_V3 → HARD_RESET_CLIENT_V2, CONTROL_WKC_V1 → CONTROL_V1 (same key id). */
export function normalizeV2(plain: Buffer): Buffer {
  const op = plain[0]! >> 3;
  if (op === Opcode.HARD_RESET_CLIENT_V3) return withOpcode(plain, Opcode.HARD_RESET_CLIENT_V2);
  if (op === Opcode.CONTROL_WKC_V1) return withOpcode(plain, Opcode.CONTROL_V1);
  return plain;
}

/** Offset of the message id in an encoded reliable control packet, or undefined. */
function messageIdOffset(plain: Buffer): number | undefined {
  if (plain.length < OP_SID_LEN + 1) return undefined;
  const acks = plain[OP_SID_LEN]!;
  const off = OP_SID_LEN + 1 + (acks > 0 ? 4 * acks + 8 : 0);
  return plain.length >= off + 4 ? off : undefined;
}

function messageIdOf(plain: Buffer): number | undefined {
  const off = messageIdOffset(plain);
  return off === undefined ? undefined : plain.readUInt32BE(off);
}

function payloadOf(plain: Buffer): Buffer | undefined {
  const off = messageIdOffset(plain);
  return off === undefined ? undefined : plain.subarray(off + 4);
}
