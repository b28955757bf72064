/**
 * Codec of OpenVPN control packets without tls-auth/tls-crypt wrapping:
 *
 *   op|key_id (1) · session id (8) · ack count (1) · acked message ids (4 BE each)
 *   · remote session id (8, only if ack count > 0) · message id (4 BE, not in ACK_V1) · payload
 */
import { MalformedPacketError } from './errors.js';
import { Opcode, isControlOpcode, opcodeName, type ControlOpcode } from './opcodes.js';

export const SESSION_ID_LEN = 8;
/** Largest ack count a well-formed packet carries (OpenVPN's RELIABLE_ACK_SIZE). */
export const MAX_ACKS_ON_WIRE = 8;

export interface ControlPacket {
  opcode: ControlOpcode;
  keyId: number;
  /** The sender's session id. */
  sessionId: Buffer;
  /** Message ids of the receiver's packets that the sender acknowledges. */
  acks: number[];
  /** The receiver's session id as the sender knows it; present iff acks is non-empty. */
  remoteSessionId?: Buffer;
  /** Absent for ACK_V1 only. */
  messageId?: number;
  payload: Buffer;
}

/** Peeks at the opcode of any OpenVPN packet (control or data). */
export function packetOpcode(packet: Uint8Array): number | undefined {
  return packet.length > 0 ? packet[0]! >> 3 : undefined;
}

export function decodeControlPacket(buf: Buffer): ControlPacket {
  if (buf.length < 1 + SESSION_ID_LEN + 1) {
    throw new MalformedPacketError(`${buf.length} bytes is shorter than the 10-byte minimum`);
  }
  const opcode = buf[0]! >> 3;
  const keyId = buf[0]! & 7;
  if (!isControlOpcode(opcode)) {
    throw new MalformedPacketError(`${opcodeName(opcode)} is not a control opcode`);
  }
  let off = 1;
  const sessionId = Buffer.from(buf.subarray(off, off + SESSION_ID_LEN));
  off += SESSION_ID_LEN;
  const ackCount = buf[off++]!;
  if (ackCount > MAX_ACKS_ON_WIRE) {
    throw new MalformedPacketError(`ack count ${ackCount} exceeds ${MAX_ACKS_ON_WIRE}`);
  }
  const acks: number[] = [];
  let remoteSessionId: Buffer | undefined;
  if (ackCount > 0) {
    const need = off + 4 * ackCount + SESSION_ID_LEN;
    if (buf.length < need) {
      throw new MalformedPacketError(`${ackCount} acks need ${need} bytes, packet has ${buf.length}`);
    }
    for (let i = 0; i < ackCount; i++, off += 4) acks.push(buf.readUInt32BE(off));
    remoteSessionId = Buffer.from(buf.subarray(off, off + SESSION_ID_LEN));
    off += SESSION_ID_LEN;
  }
  let messageId: number | undefined;
  if (opcode !== Opcode.ACK_V1) {
    if (buf.length < off + 4) {
      throw new MalformedPacketError(`${opcodeName(opcode)} truncated before its message id`);
    }
    messageId = buf.readUInt32BE(off);
    off += 4;
  } else if (ackCount === 0) {
    throw new MalformedPacketError('ACK_V1 without any ack');
  }
  const payload = Buffer.from(buf.subarray(off));
  if (opcode === Opcode.ACK_V1 && payload.length > 0) {
    throw new MalformedPacketError(`ACK_V1 with ${payload.length} trailing bytes`);
  }
  const packet: ControlPacket = { opcode, keyId, sessionId, acks, payload };
  if (remoteSessionId) packet.remoteSessionId = remoteSessionId;
  if (messageId !== undefined) packet.messageId = messageId;
  return packet;
}

export function encodeControlPacket(p: ControlPacket): Buffer {
  if (p.keyId < 0 || p.keyId > 7) throw new RangeError(`key id ${p.keyId} outside 0..7`);
  if (p.sessionId.length !== SESSION_ID_LEN) throw new RangeError('session id must be 8 bytes');
  if (p.acks.length > MAX_ACKS_ON_WIRE) throw new RangeError(`${p.acks.length} acks exceed ${MAX_ACKS_ON_WIRE}`);
  const isAck = p.opcode === Opcode.ACK_V1;
  if (isAck && p.acks.length === 0) throw new RangeError('ACK_V1 needs at least one ack');
  if (!isAck && p.messageId === undefined) throw new RangeError(`${opcodeName(p.opcode)} needs a message id`);
  if (p.acks.length > 0 && p.remoteSessionId?.length !== SESSION_ID_LEN) {
    throw new RangeError('acks need the 8-byte remote session id');
  }
  const len = 1 + SESSION_ID_LEN + 1 + (p.acks.length > 0 ? 4 * p.acks.length + SESSION_ID_LEN : 0) +
    (isAck ? 0 : 4) + p.payload.length;
  const out = Buffer.allocUnsafe(len);
  let off = out.writeUInt8((p.opcode << 3) | p.keyId, 0);
  off += p.sessionId.copy(out, off);
  off = out.writeUInt8(p.acks.length, off);
  if (p.acks.length > 0) {
    for (const id of p.acks) off = out.writeUInt32BE(id, off);
    off += p.remoteSessionId!.copy(out, off);
  }
  if (!isAck) off = out.writeUInt32BE(p.messageId!, off);
  p.payload.copy(out, off);
  return out;
}

/** Bytes of header a reliable packet with `acks` piggy-backed acks takes before its payload. */
export function controlHeaderLength(acks: number): number {
  return 1 + SESSION_ID_LEN + 1 + (acks > 0 ? 4 * acks + SESSION_ID_LEN : 0) + 4;
}
