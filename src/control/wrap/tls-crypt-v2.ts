/**
 * tls-crypt-v2 (tls_crypt.c): each client has its own tls-crypt key Kc, and carries it to the
 * server wrapped with the server's key, with metadata the server sees on unwrapping:
 *
 *   WKc = tag (32) · AES-256-CTR(Kc (256) · metadata) · length of WKc (2, BE)
 *
 * tag = HMAC-SHA256(server HMAC key, length · Kc · metadata), IV = the tag's first 16 bytes.
 * The server key file holds 128 bytes (cipher 64, HMAC 64); the client key file Kc · WKc.
 * Metadata starts with its type: 0 user data (`--genkey tls-crypt-v2-client f <base64>`),
 * 1 a 64-bit BE timestamp (the default).
 *
 * On the wire a client sends its reset as HARD_RESET_CLIENT_V3 (packet id counter with the
 * early-negotiation mark 0x0f in its top byte) and appends WKc; a server that answers
 * statelessly asks (TLV EARLY_NEG_FLAGS, RESEND_WKC) for WKc again on the client's next
 * packet, a CONTROL_WKC_V1, so it can build the session from that packet alone.
 */
import { randomBytes } from 'node:crypto';
import { UnwrapError, WrapKeyError } from './errors.js';
import { STATIC_KEY_LEN, formatPem, parsePem } from './keyfile.js';
import { sivOpen, sivSeal } from './tls-crypt.js';

export const SERVER_KEY_PEM = 'OpenVPN tls-crypt-v2 server key';
export const CLIENT_KEY_PEM = 'OpenVPN tls-crypt-v2 client key';
export const SERVER_KEY_LEN = 128;
export const MAX_WKC_LEN = 1024;
const TAG_LEN = 32;
export const MAX_METADATA_LEN = MAX_WKC_LEN - (STATIC_KEY_LEN + TAG_LEN + 2);
export const METADATA_USER = 0;
export const METADATA_TIMESTAMP = 1;
/** Top byte of the reset's packet id counter of a client that supports early negotiation. */
export const EARLY_NEG_START = 0x0f000000;
export const EARLY_NEG_MASK = 0xff000000;
export const TLV_EARLY_NEG_FLAGS = 0x0001;
export const EARLY_NEG_FLAG_RESEND_WKC = 0x0001;

export interface ClientKey {
  /** Kc: the 256-byte tls-crypt key. */
  key: Buffer;
  /** WKc as sent on the wire. */
  wkc: Buffer;
}

export function parseServerKey(text: string, what = 'tls-crypt-v2 server key'): Buffer {
  const b = parsePem(text, SERVER_KEY_PEM, what);
  if (b.length !== SERVER_KEY_LEN) throw new WrapKeyError(`${what}: ${b.length} bytes, a server key has ${SERVER_KEY_LEN}`);
  return b;
}

export function parseClientKey(text: string, what = 'tls-crypt-v2 client key'): ClientKey {
  const b = parsePem(text, CLIENT_KEY_PEM, what);
  if (b.length < STATIC_KEY_LEN + TAG_LEN + 2 || b.length > STATIC_KEY_LEN + MAX_WKC_LEN) {
    throw new WrapKeyError(`${what}: ${b.length} bytes is not a client key (Kc and a wrapped copy of it)`);
  }
  const wkc = b.subarray(STATIC_KEY_LEN);
  if (wkc.readUInt16BE(wkc.length - 2) !== wkc.length) throw new WrapKeyError(`${what}: the wrapped key's length field does not match`);
  return { key: Buffer.from(b.subarray(0, STATIC_KEY_LEN)), wkc: Buffer.from(wkc) };
}

export function formatServerKey(key: Buffer): string {
  return formatPem(SERVER_KEY_PEM, key);
}

export function formatClientKey(k: ClientKey): string {
  return formatPem(CLIENT_KEY_PEM, Buffer.concat([k.key, k.wkc]));
}

/** Metadata of type timestamp (what OpenVPN writes when given none). */
export function timestampMetadata(seconds = Math.floor(Date.now() / 1000)): Buffer {
  const m = Buffer.alloc(9);
  m[0] = METADATA_TIMESTAMP;
  m.writeBigUInt64BE(BigInt(seconds), 1);
  return m;
}

export function userMetadata(data: Buffer): Buffer {
  if (data.length > MAX_METADATA_LEN - 1) throw new WrapKeyError(`metadata of ${data.length} bytes exceeds ${MAX_METADATA_LEN - 1}`);
  return Buffer.concat([Buffer.from([METADATA_USER]), data]);
}

/** Metadata as a user reads it: type and value (base64 for user data, ISO time for a timestamp). */
export function describeMetadata(m: Buffer): { type: number; text: string } {
  if (m.length === 0) return { type: -1, text: '(none)' };
  const type = m[0]!;
  if (type === METADATA_TIMESTAMP && m.length === 9) {
    const s = Number(m.readBigUInt64BE(1));
    return { type, text: `timestamp ${s} (${new Date(s * 1000).toISOString()})` };
  }
  return { type, text: `${type === METADATA_USER ? 'user' : `type ${type}`} ${m.subarray(1).toString('base64')}` };
}

export function wrapClientKey(serverKey: Buffer, key: Buffer, metadata: Buffer): Buffer {
  if (key.length !== STATIC_KEY_LEN) throw new RangeError(`Kc has ${STATIC_KEY_LEN} bytes`);
  if (metadata.length > MAX_METADATA_LEN) throw new WrapKeyError(`metadata of ${metadata.length} bytes exceeds ${MAX_METADATA_LEN}`);
  const len = Buffer.alloc(2);
  len.writeUInt16BE(TAG_LEN + key.length + metadata.length + 2);
  const { tag, ct } = sivSeal(serverKey.subarray(0, 64), serverKey.subarray(64, 128), [len], [key, metadata]);
  return Buffer.concat([tag, ct, len]);
}

export function unwrapClientKey(serverKey: Buffer, wkc: Buffer): { key: Buffer; metadata: Buffer } {
  if (wkc.length > MAX_WKC_LEN) throw new UnwrapError('client-key', `wrapped client key of ${wkc.length} bytes exceeds ${MAX_WKC_LEN}`);
  if (wkc.length < TAG_LEN + STATIC_KEY_LEN + 2) throw new UnwrapError('client-key', 'wrapped client key too short');
  const len = wkc.subarray(wkc.length - 2);
  if (len.readUInt16BE() !== wkc.length) throw new UnwrapError('client-key', 'wrapped client key length mismatch');
  const plain = sivOpen(serverKey.subarray(0, 64), serverKey.subarray(64, 128), [len],
    wkc.subarray(0, TAG_LEN), wkc.subarray(TAG_LEN, wkc.length - 2));
  if (!plain) throw new UnwrapError('client-key', 'client key authentication failed (made for another server key?)');
  return { key: plain.subarray(0, STATIC_KEY_LEN), metadata: plain.subarray(STATIC_KEY_LEN) };
}

/** A new client key for `serverKey`, with `metadata` (default: a timestamp). */
export function generateClientKey(serverKey: Buffer, metadata: Buffer = timestampMetadata()): ClientKey {
  const key = randomBytes(STATIC_KEY_LEN);
  return { key, wkc: wrapClientKey(serverKey, key, metadata) };
}

/** Splits a packet with an appended WKc into the tls-crypt packet and the WKc. */
export function splitWkc(wire: Buffer): { packet: Buffer; wkc: Buffer } {
  if (wire.length < 2) throw new UnwrapError('short', 'too short for a wrapped client key');
  const n = wire.readUInt16BE(wire.length - 2);
  if (n < 2 || n > wire.length - 9) throw new UnwrapError('client-key', `wrapped client key length ${n} does not fit the ${wire.length}-byte packet`);
  return { packet: wire.subarray(0, wire.length - n), wkc: wire.subarray(wire.length - n) };
}

/** The reset payload of a server asking for WKc again (TLV EARLY_NEG_FLAGS: RESEND_WKC). */
export function resendWkcTlv(): Buffer {
  const b = Buffer.alloc(6);
  b.writeUInt16BE(TLV_EARLY_NEG_FLAGS, 0);
  b.writeUInt16BE(2, 2);
  b.writeUInt16BE(EARLY_NEG_FLAG_RESEND_WKC, 4);
  return b;
}

/** True if a server reset's payload (TLVs) asks for WKc to be resent. */
export function asksResendWkc(payload: Buffer): boolean {
  let off = 0;
  while (off + 4 <= payload.length) {
    const type = payload.readUInt16BE(off);
    const len = payload.readUInt16BE(off + 2);
    off += 4;
    if (off + len > payload.length) return false;
    if (type === TLV_EARLY_NEG_FLAGS && len === 2 && (payload.readUInt16BE(off) & EARLY_NEG_FLAG_RESEND_WKC)) return true;
    off += len;
  }
  return false;
}
