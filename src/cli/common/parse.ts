/**
 * Parsers for command-line arguments shared by the CLI tools. Each returns a typed
 * value or throws an ArgumentError whose message names the argument, quotes what was
 * given and says what is expected, e.g. `invalid peer id "abc": expected 0..16777215`.
 */
import { isIP } from 'node:net';
import { readFileSync } from 'node:fs';
import type { CipherAlg, DeviceMode, KeySlot } from '../../datapath/types.js';
import { ArgumentError } from './errors.js';

export const MAX_PEER_ID = 0xffffff;
export const MAX_KEY_ID = 7;
/** Linux IFNAMSIZ - 1. */
export const MAX_IFNAME_LEN = 15;

const DECIMAL = /^[0-9]+$/;

/** An unsigned decimal integer in [min, max]; `what` names the argument in errors. */
export function parseUInt(text: string, what: string, min: number, max: number): number {
  const value = DECIMAL.test(text) ? Number(text) : NaN;
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    throw new ArgumentError(`invalid ${what} "${text}": expected ${min}..${max}`);
  }
  return value;
}

/** A peer id: 0..16777215 (24 bits on the wire). */
export function parsePeerId(text: string, what = 'peer id'): number {
  return parseUInt(text, what, 0, MAX_PEER_ID);
}

/** A tx id, or `none` (symmetric ids): undefined. */
export function parseTxId(text: string): number | undefined {
  if (text === 'none') return undefined;
  if (!DECIMAL.test(text)) {
    throw new ArgumentError(`invalid tx id "${text}": expected 0..${MAX_PEER_ID} or "none"`);
  }
  return parsePeerId(text, 'tx id');
}

/** A UDP/TCP port. Remote ports must be 1..65535; a local port may be 0 (any). */
export function parsePort(text: string, what = 'port', allowZero = false): number {
  return parseUInt(text, what, allowZero ? 0 : 1, 65535);
}

export interface IpAddress {
  address: string;
  family: 4 | 6;
  /** IPv6 scope (interface index), from `addr%<ifindex>` or `addr%<ifname>`. */
  scopeId?: number;
}

function scopeIdOf(scope: string, text: string, what: string): number {
  if (DECIMAL.test(scope)) return parseUInt(scope, `${what} scope`, 0, 0xffffffff);
  if (scope.length === 0 || scope.length > MAX_IFNAME_LEN || scope.includes('/')) {
    throw new ArgumentError(`invalid ${what} "${text}": bad scope "${scope}"`);
  }
  try {
    return Number(readFileSync(`/sys/class/net/${scope}/ifindex`, 'utf8').trim());
  } catch {
    throw new ArgumentError(`invalid ${what} "${text}": no interface "${scope}" for the scope`);
  }
}

/** An IPv4 or IPv6 literal (IPv6 may carry a `%scope`). */
export function parseIpAddress(text: string, what = 'address'): IpAddress {
  const percent = text.indexOf('%');
  const bare = percent >= 0 ? text.slice(0, percent) : text;
  const family = isIP(bare);
  if (family === 4 && percent < 0) return { address: bare, family: 4 };
  if (family === 6) {
    if (percent < 0) return { address: bare, family: 6 };
    return { address: bare, family: 6, scopeId: scopeIdOf(text.slice(percent + 1), text, what) };
  }
  throw new ArgumentError(`invalid ${what} "${text}": expected an IPv4 or IPv6 address`);
}

/** An interface name as Linux accepts it. */
export function parseIfname(text: string): string {
  if (
    text.length === 0 ||
    text.length > MAX_IFNAME_LEN ||
    text === '.' ||
    text === '..' ||
    /[\s/:]/.test(text)
  ) {
    throw new ArgumentError(
      `invalid interface name "${text}": expected 1..${MAX_IFNAME_LEN} characters without space, "/" or ":"`,
    );
  }
  return text;
}

/** `P2P` or `MP` (any case); absent means P2P. */
export function parseMode(text: string | undefined): DeviceMode {
  if (text === undefined) return 'p2p';
  switch (text.toUpperCase()) {
    case 'P2P':
      return 'p2p';
    case 'MP':
      return 'mp';
    default:
      throw new ArgumentError(`invalid mode "${text}": expected P2P or MP`);
  }
}

/** Key slot as the selftests' client numbers it: 1 = primary, 2 = secondary. */
export function parseSlot(text: string): KeySlot {
  if (text === '1') return 'primary';
  if (text === '2') return 'secondary';
  throw new ArgumentError(`invalid key slot "${text}": expected 1 (primary) or 2 (secondary)`);
}

export function parseKeyId(text: string): number {
  return parseUInt(text, 'key id', 0, MAX_KEY_ID);
}

/** `aes` (AES-GCM), `chachapoly` (ChaCha20-Poly1305) or `none`. */
export function parseCipher(text: string): CipherAlg {
  switch (text) {
    case 'aes':
      return 'aes-gcm';
    case 'chachapoly':
      return 'chacha20-poly1305';
    case 'none':
      return 'none';
    default:
      throw new ArgumentError(`invalid cipher "${text}": expected aes, chachapoly or none`);
  }
}

/** Key direction of the classic key file: 0 encrypts with key A, 1 with key B. */
export function parseKeyDirection(text: string): 0 | 1 {
  if (text === '0') return 0;
  if (text === '1') return 1;
  throw new ArgumentError(`invalid key direction "${text}": expected 0 or 1`);
}

/** Peer-id scheme of a peers file: SYMM (peer id both ways) or ASYMM (tx id on transmit). */
export type IdScheme = 'symm' | 'asymm';

export function parseIdScheme(text: string): IdScheme {
  switch (text.toUpperCase()) {
    case 'SYMM':
      return 'symm';
    case 'ASYMM':
      return 'asymm';
    default:
      throw new ArgumentError(`invalid id scheme "${text}": expected SYMM or ASYMM`);
  }
}

/** Keepalive interval or timeout in seconds (0 disables). */
export function parseSeconds(text: string, what: string): number {
  return parseUInt(text, what, 0, 0xffffffff);
}
