/**
 * What the two wrappings share: the long-form packet id (32-bit counter, 32-bit seconds) that
 * each wrapped control packet carries right after opcode and session id, and the codec shape.
 */
export const OP_SID_LEN = 9;
export const PACKET_ID_LEN = 8;

export interface WrapPacketId {
  id: number;
  /** Seconds since the epoch, as the sender's clock had them when its counter started. */
  time: number;
}

export interface WrapCodec {
  readonly name: 'tls-auth' | 'tls-crypt';
  /** Bytes added to each packet. */
  readonly overhead: number;
  /** Wraps an encoded control packet (opcode, session id, the rest) with packet id `pid`. */
  seal(plain: Buffer, pid: WrapPacketId): Buffer;
  /** Checks and unwraps a received packet; throws UnwrapError. No replay check here. */
  open(wire: Buffer): { plain: Buffer; pid: WrapPacketId };
}

export function writePacketId(pid: WrapPacketId): Buffer {
  const b = Buffer.allocUnsafe(PACKET_ID_LEN);
  b.writeUInt32BE(pid.id >>> 0, 0);
  b.writeUInt32BE(pid.time >>> 0, 4);
  return b;
}

export function readPacketId(b: Buffer, off: number): WrapPacketId {
  return { id: b.readUInt32BE(off), time: b.readUInt32BE(off + 4) };
}
