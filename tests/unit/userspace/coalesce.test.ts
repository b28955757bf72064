import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { TcpCoalescer, VNET_HDR_LEN } from '../../../src/datapath/userspace/coalesce.js';

const BUF = 70000;

function sum16(p: Buffer, off: number, n: number, sum = 0): number {
  for (let i = 0; i < n; i += 2) sum += (p[off + i]! << 8) | (i + 1 < n ? p[off + i + 1]! : 0);
  return sum;
}
function fold(s: number): number {
  while (s > 0xffff) s = (s & 0xffff) + Math.floor(s / 0x10000);
  return s;
}

interface Seg {
  v6?: boolean;
  seq: number;
  payload: number;
  flags?: number;
  sport?: number;
  ack?: number;
  ts?: number;
}

/** A TCP segment with valid IP and TCP checksums (12 bytes of timestamp-like options). */
function segment(s: Seg): Buffer {
  const ip = s.v6 ? 40 : 20;
  const thl = 32;
  const len = ip + thl + s.payload;
  const p = Buffer.alloc(len);
  if (s.v6) {
    p.writeUInt32BE(0x60000000, 0);
    p.writeUInt16BE(thl + s.payload, 4);
    p[6] = 6;
    p[7] = 64;
    Buffer.from('fd000000000000000000000000000001', 'hex').copy(p, 8);
    Buffer.from('fd000000000000000000000000000002', 'hex').copy(p, 24);
  } else {
    p[0] = 0x45;
    p.writeUInt16BE(len, 2);
    p.writeUInt16BE(0x1234, 4);
    p.writeUInt16BE(0x4000, 6); // DF
    p[8] = 64;
    p[9] = 6;
    Buffer.from([10, 0, 0, 1, 10, 0, 0, 2]).copy(p, 12);
    p.writeUInt16BE(~fold(sum16(p, 0, 20)) & 0xffff, 10);
  }
  p.writeUInt16BE(s.sport ?? 40000, ip);
  p.writeUInt16BE(5201, ip + 2);
  p.writeUInt32BE(s.seq >>> 0, ip + 4);
  p.writeUInt32BE(s.ack ?? 777, ip + 8);
  p[ip + 12] = (thl / 4) << 4;
  p[ip + 13] = s.flags ?? 0x10;
  p.writeUInt16BE(500, ip + 14);
  p.writeUInt32BE(0x0101080a, ip + 20);
  p.writeUInt32BE(s.ts ?? 1, ip + 24);
  for (let i = 0; i < s.payload; i++) p[ip + thl + i] = (s.seq + i) & 0xff;
  p.writeUInt16BE(~fold(pseudo(p, ip, thl + s.payload) + sum16(p, ip, thl + s.payload)) & 0xffff, ip + 16);
  return p;
}

function pseudo(p: Buffer, ip: number, tcpLen: number): number {
  return ip === 20 ? sum16(p, 12, 8, 6 + tcpLen) : sum16(p, 8, 32, 6 + tcpLen);
}

/** Runs the packets through a coalescer as the device does; returns the written entries. */
function run(packets: Buffer[]): { co: TcpCoalescer; out: Buffer[]; count: number } {
  const co = new TcpCoalescer(32);
  const bufs = Array.from({ length: 32 }, () => Buffer.alloc(BUF));
  const lens = new Uint32Array(32);
  let count = 0;
  for (const p of packets) {
    const dst = bufs[count]!;
    p.copy(dst);
    if (co.merge(bufs, lens, dst, p.length)) continue;
    lens[count] = p.length;
    co.start(count, dst, p.length);
    count++;
  }
  co.finalize(bufs, lens, count);
  return { co, out: bufs.slice(0, count).map((b, i) => b.subarray(0, lens[i]!)), count };
}

/** The packet as the kernel completes it (NEEDS_CSUM: checksum over csum_start..end). */
function complete(p: Buffer, hdr: Buffer): Buffer {
  const q = Buffer.from(p);
  const start = hdr.readUInt16LE(6);
  const off = hdr.readUInt16LE(8);
  q.writeUInt16BE(~fold(sum16(q, start, q.length - start)) & 0xffff, start + off);
  return q;
}

function checksOk(p: Buffer): boolean {
  const ip = p[0]! >>> 4 === 4 ? 20 : 40;
  if (ip === 20 && fold(sum16(p, 0, 20)) !== 0xffff) return false;
  return fold(pseudo(p, ip, p.length - ip) + sum16(p, ip, p.length - ip)) === 0xffff;
}

for (const v6 of [false, true]) {
  const fam = v6 ? 'IPv6' : 'IPv4';
  test(`${fam}: in-order equal segments merge into one GSO packet the kernel can complete`, () => {
    const segs = [0, 1, 2, 3].map((i) => segment({ v6, seq: 1000 + i * 1000, payload: 1000, flags: i === 3 ? 0x18 : 0x10 }));
    const { co, out, count } = run(segs);
    assert.is(count, 1);
    const ip = v6 ? 40 : 20;
    const p = out[0]!;
    assert.is(p.length, ip + 32 + 4000);
    for (let i = 0; i < 4000; i++) if (p[ip + 32 + i] !== ((1000 + i) & 0xff)) assert.unreachable(`payload byte ${i}`);
    assert.is(p[ip + 13], 0x18, 'PSH of the last segment kept');
    const h = co.hdrs.subarray(0, VNET_HDR_LEN);
    assert.is(h[0], 1, 'NEEDS_CSUM');
    assert.is(h[1], v6 ? 4 : 1, 'gso type');
    assert.is(h.readUInt16LE(2), ip + 32, 'hdr_len');
    assert.is(h.readUInt16LE(4), 1000, 'gso_size');
    assert.is(h.readUInt16LE(6), ip, 'csum_start');
    assert.is(h.readUInt16LE(8), 16, 'csum_offset');
    assert.ok(checksOk(complete(p, h)), 'checksums valid once completed');
  });

  test(`${fam}: a single segment and non-continuations are written as they came`, () => {
    const a = segment({ v6, seq: 1, payload: 500 });
    const single = run([a]);
    assert.is(single.count, 1);
    assert.ok(single.out[0]!.equals(a), 'a lone segment is untouched');
    const cases: Record<string, Seg> = {
      gap: { v6, seq: 502, payload: 500 },
      'other flow': { v6, seq: 501, payload: 500, sport: 1 },
      FIN: { v6, seq: 501, payload: 500, flags: 0x11 },
      'other options': { v6, seq: 501, payload: 500, ts: 9 },
      'other ack': { v6, seq: 501, payload: 500, ack: 1 },
      'no payload': { v6, seq: 501, payload: 0 },
    };
    for (const [why, c] of Object.entries(cases)) {
      const b = segment(c);
      const { co, out, count } = run([a, b]);
      assert.is(count, 2, why);
      assert.ok(out[0]!.equals(a) && out[1]!.equals(b), `${why}: bytes unchanged`);
      assert.ok(co.hdrs.subarray(0, 2 * VNET_HDR_LEN).every((x) => x === 0), `${why}: plain packets have zero headers`);
    }
    assert.is(run([a, segment({ v6, seq: 501, payload: 500 })]).count, 1, 'the continuation itself merges');
  });

  test(`${fam}: a shorter segment ends a group; a larger one starts a new one`, () => {
    const { out, count } = run([
      segment({ v6, seq: 0, payload: 1000 }),
      segment({ v6, seq: 1000, payload: 400 }),
      segment({ v6, seq: 1400, payload: 1000 }),
      segment({ v6, seq: 2400, payload: 1000 }),
      segment({ v6, seq: 3400, payload: 1200 }),
    ]);
    assert.is(count, 3);
    const ip = v6 ? 40 : 20;
    assert.equal(out.map((p) => p.length - ip - 32), [1400, 2000, 1200]);
  });
}

test('sequence numbers wrap', () => {
  const { count } = run([segment({ seq: 0xffffff00, payload: 256 }), segment({ seq: 0, payload: 256 })]);
  assert.is(count, 1);
});

test('non-TCP and fragments are never merged', () => {
  const udp = segment({ seq: 0, payload: 100 });
  udp[9] = 17;
  const frag = segment({ seq: 100, payload: 100 });
  frag.writeUInt16BE(0x2000, 6);
  const { count } = run([udp, Buffer.from(udp), frag, segment({ seq: 200, payload: 100 })]);
  assert.is(count, 4);
});

test.run();
