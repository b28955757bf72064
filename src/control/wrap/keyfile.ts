/**
 * OpenVPN's key files for control-channel wrapping:
 *
 * - the static key file of `openvpn --genkey secret` (tls-auth, tls-crypt): 256 bytes as hex
 *   between `-----BEGIN OpenVPN Static key V1-----` and its END line, 16 bytes a line; `#`
 *   comments before. The 256 bytes are two keys, each 64 bytes of cipher key then 64 bytes of
 *   HMAC key (OpenVPN's struct key2);
 * - PEM files of tls-crypt-v2 (`-----BEGIN OpenVPN tls-crypt-v2 server key-----`, base64).
 *
 * Direction (crypto.c, key_direction_state_init): 0 ("normal") sends with key 0 and receives
 * with key 1, 1 ("inverse") the other way round, none ("bidirectional") uses key 0 both ways.
 */
import { WrapKeyError } from './errors.js';

export const STATIC_KEY_LEN = 256;
/** One of the two keys: 64 bytes of cipher key, 64 of HMAC key. */
export const KEY_LEN = 128;
export const STATIC_KEY_BEGIN = '-----BEGIN OpenVPN Static key V1-----';
export const STATIC_KEY_END = '-----END OpenVPN Static key V1-----';

export interface KeyPart {
  cipher: Buffer;
  hmac: Buffer;
}

export interface DirectionalKeys {
  send: KeyPart;
  receive: KeyPart;
}

export type KeyDirection = 0 | 1 | undefined;

/** The 256 bytes of a static key file (`what` names the file in messages). */
export function parseStaticKey(text: string, what = 'key file'): Buffer {
  const begin = text.indexOf(STATIC_KEY_BEGIN);
  const end = text.indexOf(STATIC_KEY_END);
  if (begin < 0 || end < begin) {
    throw new WrapKeyError(`${what}: no '${STATIC_KEY_BEGIN}' ... '${STATIC_KEY_END}' block (make one with \`kovpn genkey tls-crypt\` or \`openvpn --genkey secret\`)`);
  }
  const hex = text.slice(begin + STATIC_KEY_BEGIN.length, end).replace(/\s+/g, '');
  if (!/^[0-9a-fA-F]*$/.test(hex) || hex.length % 2 !== 0) throw new WrapKeyError(`${what}: the key block is not hex`);
  const bytes = Buffer.from(hex, 'hex');
  if (bytes.length !== STATIC_KEY_LEN) {
    throw new WrapKeyError(`${what}: the key block has ${bytes.length} bytes, a static key has ${STATIC_KEY_LEN}`);
  }
  return bytes;
}

/** A static key file as `openvpn --genkey secret` writes it. */
export function formatStaticKey(key: Buffer): string {
  if (key.length !== STATIC_KEY_LEN) throw new RangeError(`a static key has ${STATIC_KEY_LEN} bytes`);
  const lines = [];
  for (let i = 0; i < key.length; i += 16) lines.push(key.subarray(i, i + 16).toString('hex'));
  return `#\n# 2048 bit OpenVPN static key\n#\n${STATIC_KEY_BEGIN}\n${lines.join('\n')}\n${STATIC_KEY_END}\n`;
}

/** Key `index` (0 or 1) of a 256-byte static key, or the one key of a 128-byte one. */
export function keyPart(key: Buffer, index: 0 | 1): KeyPart {
  const base = index * KEY_LEN;
  if (key.length < base + KEY_LEN) throw new RangeError(`key ${index} is beyond the ${key.length}-byte key`);
  return { cipher: key.subarray(base, base + 64), hmac: key.subarray(base + 64, base + KEY_LEN) };
}

/** The send and receive keys of a static key used in `direction`. */
export function directionalKeys(key: Buffer, direction: KeyDirection): DirectionalKeys {
  if (direction === undefined) return { send: keyPart(key, 0), receive: keyPart(key, 0) };
  return direction === 0
    ? { send: keyPart(key, 0), receive: keyPart(key, 1) }
    : { send: keyPart(key, 1), receive: keyPart(key, 0) };
}

/** The bytes of a PEM block named `name` (e.g. "OpenVPN tls-crypt-v2 server key"). */
export function parsePem(text: string, name: string, what = 'key file'): Buffer {
  const begin = `-----BEGIN ${name}-----`;
  const end = `-----END ${name}-----`;
  const b = text.indexOf(begin);
  const e = text.indexOf(end);
  if (b < 0 || e < b) throw new WrapKeyError(`${what}: no '${begin}' ... '${end}' block`);
  const body = text.slice(b + begin.length, e).replace(/\s+/g, '');
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(body)) throw new WrapKeyError(`${what}: the ${name} block is not base64`);
  return Buffer.from(body, 'base64');
}

/** A PEM block as OpenVPN writes one (base64, 64 characters a line). */
export function formatPem(name: string, bytes: Buffer): string {
  const b64 = bytes.toString('base64');
  const lines = [];
  for (let i = 0; i < b64.length; i += 64) lines.push(b64.slice(i, i + 64));
  return `-----BEGIN ${name}-----\n${lines.join('\n')}\n-----END ${name}-----\n`;
}
