/**
 * DATA_V2 packets: `[op 9<<3 | key_id][peer id 24 BE][packet id 32 BE][tag 16][ciphertext]`,
 * AAD = bytes 0..7, nonce = packet id (4 BE) || nonce tail (8).
 *
 * `DataKey` is the crypto state of one key slot of one peer: both directions' AEADs, the
 * transmit packet ids and the receive replay window. It encrypts and decrypts between
 * caller-owned buffers; nothing is allocated per packet with the native AEAD (the nonces
 * live in buffers of the key; AAD, tag and ciphertext are passed as offsets).
 */
import { createAead, aesGcmForKeyLength, type Aead, type AeadAlg, type AeadImpl } from './aead.js';
import {
  HEADER_SIZE,
  MAX_KEY_ID,
  MAX_PEER_ID,
  NONCE_SIZE,
  NONCE_TAIL_SIZE,
  PAYLOAD_OFFSET,
  TAG_OFFSET,
  dataV2FirstByte,
  isDataV2,
} from './constants.js';
import { KeyConfigError } from './errors.js';
import { TxPacketIds } from './packet-id.js';
import { ReplayVerdict, ReplayWindow } from './replay.js';

/** Ciphers a data key can use ('none' is refused, as by mainline's ovpn). */
export type DataCipher = 'aes-gcm' | 'chacha20-poly1305';

export interface DataKeyDirection {
  cipherKey: Uint8Array;
  nonceTail: Uint8Array;
}

export interface DataKeyConfig {
  keyId: number;
  cipher: DataCipher;
  encrypt: DataKeyDirection;
  decrypt: DataKeyDirection;
  /** AEAD implementation; default defaultAeadImpl(). */
  impl?: AeadImpl;
  /** First transmit packet id (tests of exhaustion only; default 1). */
  firstTxPacketId?: number;
}

/** Why a packet was not decrypted (negative results of DataKey.decrypt). */
export const enum DecryptError {
  /** Not a DATA_V2 packet, or too short to hold header and tag. */
  Malformed = -1,
  /** The packet's key id is not this key's. */
  WrongKey = -2,
  /** Authentication failed (wrong key, corrupted or forged packet). */
  Auth = -3,
  /** Packet id 0, already received, or too old for the replay window. */
  Replay = -4,
  /** The output buffer is too small for the plaintext. */
  NoRoom = -5,
}

export interface DataV2Header {
  keyId: number;
  peerId: number;
  packetId: number;
}

/** Key id, peer id and packet id of the DATA_V2 packet at `buf[off..]` (caller checked isDataV2). */
export function readHeader(buf: Buffer, off: number): DataV2Header {
  return { keyId: buf[off]! & 7, peerId: buf.readUIntBE(off + 1, 3), packetId: buf.readUInt32BE(off + 4) };
}

/** Peer id of the DATA_V2 packet at `buf[off..]` without allocating. */
export function peerIdOf(buf: Buffer, off: number): number {
  return (buf[off + 1]! << 16) | (buf[off + 2]! << 8) | buf[off + 3]!;
}

/** Key id of the DATA_V2 packet at `buf[off..]`. */
export function keyIdOf(buf: Buffer, off: number): number {
  return buf[off]! & 7;
}

/** The AEAD algorithm a data cipher uses with a key of `keyLen` bytes; throws KeyConfigError. */
export function aeadAlgFor(cipher: DataCipher, keyLen: number, what: string): AeadAlg {
  if (cipher === 'chacha20-poly1305') {
    if (keyLen !== 32) throw new KeyConfigError(`${what}: chacha20-poly1305 needs a 32-byte key, got ${keyLen} bytes`);
    return 'chacha20-poly1305';
  }
  const alg = aesGcmForKeyLength(keyLen);
  if (!alg) throw new KeyConfigError(`${what}: aes-gcm needs a 16, 24 or 32-byte key, got ${keyLen} bytes`);
  return alg;
}

function nonceBuffer(tail: Uint8Array, what: string): Buffer {
  if (tail.length !== NONCE_TAIL_SIZE) {
    throw new KeyConfigError(`${what}: nonce tail must be ${NONCE_TAIL_SIZE} bytes, got ${tail.length}`);
  }
  const n = Buffer.alloc(NONCE_SIZE);
  n.set(tail, 4);
  return n;
}

export class DataKey {
  readonly keyId: number;
  readonly cipher: DataCipher;
  readonly txIds: TxPacketIds;
  readonly replay = new ReplayWindow();
  private readonly enc: Aead;
  private readonly dec: Aead;
  private readonly encNonce: Buffer;
  private readonly decNonce: Buffer;
  private readonly firstByte: number;

  constructor(cfg: DataKeyConfig) {
    if (!Number.isInteger(cfg.keyId) || cfg.keyId < 0 || cfg.keyId > MAX_KEY_ID) {
      throw new KeyConfigError(`key id must be 0..${MAX_KEY_ID}, got ${cfg.keyId}`);
    }
    this.keyId = cfg.keyId;
    this.cipher = cfg.cipher;
    this.firstByte = dataV2FirstByte(cfg.keyId);
    this.enc = createAead(aeadAlgFor(cfg.cipher, cfg.encrypt.cipherKey.length, 'encrypt key'), cfg.encrypt.cipherKey, cfg.impl);
    this.dec = createAead(aeadAlgFor(cfg.cipher, cfg.decrypt.cipherKey.length, 'decrypt key'), cfg.decrypt.cipherKey, cfg.impl);
    this.encNonce = nonceBuffer(cfg.encrypt.nonceTail, 'encrypt nonce tail');
    this.decNonce = nonceBuffer(cfg.decrypt.nonceTail, 'decrypt nonce tail');
    this.txIds = new TxPacketIds(cfg.firstTxPacketId);
  }

  /**
   * Encrypts `src[srcOff, srcOff+len)` into a DATA_V2 packet at `dst[dstOff..]` carrying
   * `peerId`. Returns the packet length, or 0 when the key's packet ids are exhausted
   * (nothing written; the key must be replaced). `dst` needs len + 24 bytes of room.
   */
  encrypt(peerId: number, src: Buffer, srcOff: number, len: number, dst: Buffer, dstOff: number): number {
    const packetId = this.txIds.take();
    if (packetId === 0) return 0;
    return this.encryptWithId(packetId, peerId, src, srcOff, len, dst, dstOff);
  }

  /** As `encrypt` with a packet id chosen by the caller (known-answer tests). */
  encryptWithId(packetId: number, peerId: number, src: Buffer, srcOff: number, len: number, dst: Buffer, dstOff: number): number {
    if (peerId < 0 || peerId > MAX_PEER_ID) throw new RangeError(`peer id must be 0..${MAX_PEER_ID}, got ${peerId}`);
    dst[dstOff] = this.firstByte;
    dst[dstOff + 1] = peerId >>> 16;
    dst[dstOff + 2] = (peerId >>> 8) & 0xff;
    dst[dstOff + 3] = peerId & 0xff;
    dst.writeUInt32BE(packetId, dstOff + 4);
    this.encNonce.writeUInt32BE(packetId, 0);
    this.enc.sealAt(this.encNonce, dst, dstOff, HEADER_SIZE, src, srcOff, len, dstOff + PAYLOAD_OFFSET, dstOff + TAG_OFFSET);
    return PAYLOAD_OFFSET + len;
  }

  /**
   * Decrypts the DATA_V2 packet `pkt[off, off+len)` into `dst[dstOff..]`, checks and then
   * records its packet id in the replay window. Returns the plaintext length (>= 0) or a
   * DecryptError (< 0). The packet's peer id is not checked here (the caller routed it).
   */
  decrypt(pkt: Buffer, off: number, len: number, dst: Buffer, dstOff: number, nowMs: number): number {
    if (!isDataV2(pkt, off, len)) return DecryptError.Malformed;
    if ((pkt[off]! & 7) !== this.keyId) return DecryptError.WrongKey;
    const ptLen = len - PAYLOAD_OFFSET;
    if (dst.length - dstOff < ptLen) return DecryptError.NoRoom;
    const packetId = pkt.readUInt32BE(off + 4);
    if (this.replay.check(packetId, nowMs) !== ReplayVerdict.Ok) return DecryptError.Replay;
    this.decNonce.writeUInt32BE(packetId, 0);
    if (!this.dec.openAt(this.decNonce, pkt, off, HEADER_SIZE, off + PAYLOAD_OFFSET, ptLen, off + TAG_OFFSET, dst, dstOff)) {
      return DecryptError.Auth;
    }
    if (this.replay.accept(packetId, nowMs) !== ReplayVerdict.Ok) return DecryptError.Replay;
    return ptLen;
  }
}
