/**
 * The bad packets of the injector: each class of datagram a receiving peer must refuse,
 * built from a seeded generator so that a run is reproducible from its seed. Valid DATA_V2
 * packets (for replays, bit flips and wrong peer ids) come from src/wire's DataKey with the
 * test's key file: nothing here encodes DATA_V2 a second time.
 */
import { DataKey, HEADER_SIZE, MAX_KEY_ID, PAYLOAD_OFFSET, PEER_ID_UNDEF, dataV2FirstByte, opcodeOf, OP_DATA_V2 } from '../../src/wire/index.js';

/** The classes, in the order of the report. */
export const CLASSES = [
  'short', // DATA_V2 opcode, 1..7 bytes: shorter than the header
  'header-only', // the 8-byte header of a fresh packet id, nothing after it
  'tag-cut', // header and part of the tag (9..23 bytes)
  'wrong-peer', // a packet sealed for another peer id: valid for the key, only the peer look-up refuses it
  'undef-peer', // valid, peer id 0xFFFFFF (look-up by address) from an address that is not the peer's
  'wrong-key', // a key id no key slot has
  'bit-flip', // a valid packet with a fresh id and one bit of tag or ciphertext flipped
  'forged', // DATA_V2 header with a fresh id, random tag and ciphertext
  'replay', // a valid packet whose id the receiver already accepted
  'oversized', // DATA_V2 with a fresh id, 1500..65507 bytes of random tag and ciphertext
  'garbage', // random bytes (never a DATA_V2 header for the peer)
  'non-data', // any opcode but DATA_V2, random body: the control channel's, not the data path's
  'empty', // a datagram of 0 bytes
] as const;
export type PacketClass = (typeof CLASSES)[number];

/** Relative frequency of each class in the mix (oversized ones are expensive: few). */
const WEIGHTS: Record<PacketClass, number> = {
  short: 6, 'header-only': 4, 'tag-cut': 6, 'wrong-peer': 10, 'undef-peer': 6, 'wrong-key': 10,
  'bit-flip': 12, forged: 10, replay: 12, oversized: 1, garbage: 10, 'non-data': 8, empty: 2,
};

/** Largest UDP payload over IPv4. */
export const MAX_DATAGRAM = 65507;

/** mulberry32: a small seeded generator (reproducible runs, not cryptography). */
export class Rng {
  private s: number;
  constructor(seed: number) {
    this.s = seed >>> 0;
  }
  u32(): number {
    this.s = (this.s + 0x6d2b79f5) >>> 0;
    let t = this.s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }
  /** An integer in [lo, hi]. */
  int(lo: number, hi: number): number {
    return lo + (this.u32() % (hi - lo + 1));
  }
  /** `len` random bytes at buf[off..]: a slice of the seeded pool at a random offset (cheap for large packets). */
  fill(buf: Buffer, off: number, len: number): void {
    const pool = this.pool();
    const start = this.u32() % (pool.length - MAX_DATAGRAM);
    pool.copy(buf, off, start, start + len);
  }

  private poolBytes: Buffer | undefined;
  private pool(): Buffer {
    if (!this.poolBytes) {
      const p = Buffer.alloc(4 * MAX_DATAGRAM);
      for (let i = 0; i < p.length; i += 4) p.writeUInt32LE(this.u32(), i);
      this.poolBytes = p;
    }
    return this.poolBytes;
  }
}

export interface Target {
  /** The peer id the receiver expects on packets from its peer. */
  peerId: number;
  /** The key id of the receiver's only key. */
  keyId: number;
  /** The sender's key (encrypts as the receiver's peer does). */
  key: DataKey;
  /** Highest packet id the receiver has accepted from its peer (ids 1..acceptedUpTo are replays). */
  acceptedUpTo: number;
  /** Plaintext of valid packets: an IPv4 packet that would be delivered if accepted. */
  plaintext: Buffer;
}

export class PacketMaker {
  private readonly cumulative: number[] = [];
  private readonly total: number;

  constructor(
    private readonly rng: Rng,
    private readonly t: Target,
  ) {
    let sum = 0;
    for (const c of CLASSES) this.cumulative.push((sum += WEIGHTS[c]));
    this.total = sum;
    if (t.acceptedUpTo < 1) throw new RangeError('the receiver has accepted no packet yet: nothing to replay');
  }

  /** The class of the next packet of the mix. */
  pick(): PacketClass {
    const r = this.rng.u32() % this.total;
    let i = 0;
    while (r >= this.cumulative[i]!) i++;
    return CLASSES[i]!;
  }

  /** A packet id the receiver has not seen and will not see from its peer during the run. */
  private freshId(): number {
    return 0x80000000 + (this.rng.u32() & 0x7fffffff);
  }

  /** A peer id that is neither the receiver's peer's nor the undefined id. */
  private otherPeerId(): number {
    for (;;) {
      const id = this.rng.u32() & 0xffffff;
      if (id !== this.t.peerId && id !== PEER_ID_UNDEF) return id;
    }
  }

  /** A valid packet with `packetId` for `peerId` at buf[0..]; returns its length. */
  private valid(buf: Buffer, packetId: number, peerId: number): number {
    const p = this.t.plaintext;
    return this.t.key.encryptWithId(packetId, peerId, p, 0, p.length, buf, 0);
  }

  private header(buf: Buffer, keyId: number, peerId: number, packetId: number): void {
    buf[0] = dataV2FirstByte(keyId);
    buf.writeUIntBE(peerId, 1, 3);
    buf.writeUInt32BE(packetId, 4);
  }

  /** Writes one packet of class `c` into buf (MAX_DATAGRAM bytes of room); returns its length. */
  make(c: PacketClass, buf: Buffer): number {
    const rng = this.rng;
    const t = this.t;
    switch (c) {
      case 'short': {
        const n = rng.int(1, HEADER_SIZE - 1);
        rng.fill(buf, 0, n);
        buf[0] = dataV2FirstByte(t.keyId);
        return n;
      }
      case 'header-only':
        this.header(buf, t.keyId, t.peerId, this.freshId());
        return HEADER_SIZE;
      case 'tag-cut': {
        const n = this.valid(buf, this.freshId(), t.peerId);
        return Math.min(n, rng.int(HEADER_SIZE + 1, PAYLOAD_OFFSET - 1));
      }
      case 'wrong-peer':
        return this.valid(buf, this.freshId(), this.otherPeerId());
      case 'undef-peer':
        return this.valid(buf, this.freshId(), PEER_ID_UNDEF);
      case 'wrong-key': {
        const n = this.valid(buf, this.freshId(), t.peerId);
        let k = rng.int(0, MAX_KEY_ID - 1);
        if (k >= t.keyId) k++;
        buf[0] = dataV2FirstByte(k);
        return n;
      }
      case 'bit-flip': {
        const n = this.valid(buf, this.freshId(), t.peerId);
        const bit = rng.int(HEADER_SIZE * 8, n * 8 - 1);
        buf[bit >>> 3]! ^= 1 << (bit & 7);
        return n;
      }
      case 'forged': {
        const n = rng.int(PAYLOAD_OFFSET, 1400);
        this.header(buf, t.keyId, t.peerId, this.freshId());
        rng.fill(buf, HEADER_SIZE, n - HEADER_SIZE);
        return n;
      }
      case 'replay':
        return this.valid(buf, rng.int(1, t.acceptedUpTo), t.peerId);
      case 'oversized': {
        const n = rng.int(1500, MAX_DATAGRAM);
        this.header(buf, t.keyId, t.peerId, this.freshId());
        rng.fill(buf, HEADER_SIZE, n - HEADER_SIZE);
        return n;
      }
      case 'garbage': {
        const n = rng.int(1, 1400);
        rng.fill(buf, 0, n);
        // a random DATA_V2 header for the very peer and key (odds 2^-27) would be a forgery
        // of another class: re-draw the peer id then
        if (n >= 4 && opcodeOf(buf[0]!) === OP_DATA_V2 && buf.readUIntBE(1, 3) === t.peerId) buf[3] ^= 0x80;
        return n;
      }
      case 'non-data': {
        const n = rng.int(1, 300);
        rng.fill(buf, 0, n);
        let op = rng.int(0, 30);
        if (op >= OP_DATA_V2) op++;
        buf[0] = (op << 3) | (buf[0]! & 7);
        return n;
      }
      case 'empty':
        return 0;
    }
  }
}

/** An IPv4/UDP packet from `src` to `dst` port 9 (discard) with `size` bytes of payload. */
export function ipv4UdpPacket(src: Buffer, dst: Buffer, size: number): Buffer {
  const p = Buffer.alloc(28 + size);
  p[0] = 0x45;
  p.writeUInt16BE(p.length, 2);
  p[8] = 64;
  p[9] = 17;
  src.copy(p, 12);
  dst.copy(p, 16);
  let sum = 0;
  for (let i = 0; i < 20; i += 2) sum += p.readUInt16BE(i);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  p.writeUInt16BE(~sum & 0xffff, 10);
  p.writeUInt16BE(40000, 20);
  p.writeUInt16BE(9, 22);
  p.writeUInt16BE(8 + size, 24);
  return p;
}
