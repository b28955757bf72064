/**
 * Netlink attributes (struct nlattr, 4-byte aligned TLVs): a writer that builds
 * messages in one growing buffer, and a reader over a received attribute stream.
 */
import { NLA_F_NESTED, NLA_HDRLEN, NLA_TYPE_MASK } from './constants.js';

/** A received attribute whose size or content does not match its type. */
export class AttrDecodeError extends Error {
  override readonly name = 'AttrDecodeError';
}

const align4 = (n: number): number => (n + 3) & ~3;

/** Builds a netlink message (or any attribute stream) into one growing buffer. */
export class NlWriter {
  private buf: Buffer;
  private pos = 0;

  constructor(initialSize = 256) {
    this.buf = Buffer.alloc(initialSize);
  }

  get length(): number {
    return this.pos;
  }

  /** Empties the writer, keeping its buffer for reuse. */
  reset(): this {
    this.pos = 0;
    return this;
  }

  private reserve(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + n) size *= 2;
    const next = Buffer.alloc(size);
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }

  /** Raw bytes (e.g. a fixed family header), padded to 4 bytes. */
  raw(bytes: Uint8Array): this {
    const padded = align4(bytes.length);
    this.reserve(padded);
    this.buf.set(bytes, this.pos);
    this.buf.fill(0, this.pos + bytes.length, this.pos + padded);
    this.pos += padded;
    return this;
  }

  /** Reserves `n` zeroed bytes and returns their offset (for headers patched later). */
  placeholder(n: number): number {
    this.reserve(n);
    const at = this.pos;
    this.buf.fill(0, at, at + n);
    this.pos += n;
    return at;
  }

  /** Writes an attribute header and returns its payload offset. Evaluate it before
   *  `this.buf` when writing the payload: it may replace the buffer. */
  private header(type: number, payloadLen: number): number {
    const total = NLA_HDRLEN + payloadLen;
    this.reserve(align4(total));
    this.buf.writeUInt16LE(total, this.pos);
    this.buf.writeUInt16LE(type, this.pos + 2);
    const at = this.pos + NLA_HDRLEN;
    this.buf.fill(0, at + payloadLen, this.pos + align4(total));
    this.pos += align4(total);
    return at;
  }

  flag(type: number): this {
    this.header(type, 0);
    return this;
  }

  u8(type: number, value: number): this {
    const at = this.header(type, 1);
    this.buf.writeUInt8(value, at);
    return this;
  }

  u16(type: number, value: number): this {
    const at = this.header(type, 2);
    this.buf.writeUInt16LE(value, at);
    return this;
  }

  u32(type: number, value: number): this {
    const at = this.header(type, 4);
    this.buf.writeUInt32LE(value, at);
    return this;
  }

  s32(type: number, value: number): this {
    const at = this.header(type, 4);
    this.buf.writeInt32LE(value, at);
    return this;
  }

  u64(type: number, value: bigint): this {
    const at = this.header(type, 8);
    this.buf.writeBigUInt64LE(value, at);
    return this;
  }

  /** NLA_UINT: 4 bytes when the value fits, else 8. */
  uint(type: number, value: bigint | number): this {
    const v = BigInt(value);
    return v <= 0xffffffffn ? this.u32(type, Number(v)) : this.u64(type, v);
  }

  be16(type: number, value: number): this {
    const at = this.header(type, 2);
    this.buf.writeUInt16BE(value, at);
    return this;
  }

  be32(type: number, value: number): this {
    const at = this.header(type, 4);
    this.buf.writeUInt32BE(value, at);
    return this;
  }

  binary(type: number, value: Uint8Array): this {
    const at = this.header(type, value.length);
    this.buf.set(value, at);
    return this;
  }

  /** NUL-terminated string (NLA_NUL_STRING / NLA_STRING both accept it). */
  string(type: number, value: string): this {
    const bytes = Buffer.from(value, 'utf8');
    const at = this.header(type, bytes.length + 1);
    this.buf.set(bytes, at);
    this.buf[at + bytes.length] = 0;
    return this;
  }

  /** A nested attribute (NLA_F_NESTED set) whose content `body` writes. */
  nest(type: number, body: (w: this) => void): this {
    const start = this.pos;
    this.reserve(NLA_HDRLEN);
    this.pos += NLA_HDRLEN;
    body(this);
    this.buf.writeUInt16LE(this.pos - start, start);
    this.buf.writeUInt16LE(type | NLA_F_NESTED, start + 2);
    return this;
  }

  patchU16(offset: number, value: number): void {
    this.buf.writeUInt16LE(value, offset);
  }

  patchU32(offset: number, value: number): void {
    this.buf.writeUInt32LE(value, offset);
  }

  /** The bytes written so far (a copy sized exactly). */
  finish(): Buffer {
    return Buffer.from(this.buf.subarray(0, this.pos));
  }
}

/** One attribute as found in a stream: type without flag bits, its payload, and where it was. */
export interface RawAttr {
  type: number;
  nested: boolean;
  value: Buffer;
  /** Offset of the attribute header within the parsed buffer. */
  offset: number;
}

/** Splits an attribute stream. A truncated trailing attribute is an error. */
export function splitAttrs(buf: Buffer): RawAttr[] {
  const out: RawAttr[] = [];
  let off = 0;
  while (off + NLA_HDRLEN <= buf.length) {
    const len = buf.readUInt16LE(off);
    const rawType = buf.readUInt16LE(off + 2);
    if (len < NLA_HDRLEN || off + len > buf.length) {
      throw new AttrDecodeError(`attribute ${rawType & NLA_TYPE_MASK} at offset ${off}: length ${len} overruns the ${buf.length}-byte stream`);
    }
    out.push({
      type: rawType & NLA_TYPE_MASK,
      nested: (rawType & NLA_F_NESTED) !== 0,
      value: buf.subarray(off + NLA_HDRLEN, off + len),
      offset: off,
    });
    off += align4(len);
  }
  return out;
}

/** Decoded attributes of one level, looked up by type (the last occurrence wins). */
export class AttrSet {
  readonly list: RawAttr[];
  private readonly byType = new Map<number, Buffer>();

  constructor(
    buf: Buffer,
    /** Shown in decode errors, e.g. "PEER". */
    readonly where = 'message',
  ) {
    this.list = splitAttrs(buf);
    for (const a of this.list) this.byType.set(a.type, a.value);
  }

  has(type: number): boolean {
    return this.byType.has(type);
  }

  get(type: number): Buffer | undefined {
    return this.byType.get(type);
  }

  /** Every occurrence of `type`, in order (for repeated attributes). */
  all(type: number): Buffer[] {
    return this.list.filter((a) => a.type === type).map((a) => a.value);
  }

  private sized(type: number, sizes: readonly number[]): Buffer | undefined {
    const v = this.byType.get(type);
    if (v !== undefined && !sizes.includes(v.length)) {
      throw new AttrDecodeError(`${this.where} attribute ${type}: expected ${sizes.join(' or ')} bytes, got ${v.length}`);
    }
    return v;
  }

  u8(type: number): number | undefined {
    return this.sized(type, [1])?.readUInt8(0);
  }

  u16(type: number): number | undefined {
    return this.sized(type, [2])?.readUInt16LE(0);
  }

  u32(type: number): number | undefined {
    return this.sized(type, [4])?.readUInt32LE(0);
  }

  s32(type: number): number | undefined {
    return this.sized(type, [4])?.readInt32LE(0);
  }

  u64(type: number): bigint | undefined {
    return this.sized(type, [8])?.readBigUInt64LE(0);
  }

  /** NLA_UINT: 4 or 8 bytes. */
  uint(type: number): bigint | undefined {
    const v = this.sized(type, [4, 8]);
    if (v === undefined) return undefined;
    return v.length === 4 ? BigInt(v.readUInt32LE(0)) : v.readBigUInt64LE(0);
  }

  /** An unsigned integer sent as 1, 2 or 4 bytes (senders differ), as a number. */
  anyUint(type: number): number | undefined {
    const v = this.sized(type, [1, 2, 4]);
    if (v === undefined) return undefined;
    return v.length === 1 ? v.readUInt8(0) : v.length === 2 ? v.readUInt16LE(0) : v.readUInt32LE(0);
  }

  be16(type: number): number | undefined {
    return this.sized(type, [2])?.readUInt16BE(0);
  }

  be32(type: number): number | undefined {
    return this.sized(type, [4])?.readUInt32BE(0);
  }

  binary(type: number): Buffer | undefined {
    return this.byType.get(type);
  }

  /** A string attribute, with its NUL terminator (if any) removed. */
  string(type: number): string | undefined {
    const v = this.byType.get(type);
    if (v === undefined) return undefined;
    const end = v.indexOf(0);
    return v.toString('utf8', 0, end < 0 ? v.length : end);
  }

  nested(type: number, name = `${this.where}.${type}`): AttrSet | undefined {
    const v = this.byType.get(type);
    return v === undefined ? undefined : new AttrSet(v, name);
  }

  /** A required attribute: throws a decode error naming it when absent. */
  require<T>(value: T | undefined, name: string): T {
    if (value === undefined) throw new AttrDecodeError(`${this.where}: attribute ${name} missing`);
    return value;
  }
}
