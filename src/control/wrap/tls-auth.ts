/**
 * tls-auth: an HMAC over every control packet, with the `auth` digest (SHA1 by default).
 * On the wire (ssl_pkt.c swap_hmac, crypto.c openvpn_encrypt without a cipher):
 *
 *   opcode|key id (1) · session id (8) · HMAC (digest size) · packet id (4) · time (4) · rest
 *
 * where the HMAC covers packet id · time · opcode · session id · rest, keyed with the first
 * digest-size bytes of the HMAC half of the direction's key.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { OP_SID_LEN, PACKET_ID_LEN, readPacketId, writePacketId, type WrapCodec, type WrapPacketId } from './codec.js';
import { UnwrapError, WrapKeyError } from './errors.js';
import type { DirectionalKeys } from './keyfile.js';

/** Digests OpenVPN accepts for `auth` that kovpn supports for tls-auth, with their sizes. */
export const TLS_AUTH_DIGESTS: Readonly<Record<string, { node: string; size: number }>> = {
  SHA1: { node: 'sha1', size: 20 },
  SHA224: { node: 'sha224', size: 28 },
  SHA256: { node: 'sha256', size: 32 },
  SHA384: { node: 'sha384', size: 48 },
  SHA512: { node: 'sha512', size: 64 },
};

/** The canonical name of an `auth` digest (case-insensitive, `SHA-256` too), or undefined. */
export function tlsAuthDigest(name: string): string | undefined {
  const n = name.toUpperCase().replace(/-/g, '');
  return TLS_AUTH_DIGESTS[n] ? n : undefined;
}

export class TlsAuthCodec implements WrapCodec {
  readonly name = 'tls-auth';
  readonly overhead: number;
  private readonly node: string;
  private readonly size: number;
  private readonly sendKey: Buffer;
  private readonly receiveKey: Buffer;

  constructor(keys: DirectionalKeys, digest = 'SHA1') {
    const d = TLS_AUTH_DIGESTS[digest];
    if (!d) throw new WrapKeyError(`tls-auth: digest '${digest}' is not one of ${Object.keys(TLS_AUTH_DIGESTS).join(', ')}`);
    this.node = d.node;
    this.size = d.size;
    this.overhead = d.size + PACKET_ID_LEN;
    this.sendKey = keys.send.hmac.subarray(0, d.size);
    this.receiveKey = keys.receive.hmac.subarray(0, d.size);
  }

  private mac(key: Buffer, pid: Buffer, opSid: Buffer, rest: Buffer): Buffer {
    return createHmac(this.node, key).update(pid).update(opSid).update(rest).digest();
  }

  seal(plain: Buffer, pid: WrapPacketId): Buffer {
    if (plain.length < OP_SID_LEN) throw new RangeError('a control packet has at least 9 bytes');
    const opSid = plain.subarray(0, OP_SID_LEN);
    const rest = plain.subarray(OP_SID_LEN);
    const p = writePacketId(pid);
    return Buffer.concat([opSid, this.mac(this.sendKey, p, opSid, rest), p, rest]);
  }

  open(wire: Buffer): { plain: Buffer; pid: WrapPacketId } {
    const pidOff = OP_SID_LEN + this.size;
    const restOff = pidOff + PACKET_ID_LEN;
    if (wire.length < restOff) throw new UnwrapError('short', `${wire.length} bytes is too short for tls-auth`);
    const opSid = wire.subarray(0, OP_SID_LEN);
    const p = wire.subarray(pidOff, restOff);
    const rest = wire.subarray(restOff);
    const want = this.mac(this.receiveKey, p, opSid, rest);
    if (!timingSafeEqual(want, wire.subarray(OP_SID_LEN, pidOff))) throw new UnwrapError('auth', 'tls-auth HMAC mismatch');
    return { plain: Buffer.concat([opSid, rest]), pid: readPacketId(wire, pidOff) };
  }
}
