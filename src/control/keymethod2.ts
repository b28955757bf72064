/**
 * Key-method-2 messages, the first TLS plaintext each side sends:
 *   u32 0 · u8 2 · pre_master 48 (client only) · random1 32 · random2 32
 *   · options · username · password · peer_info
 * Strings are u16 length (including the trailing NUL) then the bytes; empty = u16 0.
 * Username, password and peer_info are optional on the wire (a message may end earlier).
 */
import { ControlError } from './errors.js';

export const KEY_METHOD_2 = 2;
export const PRE_MASTER_LEN = 48;
export const RANDOM_LEN = 32;
/** Longest string the decoder accepts (OpenVPN's TLS_OPTIONS_LEN is 2048; peer info is larger). */
const MAX_STRING = 16384;

export interface KeyMethod2 {
  /** Present in the client's message only. */
  preMaster?: Buffer;
  random1: Buffer;
  random2: Buffer;
  options: string;
  username: string;
  /** A Buffer (client, to be zeroed after use) or the decoded text (server). */
  password: string | Buffer;
  peerInfo: string;
}

function writeString(s: string | Buffer): Buffer {
  if (s.length === 0) return Buffer.from([0, 0]);
  const bytes = typeof s === 'string' ? Buffer.from(s, 'utf8') : s;
  const out = Buffer.alloc(2 + bytes.length + 1);
  out.writeUInt16BE(bytes.length + 1, 0);
  bytes.copy(out, 2);
  return out;
}

export function encodeKeyMethod2(m: KeyMethod2, from: 'client' | 'server'): Buffer {
  const head = Buffer.alloc(5);
  head.writeUInt8(KEY_METHOD_2, 4);
  const parts: Buffer[] = [head];
  if (from === 'client') {
    if (m.preMaster?.length !== PRE_MASTER_LEN) throw new RangeError('client key-method-2 needs a 48-byte pre-master');
    parts.push(m.preMaster);
  }
  if (m.random1.length !== RANDOM_LEN || m.random2.length !== RANDOM_LEN) {
    throw new RangeError('key-method-2 randoms must be 32 bytes');
  }
  const password = writeString(m.password);
  parts.push(m.random1, m.random2, writeString(m.options), writeString(m.username), password, writeString(m.peerInfo));
  const out = Buffer.concat(parts);
  if (typeof m.password !== 'string') password.fill(0);
  return out;
}

const fail = (what: string) => new ControlError('key-method', `key-method-2 message from peer: ${what}`);

/**
 * Decodes a complete key-method-2 message sent by `from` at the start of `buf` and says how
 * many bytes it took. Trailing optional strings may be absent; a string cut short is an error
 * (the message travels as one TLS write).
 */
export function decodeKeyMethod2(buf: Buffer, from: 'client' | 'server'): { message: KeyMethod2; length: number } {
  let off = 0;
  const need = (n: number, what: string) => {
    if (buf.length < off + n) throw fail(`truncated in ${what} (${buf.length} bytes)`);
  };
  need(5, 'header');
  if (buf.readUInt32BE(0) !== 0) throw fail('leading u32 is not 0 (key method 1 or garbage)');
  if (buf[4] !== KEY_METHOD_2) throw fail(`key method ${buf[4]} is not 2`);
  off = 5;
  let preMaster: Buffer | undefined;
  if (from === 'client') {
    need(PRE_MASTER_LEN, 'pre-master secret');
    preMaster = Buffer.from(buf.subarray(off, off + PRE_MASTER_LEN));
    off += PRE_MASTER_LEN;
  }
  need(2 * RANDOM_LEN, 'randoms');
  const random1 = Buffer.from(buf.subarray(off, off + RANDOM_LEN));
  const random2 = Buffer.from(buf.subarray(off + RANDOM_LEN, off + 2 * RANDOM_LEN));
  off += 2 * RANDOM_LEN;
  const readString = (what: string, optional: boolean): string => {
    if (optional && off === buf.length) return '';
    need(2, what);
    const len = buf.readUInt16BE(off);
    off += 2;
    if (len === 0) return '';
    if (len > MAX_STRING) throw fail(`${what} length ${len} exceeds ${MAX_STRING}`);
    need(len, what);
    const bytes = buf.subarray(off, off + len);
    off += len;
    if (bytes[len - 1] !== 0) throw fail(`${what} is not NUL-terminated`);
    return bytes.subarray(0, len - 1).toString('utf8');
  };
  const options = readString('options string', false);
  const username = readString('username', true);
  const password = readString('password', true);
  const peerInfo = readString('peer info', true);
  const m: KeyMethod2 = { random1, random2, options, username, password, peerInfo };
  if (preMaster) m.preMaster = preMaster;
  return { message: m, length: off };
}

/** Parses peer info (`KEY=value` lines) into a map; later duplicates win. */
export function parsePeerInfo(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of text.split('\n')) {
    const eq = line.indexOf('=');
    if (eq > 0) out.set(line.slice(0, eq), line.slice(eq + 1));
  }
  return out;
}

export function formatPeerInfo(entries: Iterable<[string, string]>): string {
  let s = '';
  for (const [k, v] of entries) s += `${k}=${v}\n`;
  return s;
}

/** IV_PROTO bits. */
export const IvProto = {
  DATA_V2: 2,
  REQUEST_PUSH: 4,
  TLS_KEY_EXPORT: 8,
  AUTH_PENDING_KW: 16,
  NCP_P2P: 32,
  DNS_OPTION: 64,
  CC_EXIT_NOTIFY: 128,
  AUTH_FAIL_TEMP: 256,
  DYN_TLS_CRYPT: 512,
} as const;
