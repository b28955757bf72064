/**
 * The server's side of wrapping before a session exists: first packets of unknown senders are
 * unwrapped without replay state (a replayed reset only earns the same stateless reply; the
 * session is created only on a packet echoing our cookie), the stateless reply is sealed with
 * packet id 1, and a session's own wrapper then counts from 2, as OpenVPN's server does.
 * tls-crypt-v2: the client's key comes out of the WKc appended to HARD_RESET_CLIENT_V3 and to
 * CONTROL_WKC_V1, so the server still keeps no state before the cookie comes back.
 */
import { Opcode } from '../opcodes.js';
import type { WrapCodec, WrapPacketId } from './codec.js';
import { UnwrapError } from './errors.js';
import { ControlWrapper, TlsCryptV2ServerWrapper, normalizeV2 } from './wrapper.js';
import { TlsCryptCodec } from './tls-crypt.js';
import { EARLY_NEG_MASK, EARLY_NEG_START, resendWkcTlv, splitWkc, unwrapClientKey } from './tls-crypt-v2.js';

export interface InitialPacket {
  /** The unwrapped control packet (v2 opcodes normalized to V2/CONTROL_V1). */
  plain: Buffer;
  /** Its packet id: the session built on it records it, so a replay of it is refused. */
  pid: WrapPacketId;
  /** tls-crypt-v2: the client's key and metadata, and whether it asked for early negotiation. */
  v2?: { key: Buffer; metadata: Buffer; earlyNegotiation: boolean };
}

export interface ServerWrapping {
  readonly kind: 'tls-auth' | 'tls-crypt' | 'tls-crypt-v2';
  /** Unwraps a packet of a sender without a session; throws UnwrapError. */
  openInitial(wire: Buffer): InitialPacket;
  /** Payload of the stateless reply to this reset (v2: ask for WKc again). */
  replyPayload(initial: InitialPacket): Buffer;
  /** Seals the stateless reply (packet id 1). */
  sealReply(plain: Buffer, initial: InitialPacket): Buffer;
  /** The wrapper of a session built on `initial` (packet ids from 2). */
  sessionWrapper(initial: InitialPacket): ControlWrapper;
}

const nowSeconds = (): number => Math.floor(Date.now() / 1000);

/** tls-auth or tls-crypt: one codec for every client. */
export class StaticServerWrapping implements ServerWrapping {
  constructor(private readonly codec: WrapCodec) {}

  get kind(): 'tls-auth' | 'tls-crypt' {
    return this.codec.name;
  }

  openInitial(wire: Buffer): InitialPacket {
    return this.codec.open(wire);
  }

  replyPayload(): Buffer {
    return Buffer.alloc(0);
  }

  sealReply(plain: Buffer, _initial?: InitialPacket): Buffer {
    return this.codec.seal(plain, { id: 1, time: nowSeconds() });
  }

  sessionWrapper(initial?: InitialPacket): ControlWrapper {
    const w = new ControlWrapper(this.codec, { firstId: 2 });
    if (initial) w.markSeen(initial.pid);
    return w;
  }
}

export class TlsCryptV2ServerWrapping implements ServerWrapping {
  readonly kind = 'tls-crypt-v2';

  constructor(private readonly serverKey: Buffer) {}

  openInitial(wire: Buffer): InitialPacket {
    const op = wire.length > 0 ? wire[0]! >> 3 : -1;
    if (op !== Opcode.HARD_RESET_CLIENT_V3 && op !== Opcode.CONTROL_WKC_V1) {
      throw new UnwrapError('opcode', 'no tls-crypt-v2 client key in the packet');
    }
    const { packet, wkc } = splitWkc(wire);
    const { key, metadata } = unwrapClientKey(this.serverKey, wkc);
    const { plain, pid } = TlsCryptCodec.forRole(key, 'server').open(packet);
    return {
      plain: normalizeV2(plain), pid,
      v2: { key: Buffer.from(key), metadata: Buffer.from(metadata), earlyNegotiation: ((pid.id & EARLY_NEG_MASK) >>> 0) === EARLY_NEG_START },
    };
  }

  replyPayload(initial: InitialPacket): Buffer {
    return initial.v2?.earlyNegotiation ? resendWkcTlv() : Buffer.alloc(0);
  }

  sealReply(plain: Buffer, initial: InitialPacket): Buffer {
    return TlsCryptCodec.forRole(initial.v2!.key, 'server').seal(plain, { id: 1, time: nowSeconds() });
  }

  sessionWrapper(initial: InitialPacket): ControlWrapper {
    const w = new TlsCryptV2ServerWrapper(initial.v2!.key, initial.v2!.metadata, { firstId: 2 });
    w.markSeen(initial.pid);
    return w;
  }
}
