/**
 * Numbers of the OpenVPN data channel as carried by DATA_V2 packets
 * (docs/wire-format.md).
 */

/** Opcode of DATA_V2 packets (upper 5 bits of byte 0). */
export const OP_DATA_V2 = 9;
/** Number of bits of the key id in byte 0. */
export const KEY_ID_BITS = 3;
export const KEY_ID_MASK = 0x07;
export const MAX_KEY_ID = 7;

/** Largest peer id; also the "undefined" peer id. */
export const MAX_PEER_ID = 0xffffff;
export const PEER_ID_UNDEF = 0xffffff;

/** Bytes 0..7: opcode|key id (1), peer id (3), packet id (4). Also the AEAD associated data. */
export const HEADER_SIZE = 8;
export const AAD_SIZE = HEADER_SIZE;
export const TAG_SIZE = 16;
/** Offset of the tag within a packet. */
export const TAG_OFFSET = HEADER_SIZE;
/** Offset of the ciphertext within a packet. */
export const PAYLOAD_OFFSET = HEADER_SIZE + TAG_SIZE;
/** Encryption overhead of one DATA_V2 packet (header + tag). */
export const DATA_V2_OVERHEAD = PAYLOAD_OFFSET;

export const NONCE_SIZE = 12;
export const NONCE_TAIL_SIZE = 8;

/** Highest packet id a key may send; after it the key is exhausted (ids never wrap). */
export const MAX_PACKET_ID = 0xffffffff;

/** Sliding replay window size in packet ids (as mainline ovpn). */
export const REPLAY_WINDOW_SIZE = 2048;
/** Backtracks below the newest id seen are refused after this much silence (ms), as mainline. */
export const REPLAY_BACKTRACK_EXPIRE_MS = 30_000;

/** Plaintext of a keepalive ("ping") packet: consumed by the receiver, never delivered. */
export const KEEPALIVE_MAGIC: Buffer = Buffer.from('2a187bf3641eb4cb07ed2d0a981fc748', 'hex');

/** First byte of a DATA_V2 packet with the given key id. */
export function dataV2FirstByte(keyId: number): number {
  return (OP_DATA_V2 << KEY_ID_BITS) | (keyId & KEY_ID_MASK);
}

/** Opcode of a packet (its first byte's upper 5 bits). */
export function opcodeOf(firstByte: number): number {
  return firstByte >>> KEY_ID_BITS;
}

/** True if `buf[off..off+len)` looks like a DATA_V2 packet (opcode; long enough for a tag). */
export function isDataV2(buf: Uint8Array, off: number, len: number): boolean {
  return len >= PAYLOAD_OFFSET && buf[off]! >>> KEY_ID_BITS === OP_DATA_V2;
}

/** True if the plaintext `buf[off..off+len)` is exactly the keepalive magic. */
export function isKeepalive(buf: Buffer, off: number, len: number): boolean {
  return len === KEEPALIVE_MAGIC.length && KEEPALIVE_MAGIC.compare(buf, off, off + len) === 0;
}
