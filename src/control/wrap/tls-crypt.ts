/**
 * tls-crypt: every control packet authenticated and encrypted with a pre-shared key (SIV
 * construction of tls_crypt.c): HMAC-SHA256 over the header and the plaintext gives the tag,
 * whose first 16 bytes are the IV of AES-256-CTR over the plaintext.
 *
 *   opcode|key id (1) · session id (8) · packet id (4) · time (4) · tag (32) · ciphertext
 *
 * Keys: the first 32 bytes of the cipher and HMAC halves of the direction's key; the server
 * uses direction 0, the client 1, fixed (no key-direction).
 */
import { createCipheriv, createHmac, timingSafeEqual } from 'node:crypto';
import { OP_SID_LEN, PACKET_ID_LEN, readPacketId, writePacketId, type WrapCodec, type WrapPacketId } from './codec.js';
import { UnwrapError } from './errors.js';
import { directionalKeys, type DirectionalKeys } from './keyfile.js';

export const TAG_LEN = 32;
const HEADER_LEN = OP_SID_LEN + PACKET_ID_LEN;

/** The SIV primitive, shared with tls-crypt-v2's client key wrapping. */
export function sivSeal(cipherKey: Buffer, hmacKey: Buffer, ad: Buffer[], plain: Buffer[]): { tag: Buffer; ct: Buffer } {
  const h = createHmac('sha256', hmacKey.subarray(0, 32));
  for (const b of ad) h.update(b);
  for (const b of plain) h.update(b);
  const tag = h.digest();
  const c = createCipheriv('aes-256-ctr', cipherKey.subarray(0, 32), tag.subarray(0, 16));
  const ct = Buffer.concat([...plain.map((b) => c.update(b)), c.final()]);
  return { tag, ct };
}

/** Decrypts and checks; undefined if the tag does not match. */
export function sivOpen(cipherKey: Buffer, hmacKey: Buffer, ad: Buffer[], tag: Buffer, ct: Buffer): Buffer | undefined {
  const d = createCipheriv('aes-256-ctr', cipherKey.subarray(0, 32), tag.subarray(0, 16));
  const plain = Buffer.concat([d.update(ct), d.final()]);
  const h = createHmac('sha256', hmacKey.subarray(0, 32));
  for (const b of ad) h.update(b);
  h.update(plain);
  return timingSafeEqual(h.digest(), tag) ? plain : undefined;
}

export class TlsCryptCodec implements WrapCodec {
  readonly name = 'tls-crypt';
  readonly overhead = PACKET_ID_LEN + TAG_LEN;

  constructor(private readonly keys: DirectionalKeys) {}

  /** A codec for `role` from a 256-byte static key (or a tls-crypt-v2 client key). */
  static forRole(key: Buffer, role: 'client' | 'server'): TlsCryptCodec {
    return new TlsCryptCodec(directionalKeys(key, role === 'server' ? 0 : 1));
  }

  seal(plain: Buffer, pid: WrapPacketId): Buffer {
    if (plain.length < OP_SID_LEN) throw new RangeError('a control packet has at least 9 bytes');
    const header = Buffer.concat([plain.subarray(0, OP_SID_LEN), writePacketId(pid)]);
    const { tag, ct } = sivSeal(this.keys.send.cipher, this.keys.send.hmac, [header], [plain.subarray(OP_SID_LEN)]);
    return Buffer.concat([header, tag, ct]);
  }

  open(wire: Buffer): { plain: Buffer; pid: WrapPacketId } {
    if (wire.length < HEADER_LEN + TAG_LEN) throw new UnwrapError('short', `${wire.length} bytes is too short for tls-crypt`);
    const header = wire.subarray(0, HEADER_LEN);
    const plain = sivOpen(this.keys.receive.cipher, this.keys.receive.hmac, [header],
      wire.subarray(HEADER_LEN, HEADER_LEN + TAG_LEN), wire.subarray(HEADER_LEN + TAG_LEN));
    if (!plain) throw new UnwrapError('auth', 'tls-crypt authentication failed');
    return { plain: Buffer.concat([wire.subarray(0, OP_SID_LEN), plain]), pid: readPacketId(wire, OP_SID_LEN) };
  }
}
